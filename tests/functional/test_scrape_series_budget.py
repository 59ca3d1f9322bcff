"""The scrape handler on a target whose cardinality explodes between two cycles, with a series
budget: what CloudWatch would bill stays within the budget, the series already flowing keep
flowing, and the withheld ones are counted (``DroppedSamples{Reason=series_budget}``,
``ActiveSeries``). EMF captured from stdout."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from promwatch.emf import problems
from promwatch.httpclient import ConnectionPool
from promwatch.scrape import parse_config, run_cycle
from promwatch.scrape.memory import WarmMemory
from promwatch.sinks import MemorySink
from promwatch.state import MemoryStateStore, StateError

from tests.support.canned import CannedPages
from tests.support.handlers import import_handler, import_scrape_handler
from tests.support.pageserver import PageServer

ROOT = Path(__file__).resolve().parents[2]
EVENT = json.loads((ROOT / "events" / "scrape" / "schedule.json").read_text())
BUDGET = 12
STEADY_METRICS = 4  # two counters, one histogram (one distribution), one gauge


def page(served: int, users: int = 0, prefix: str = "u") -> str:
    """The target's page the ``served``-th time (its counters and histogram move on each time);
    after a release that labels sessions by user id, ``users`` more series."""
    return (f"""# TYPE http_requests_total counter
http_requests_total{{route="/tasks"}} {5 * served}
http_requests_total{{route="/health"}} {served}
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{{route="/tasks",le="0.1"}} {served}
http_request_duration_seconds_bucket{{route="/tasks",le="+Inf"}} {2 * served}
http_request_duration_seconds_sum{{route="/tasks"}} {0.3 * served}
http_request_duration_seconds_count{{route="/tasks"}} {2 * served}
# TYPE queue_depth gauge
queue_depth 3
"""
            + "# TYPE user_sessions gauge\n"
            + "".join(f'user_sessions{{user_id="{prefix}{i}"}} {i + 1}\n' for i in range(users)))


class Page:
    """How the target's page grows: ``users`` more series, their ids starting with ``prefix``."""

    users = 0
    prefix = "u"


@pytest.fixture
def port() -> Iterator[int]:
    Page.users, Page.prefix = 0, "u"
    with PageServer(lambda served: page(served, Page.users, Page.prefix)) as server:
        yield server.port


