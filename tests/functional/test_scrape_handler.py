"""The scrape function's handler, in-process, on the sample events in events/scrape/, against a
local prometheus_client exporter; EMF captured from stdout."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from promwatch.emf import problems

from tests.conftest import free_port
from tests.support.handlers import import_scrape_handler

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events" / "scrape"


class LambdaContext:
    function_name = "promwatch-scrape"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:promwatch-scrape"
    aws_request_id = "9b0f2c1e-7d4a-4e0b-8f57-2f7c2d1a6e33"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class Exporter:
    """A prometheus_client exporter on a free 127.0.0.1 port."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("http_requests", "Requests.", ["route"], registry=self.registry)
        self.latency = Histogram("http_request_duration_seconds", "Latency.", ["route"],
                                 buckets=(0.1, 0.5, 1.0), registry=self.registry)
        self.port = free_port()
        self.server, self.thread = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def exporter() -> Iterator[Exporter]:
    running = Exporter()
    yield running
    running.close()


@pytest.fixture
def app(exporter: Exporter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """functions/scrape/app.py imported fresh, with a config scraping the exporter (and a down target)."""
    config = tmp_path / "scrape.yaml"
    config.write_text(f"""
scrape_configs:
  - job_name: prod/task-service
    static_configs: [{{targets: ["127.0.0.1:{exporter.port}"]}}]
  - job_name: node
    static_configs: [{{targets: ["127.0.0.1:{free_port()}"]}}]
""")
    yield import_scrape_handler(monkeypatch, config, "scrape_app", stage="test")


def _event(name: str, port: int | None = None) -> dict[str, Any]:
    text = (EVENTS / name).read_text()
    if port is not None:
        text = text.replace("127.0.0.1:3000", f"127.0.0.1:{port}")
    return dict(json.loads(text))


def _documents(out: str) -> list[dict[str, Any]]:
    documents = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    for document in documents:
        assert problems(document) == [], document
    return documents


def _metric(documents: list[dict[str, Any]], name: str, **dims: str) -> list[Any]:
    return [d[name] for d in documents if name in d and all(d.get(k) == v for k, v in dims.items())]


def test_schedule_scrapes_every_job_and_counts_increases(
    app: ModuleType, exporter: Exporter, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an exporter with a counter and a histogram, and a second job whose target is down,
    exporter.requests.labels("/tasks").inc(5)
    # when the schedule fires twice with 3 requests in between,
    first = app.lambda_handler(_event("schedule.json"), LambdaContext())
    capsys.readouterr()
    exporter.requests.labels("/tasks").inc(3)
    for value in (0.05, 0.3, 0.7):
        exporter.latency.labels("/tasks").observe(value)
    second = app.lambda_handler(_event("schedule.json"), LambdaContext())
    documents = _documents(capsys.readouterr().out)
    # then both jobs were scraped, the down one with up=0, and nothing failed the invocation;
    assert (first["targets"], first["up"], first["down"]) == (2, 1, 1)
    assert (second["targets"], second["up"], second["down"]) == (2, 1, 1)
    assert _metric(documents, "up", job="prod/task-service") == [1]
    assert _metric(documents, "up", job="node") == [0]
    # the counter's increase between the scrapes is exactly what happened;
    assert _metric(documents, "http_requests_total", route="/tasks") == [3]
    # the histogram is a distribution of the 3 observations, in namespace = job name;
    (latency,) = [d for d in documents if "http_request_duration_seconds" in d]
    assert latency["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "prod/task-service"
    assert latency["http_request_duration_seconds"]["Count"] == 3
    # and the self-metrics report the failed target.
    (health,) = [d for d in documents if d.get("Component") == "scrape" and d.get("job") == "node"]
    assert (health["TargetsFailed"], health["TargetsUp"], health["Stage"]) == (1, 0, "test")


def test_schedule_restricted_to_one_job(app: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the event that names one job, then only that job is scraped.
    report = app.lambda_handler(_event("schedule-one-job.json"), LambdaContext())
    documents = _documents(capsys.readouterr().out)
    assert {t["job"] for t in report["target_reports"]} == {"prod/task-service"}
    assert not _metric(documents, "up", job="node")


def test_manual_invoke_naming_a_job(app: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a manual invoke {"jobs": ["node"]}, then only node is scraped (and it is down).
    report = app.lambda_handler(_event("manual.json"), LambdaContext())
    assert (report["targets"], report["down"]) == (1, 1)
    assert _metric(_documents(capsys.readouterr().out), "up", job="node") == [0]


def test_sqs_fanout_batch_reports_partial_failures(
    app: ModuleType, exporter: Exporter, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an SQS event with one valid batch (the exporter) and one malformed message,
    event = _event("sqs-fanout.json", port=exporter.port)
    # when handled,
    response = app.lambda_handler(event, LambdaContext())
    documents = _documents(capsys.readouterr().out)
    # then the batch's target is scraped and only the malformed message is a batch item failure.
    assert response == {"batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]}
    assert _metric(documents, "up", job="prod/task-service") == [1]


def test_unknown_job_fails_the_invocation(app: ModuleType) -> None:
    # Given a schedule naming a job the config lacks, then the invocation fails with a clear error.
    from promwatch.scrape import ConfigError

    with pytest.raises(ConfigError, match=r"unknown job.*'nope'.*expected one of"):
        app.lambda_handler({"jobs": ["nope"]}, LambdaContext())
