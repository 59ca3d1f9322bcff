"""A target's admitted series (``max_series``) in the DynamoDB state table (a moto server): they
survive a cold start, are committed only with delivered documents, and a full budget's set fits."""
from __future__ import annotations

from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

import pytest
from promwatch.scrape import ScrapeRuntime, ScrapeSettings
from promwatch.scrape.budget import MAX_SERIES_BUDGET
from promwatch.scrape.runtime import CycleDeliveryError
from promwatch.sinks import SinkDeliveryError
from promwatch.state import DynamoDBStateStore, TargetBaselines
from promwatch.state.dynamodb import PART_BYTES
from promwatch.state.record import compress_baselines

from tests.support.pageserver import PageServer

JOB = "app"
BUDGET = 5


class Page:
    """The target's series: one ``sessions`` gauge per user in ``users``."""

    users: tuple[str, ...] = ()


def _page(_: int) -> str:
    return "# TYPE sessions gauge\n" + "".join(f'sessions{{user="{user}"}} 1\n' for user in Page.users)


@pytest.fixture
def target() -> Iterator[str]:
    Page.users = ()
    with PageServer(_page) as server:
        yield server.target


class Collect:
    """A sink keeping what it was given; ``failing`` makes its flush fail for every ticket."""

    def __init__(self, *, failing: bool = False) -> None:
        self.documents: list[dict[str, Any]] = []
        self.failing = failing
        self.tickets: set[Hashable] = set()

    def write(self, documents: list[dict[str, Any]], *, ticket: Hashable = None) -> None:
        self.documents.extend(documents)
        self.tickets.add(ticket)

    def flush(self) -> None:
        if self.failing:
            raise SinkDeliveryError("the log group is gone", failed_tickets=self.tickets, undelivered=1)


def runtime(table: str, config: Path, sink: Collect) -> ScrapeRuntime:
    """A runtime as a cold execution environment makes it: its own state store, empty warm memory."""
    return ScrapeRuntime(ScrapeSettings(config_source=str(config), state_table=table, config_ttl_seconds=0),
                         state_store=DynamoDBStateStore(table), sink=sink)


def users(sink: Collect) -> list[str]:
    return [d["user"] for d in sink.documents if "sessions" in d]


@pytest.fixture
def config(tmp_path: Path, target: str) -> Path:
    path = tmp_path / "scrape.yaml"
    path.write_text(f"scrape_configs: [{{job_name: {JOB}, max_series: {BUDGET}, "
                    f"static_configs: [{{targets: ['{target}']}}]}}]")
    return path


def test_the_admitted_series_survive_a_cold_start(table: str, config: Path) -> None:
    # Given a runtime that admitted 5 of a target's series, and committed them with their documents,
    Page.users = tuple(f"a{i}" for i in range(8))
    warm = Collect()
    runtime(table, config, warm).handle({})
    assert users(warm) == ["a0", "a1", "a2", "a3", "a4"]
    # when a new execution environment (a cold start: new store, empty memory) scrapes the target
    # whose page now lists other users first,
    Page.users = tuple(f"b{i}" for i in range(20)) + tuple(f"a{i}" for i in range(8))
    cold = Collect()
    report = runtime(table, config, cold).handle({})
    # then the series admitted before keep flowing, and none of the new ones is published.
    assert users(cold) == ["a0", "a1", "a2", "a3", "a4"]
    assert report["dropped_samples"] == {"series_budget": 23}


def test_an_undelivered_scrape_commits_no_admission(table: str, config: Path) -> None:
    # Given a first scrape whose documents could not be delivered,
    Page.users = ("a0", "a1")
    with pytest.raises(CycleDeliveryError, match="could not be delivered"):
        runtime(table, config, Collect(failing=True)).handle({})
    # when the next scrape (a cold start) meets other users first,
    Page.users = ("b0", "b1", "b2", "b3", "b4", "a0", "a1")
    delivered = Collect()
    runtime(table, config, delivered).handle({})
    # then the slots were free: what was never published took none.
    assert users(delivered) == ["b0", "b1", "b2", "b3", "b4"]


def test_a_full_budget_of_admitted_series_fits_the_item_parts(table: str) -> None:
    # Given baselines holding the largest admitted set a budget allows,
    t = 1_800_000_000_000
    admitted = {(i * 0x9E3779B97F4A7C15) % 2**64: t - (i % 7) * 60_000 for i in range(MAX_SERIES_BUDGET)}
    store = DynamoDBStateStore(table)
    # when it is saved (over the part size: several items) and read back by another store,
    store.save(JOB, "10.0.0.1:9100", TargetBaselines(t, admitted_series=admitted), expected_version=0)
    loaded = DynamoDBStateStore(table).load(JOB, "10.0.0.1:9100").baselines
    # then every series and when it was seen come back.
    assert loaded is not None and loaded.admitted_series == admitted
    assert len(compress_baselines(TargetBaselines(t, admitted_series=admitted))) > PART_BYTES
