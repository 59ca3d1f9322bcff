"""The scrape function's handler on events/scrape/backfill-prometheus.json: a Prometheus backfill
as a function invoke, with the named job's emf settings and scrape interval (the server is a
stand-in; tests/e2e/test_backfill_prometheus.py runs the real one)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from promwatch.emf import problems
from promwatch.scrape import ConfigError, ScrapeRuntime, ScrapeSettings
from promwatch.scrape.backfill import Series

from tests.support.handlers import import_scrape_handler

ROOT = Path(__file__).resolve().parents[2]
EVENT = ROOT / "events" / "scrape" / "backfill-prometheus.json"
NOW = datetime.fromisoformat("2026-11-24T00:00:00+00:00").timestamp()
START_MS = int(datetime.fromisoformat("2026-11-20T00:00:00+00:00").timestamp() * 1000)
END_MS = int(datetime.fromisoformat("2026-11-23T00:00:00+00:00").timestamp() * 1000)


class LambdaContext:
    function_name = "promwatch-scrape"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:promwatch-scrape"
    aws_request_id = "0c7a1f3e-52d1-4f8e-9a47-3b2f7d9e1c55"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


class StandIn:
    """The task-service's request counter, +2 every 30 s scrape, as a Prometheus would answer it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stored = [(t, 2.0 * i) for i, t in enumerate(range(START_MS - 3_600_000, END_MS, 30_000))]
        self.selectors: set[str] = set()

    def metadata(self) -> dict[str, str]:
        return {"http_requests": "counter"}

    def samples(self, selector: str, at_ms: int, range_ms: int) -> list[Series]:
        self.selectors.add(selector)
        labels = {"__name__": "http_requests_total", "job": "task-service", "instance": "10.0.1.7:3000", "route": "/tasks"}
        return [Series(labels, [(t, v) for t, v in self.stored if at_ms - range_ms <= t <= at_ms])]


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    config = tmp_path / "scrape.yaml"
    config.write_text("""
scrape_configs:
  - job_name: task-service
    scrape_interval: 5m
    static_configs: [{targets: ["10.0.1.7:3000"]}]
    emf:
      namespace: prod/task-service
""")
    yield import_scrape_handler(monkeypatch, config, "scrape_app_backfill")


def _documents(out: str) -> list[dict[str, Any]]:
    documents = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    assert all(problems(document) == [] for document in documents)
    return documents


def test_backfill_event_writes_the_jobs_periods(app: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the function's runtime reading the stand-in server, its clock a day after the range
    servers: list[StandIn] = []

    def source(url: str) -> StandIn:
        servers.append(StandIn(url))
        return servers[-1]

    app.runtime = ScrapeRuntime(ScrapeSettings.from_env(), clock=lambda: NOW, backfill_source=source)
    # When the sample event is handled
    response = app.lambda_handler(json.loads(EVENT.read_text()), LambdaContext())
    # Then the 3 days are done in 72 hourly chunks, with the job's 5-minute interval as period
    result = response["backfill"]
    assert (result["done"], result["chunks_done"], result["chunks_total"], result["step_seconds"]) == (True, 72, 72, 300)
    assert servers[0].url == "http://prometheus.monitoring.svc:9090" and servers[0].selectors == {'{job="task-service"}'}
    documents = _documents(capsys.readouterr().out)
    # And each 5-minute period holds the 10 scrapes' increase, in the job's namespace
    data = [d for d in documents if "http_requests_total" in d]
    assert len(data) == 864 and {d["http_requests_total"] for d in data} == {20}
    assert {d["_aws"]["CloudWatchMetrics"][0]["Namespace"] for d in data} == {"prod/task-service"}
    assert min(d["_aws"]["Timestamp"] for d in data) == START_MS and result["points_total"] == 864


def test_backfill_event_naming_an_unknown_job_is_refused(app: ModuleType) -> None:
    # given a backfill event naming a job that is not in the scrape config
    event = json.loads(EVENT.read_text())
    event["backfill"]["prometheus"]["job"] = "checkout"
    app.runtime = ScrapeRuntime(ScrapeSettings.from_env(), clock=lambda: NOW, backfill_source=StandIn)
    # when handled, then it is refused naming the job and the ones there are
    with pytest.raises(ConfigError, match="'checkout' is not a job of the config; expected one of \\['task-service'\\]"):
        app.lambda_handler(event, LambdaContext())
