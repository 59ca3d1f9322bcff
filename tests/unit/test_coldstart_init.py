"""promwatch.coldstart: INIT without cyclic GC passes, then frozen; clients without boto3."""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest
from promwatch.coldstart import (
    AWS_CONNECT_TIMEOUT_SECONDS,
    AWS_MAX_ATTEMPTS,
    AWS_READ_TIMEOUT_SECONDS,
    aws_client,
    init_phase,
)
from promwatch.state import DynamoDBStateStore


@pytest.fixture
def gc_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()


def test_init_phase_pauses_collection_then_freezes_what_it_built(gc_restored: None) -> None:
    # given collection on and nothing frozen
    gc.enable()
    gc.unfreeze()
    # when a block runs in the init phase
    with init_phase():
        paused = not gc.isenabled()
        built = [{"n": n} for n in range(1000)]
    # then collection was off inside, is on again, and what existed is in the permanent generation
    assert paused and gc.isenabled()
    assert gc.get_freeze_count() >= len(built)


def test_init_phase_that_fails_freezes_nothing_and_restores_collection(gc_restored: None) -> None:
    # given collection on
    gc.enable()
    gc.unfreeze()
    # when the block raises
    with pytest.raises(RuntimeError), init_phase():
        raise RuntimeError("bad settings")
    # then nothing was frozen and collection is back on
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_init_phase_leaves_collection_off_when_it_was_off(gc_restored: None) -> None:
    # given collection already off (a caller pausing it for its own reasons)
    gc.disable()
    with init_phase():
        pass
    # then it stays off
    assert not gc.isenabled()


def test_aws_client_honours_the_endpoint_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # given AWS_ENDPOINT_URL (the local emulator) in the environment
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    # when a client is made, then it talks to that endpoint
    assert aws_client("cloudwatch", region_name="us-east-1").meta.endpoint_url == "http://127.0.0.1:4566"


def test_store_threads_share_one_lazily_made_client(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a store without a client, used by a scrape cycle's worker threads at once
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    store = DynamoDBStateStore("promwatch-test-StateTable")
    start = threading.Barrier(8)
    clients: list[object] = []

    def first_use() -> None:
        start.wait()
        clients.append(store.client)

    workers = [threading.Thread(target=first_use) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # then every thread got the same client
    assert len(clients) == 8 and len({id(c) for c in clients}) == 1


def test_aws_clients_retry_and_time_out_within_an_invocation() -> None:
    # given a client made for the functions, and one for a caller that retries by itself
    client = aws_client("dynamodb", region_name="us-east-1")
    single = aws_client("logs", region_name="us-east-1", max_attempts=1, read_timeout=0.5)
    # then both use standard retries with 3 tries (1 for the second: botocore's "max_attempts"
    # would count retries only), and timeouts far below a 60 s invocation
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": AWS_MAX_ATTEMPTS}
    assert single.meta.config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (
        AWS_CONNECT_TIMEOUT_SECONDS, AWS_READ_TIMEOUT_SECONDS)
    assert single.meta.config.read_timeout == 0.5
    assert AWS_MAX_ATTEMPTS * (AWS_CONNECT_TIMEOUT_SECONDS + AWS_READ_TIMEOUT_SECONDS) < 60