@pytest.fixture
def app(port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """functions/scrape/app.py imported fresh, scraping the page with ``max_series``."""
    config = tmp_path / "scrape.yaml"
    config.write_text(f"""
scrape_configs:
  - job_name: prod/task-service
    max_series: {BUDGET}
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
""")
    yield import_scrape_handler(monkeypatch, config, "scrape_app_budget", stage="test")



class LambdaContext:
    function_name = "promwatch-scrape"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:promwatch-scrape"
    aws_request_id = "3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


SCRAPE_METRICS = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling"}


def billed(documents: list[dict[str, Any]]) -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """The CloudWatch metrics the target's series make: (namespace, name, dimensions), the
    scrape's own metrics left out."""
    metrics = set()
    for document in documents:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            if directive["Namespace"] == "Promwatch":
                continue
            for definition in directive["Metrics"]:
                if definition["Name"] in SCRAPE_METRICS:
                    continue
                for keys in directive["Dimensions"]:
                    dims = tuple(sorted((k, document[k]) for k in keys))
                    metrics.add((directive["Namespace"], definition["Name"], dims))
    return metrics


def invoke(app: ModuleType, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    report = app.lambda_handler(EVENT, LambdaContext())
    assert report["up"] == 1
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    for document in documents:
        assert problems(document) == [], document
    return documents


def self_metric(documents: list[dict[str, Any]], name: str, **dims: str) -> list[Any]:
    """A self-metric's readings (of a distribution, one per target: its maximum)."""
    return [d[name]["Max"] if isinstance(d[name], dict) else d[name] for d in documents
            if d.get("Component") == "scrape" and name in d and all(d.get(k) == v for k, v in dims.items())]


def test_an_explosion_in_cardinality_cannot_multiply_the_bill(
    app: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a steady target scraped under a budget of 12 series (twice: a counter is published
    # from its second scrape on),
    invoke(app, capsys)
    first = invoke(app, capsys)
    assert len(billed(first)) == STEADY_METRICS
    assert self_metric(first, "ActiveSeries", job="prod/task-service") == [STEADY_METRICS]
    # when a release labels sessions by user id: 1,000 new series on the next scrapes, the same
    # users twice and then others,
    Page.users = 1000
    second = invoke(app, capsys)
    third = invoke(app, capsys)
    Page.prefix = "v"
    fourth = invoke(app, capsys)
    # then the metrics CloudWatch would bill over the four cycles stay within the budget,
    every = billed(first) | billed(second) | billed(third) | billed(fourth)
    assert len(every) == BUDGET
    # the steady series kept flowing (the counters' increases included),
    assert all(billed(first) <= billed(cycle) for cycle in (second, third, fourth))
    assert [d["http_requests_total"] for d in second if d.get("route") == "/tasks" and "http_requests_total" in d] == [5]
    # the slots left were filled once and kept: by the same users in the third cycle, and, the
    # first users holding them (for the series retention), by none of the others in the fourth,
    assert billed(third) == billed(second) and billed(fourth) == billed(first)
    # and the withheld values and the series published are reported per job.
    dropped = [self_metric(cycle, "DroppedSamples", job="prod/task-service", Reason="series_budget")
               for cycle in (first, second, third, fourth)]
    assert dropped == [[], [1000 - 8], [1000 - 8], [1000]]
    active = [self_metric(cycle, "ActiveSeries", job="prod/task-service") for cycle in (first, second, third, fourth)]
    assert active == [[STEADY_METRICS], [BUDGET], [BUDGET], [STEADY_METRICS]]


def test_without_a_budget_nothing_is_withheld(app: ModuleType, port: int, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    # Given the same job without max_series (the runtime built afresh from the config),
    config = tmp_path / "scrape.yaml"
    config.write_text(config.read_text().replace(f"    max_series: {BUDGET}\n", ""))
    unbudgeted = import_handler("scrape", "scrape_app_nobudget")
    # when the page explodes, then every series is published (from the second scrape on, for
    # the counters) and no ActiveSeries is reported.
    Page.users = 1000
    invoke(unbudgeted, capsys)
    documents = invoke(unbudgeted, capsys)
    assert len(billed(documents)) == STEADY_METRICS + 1000
    assert not self_metric(documents, "ActiveSeries") and not self_metric(documents, "DroppedSamples")


class FlakyStore(MemoryStateStore):
    """A memory store whose claims fail while ``down`` (the table unreachable)."""

    down = False

    def claim(self, job: str, instance: str, *, owner: str, until_ms: int, now_ms: int) -> bool:
        if self.down:
            raise StateError("could not claim: endpoint unreachable")
        return super().claim(job, instance, owner=owner, until_ms=until_ms, now_ms=now_ms)


def test_when_the_state_store_fails_the_environment_keeps_the_series_it_admitted() -> None:
    # Given a budgeted job whose target's first delivered scrape admitted users a0..a2,
    pages = CannedPages()
    config = parse_config("""
scrape_configs:
  - job_name: app
    max_series: 3
    static_configs: [{targets: ["app.test:9100"]}]
""")
    store, memory = FlakyStore(), WarmMemory()

    def cycle(users: list[str]) -> tuple[list[str], dict[str, int]]:
        pages.pages["app.test:9100", "/metrics"] = (
            "# TYPE sessions gauge\n" + "".join(f'sessions{{user="{u}"}} 1\n' for u in users)).encode()
        sink = MemorySink()
        report = run_cycle(config, state_store=store, sink=sink, pool=ConnectionPool(connect=pages.connect),
                           resolver=lambda host: ["10.0.0.8"], max_workers=1, memory=memory)
        return [d["user"] for d in sink.documents if "sessions" in d], report.dropped_samples()

    assert cycle(["a0", "a1", "a2", "a3"]) == (["a0", "a1", "a2"], {"series_budget": 1})
    # when the state table cannot be reached and the page lists new users first,
    store.down = True
    published, dropped = cycle(["b0", "b1", "b2", "a0", "a1", "a2"])
    # then the gauges still published are those of the series admitted before (this environment's
    # memory of its last commit), not the newcomers.
    assert published == ["a0", "a1", "a2"] and dropped == {"series_budget": 3}
