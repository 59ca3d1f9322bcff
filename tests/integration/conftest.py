"""Fixtures of the integration tier (a moto server, through the ``aws`` fixture)."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import boto3
import pytest
from botocore.retries.standard import ExponentialBackoff

from tests.support.faultproxy import FaultProxy
from tests.support.scrapeworld import ScrapeWorld

STATE_TABLE = "promwatch-state"


@pytest.fixture
def table(aws: str) -> str:
    """The counter-baselines table as template.yaml declares it: ``pk`` string key, TTL on ``expires_at``."""
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=STATE_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    client.update_time_to_live(
        TableName=STATE_TABLE, TimeToLiveSpecification={"AttributeName": "expires_at", "Enabled": True}
    )
    return STATE_TABLE


@pytest.fixture
def proxy(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the moto server; boto3 and botocore clients made
    from the environment reach moto through it (clients made with ``endpoint_url=aws`` do not:
    the tests' own set-up and read-back)."""
    running = FaultProxy(aws).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", running.url)
    # botocore's backoff (from 1 s on throttling) kept short: the retries are what is tested.
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.01)
    yield running
    running.close()


@pytest.fixture
def worlds(aws: str, table: str) -> Iterator[Callable[..., ScrapeWorld]]:
    """Makes :class:`ScrapeWorld` s (``worlds(targets, delay=...)``) and stops their targets after the test."""
    made: list[ScrapeWorld] = []

    def make(targets: int = 1, *, delay: float = 0.0) -> ScrapeWorld:
        made.append(ScrapeWorld(aws, table, targets, delay=delay))
        return made[-1]

    yield make
    for world in made:
        world.close()
