"""The connection pool (and its name-resolving threads) is made by its owner and passed in:
no module keeps one for the process, and nothing falls back to a hidden shared pool."""
from __future__ import annotations

import inspect
import threading
from typing import Any

import pytest
from promwatch.discovery import DiscoveryEnv
from promwatch.discovery.base import HTTP_POOL, http_pool
from promwatch.httpclient import ConnectionPool, FetchError, FetchRequest, fetch
from promwatch.httpclient.connection import DeadlineExceeded
from promwatch.scrape import parse_config, run_cycle
from promwatch.scrape.runtime import ScrapeRuntime
from promwatch.scrape.settings import ScrapeSettings
from promwatch.sinks import StdoutSink
from promwatch.state import MemoryStateStore

CONFIG = """
scrape_configs:
  - job_name: app
    static_configs: [{targets: ["10.0.0.8:9100"]}]
"""


class _Collect:
    def write(self, docs: list[dict[str, Any]], *, ticket: object = None) -> None:
        return

    def flush(self) -> None:
        return


def test_fetch_has_no_default_pool_to_fall_back_on() -> None:
    # Given fetch's signature, Then the pool is a required argument (no shared pool behind None)
    assert inspect.signature(fetch).parameters["pool"].default is inspect.Parameter.empty
    with pytest.raises(TypeError):
        fetch(FetchRequest(url="http://10.0.0.8:9100/metrics", timeout=1, accept="text/plain"))  # type: ignore[call-arg]


def test_two_cycles_without_a_pool_do_not_share_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a fetch that records the pool it is handed (and finds the target down)
    seen: list[ConnectionPool | None] = []

    def recording_fetch(request: FetchRequest, *, pool: ConnectionPool | None = None, **kwargs: Any) -> Any:
        seen.append(pool)
        raise FetchError("down")

    monkeypatch.setattr("promwatch.scrape.work.fetch", recording_fetch)
    config = parse_config(CONFIG, config_dir=None)
    # When two cycles run without being given a pool
    for _ in range(2):
        run_cycle(config, state_store=MemoryStateStore(), sink=_Collect(), max_workers=1)
    # Then each fetched through a pool of its own
    assert len(seen) == 2 and all(isinstance(pool, ConnectionPool) for pool in seen)
    assert seen[0] is not seen[1]


def test_two_runtimes_keep_pools_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two scrape runtimes of one process (as a test or a tool may make)
    monkeypatch.delenv("AWS_LAMBDA_RUNTIME_API", raising=False)
    first = ScrapeRuntime(ScrapeSettings(), state_store=MemoryStateStore(), sink=StdoutSink())
    second = ScrapeRuntime(ScrapeSettings(), state_store=MemoryStateStore(), sink=StdoutSink())
    # Then neither shares the other's connections or resolver threads
    assert first.pool is not second.pool


def test_a_discovery_environment_keeps_one_pool_of_its_own() -> None:
    # Given two discovery environments
    one, other = DiscoveryEnv(aws_client=lambda service, region: None), DiscoveryEnv(aws_client=lambda s, r: None)
    # When their HTTP pool is asked for twice
    # Then each environment keeps the one it made, in its extras, and no other environment sees it
    assert http_pool(one) is http_pool(one) is one.extras[HTTP_POOL]
    assert http_pool(other) is not http_pool(one)


def test_a_pool_resolves_in_threads_of_its_own_which_closing_ends() -> None:
    # Given a pool and a resolver that notes the thread it runs in
    threads: list[threading.Thread] = []

    def resolver(host: str) -> list[str]:
        threads.append(threading.current_thread())
        return ["10.0.0.8"]

    pool = ConnectionPool()
    # When a name is resolved through it
    assert pool.resolve_within(resolver, "app.test", 5.0) == ["10.0.0.8"]
    # Then it ran in one of the pool's threads, and closing the pool lets that thread end
    (thread,) = threads
    assert thread is not threading.current_thread() and thread.name.startswith("promwatch-dns")
    pool.close()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_resolver_that_hangs_is_cut_by_the_deadline() -> None:
    # Given a resolver that never answers
    release = threading.Event()
    with ConnectionPool() as pool:
        # When it is asked with 10 ms left, Then the deadline is what ends the lookup
        with pytest.raises(DeadlineExceeded, match=r"resolving 'slow\.test' timed out"):
            pool.resolve_within(lambda host: release.wait() and [], "slow.test", 0.01)
        release.set()
