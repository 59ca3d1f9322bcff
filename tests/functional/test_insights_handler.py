"""The insights function's handler, in-process, on the sample events in events/insights/."""
from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from promwatch.emf import problems
from promwatch.insights import BackfillError, InsightsRuntime, InsightsSettings, RulesError
from promwatch.sinks import CloudWatchLogsSink, StdoutSink

from tests.support.handlers import import_handler

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events" / "insights"
FIXTURES = ROOT / "tests" / "fixtures" / "insights"
ROLLUPS = "ContainerInsights/Rollups"
NOW = 1_795_179_600.0  # 2026-11-20T13:00:00Z, an hour after the backfill event's end


class LambdaContext:
    function_name = "promwatch-insights"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:promwatch-insights"
    aws_request_id = "3f1c9a52-4b7e-4c1d-9d0e-6a2b8c7d5e41"

    def __init__(self, remaining_ms: int = 300_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """functions/insights/app.py, imported fresh, with the repository's rules and stdout output."""
    monkeypatch.setenv("PROMWATCH_INSIGHTS_RULES", str(ROOT / "config" / "insights.yaml"))
    monkeypatch.setenv("PROMWATCH_OUTPUT", "stdout")
    monkeypatch.setenv("PROMWATCH_STAGE", "test")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    module = import_handler("insights", "insights_app")
    yield module


def _documents(text: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]
    return [doc for doc in lines if doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] in (ROLLUPS, "Promwatch")]


def _split(documents: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    data = [d for d in documents if d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == ROLLUPS]
    (health,) = [d for d in documents if d.get("Component") == "insights"]
    for document in documents:
        assert problems(document) == []
    return data, health


def _invoke(app: ModuleType, name: str, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    response = app.lambda_handler(json.loads((EVENTS / name).read_text()), LambdaContext())
    return response, _documents(capsys.readouterr().out)


def test_subscription_event(app: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a Logs subscription event holding both layouts
    response, documents = _invoke(app, "subscription.json", capsys)
    # Then every event is rolled up, the EMF is valid, and the self-metrics say so
    data, health = _split(documents)
    assert response == {"events": 30, "malformed": 0, "documents": len(data)}
    assert {d["RollupRule"] for d in data} == {"namespace_usage", "workload_usage", "team_usage", "rightsizing", "node_cpu_hourly"}
    assert (health["EventsReceived"], health["EventsMalformed"], health["DocumentsWritten"]) == (30, 0, len(data))


def test_malformed_events_do_not_stop_the_batch(app: ModuleType, capsys: pytest.CaptureFixture[str],
                                               caplog: pytest.LogCaptureFixture) -> None:
    # Given the same valid events interleaved with 8 malformed ones
    _, clean = _invoke(app, "subscription.json", capsys)
    response, documents = _invoke(app, "malformed_batch.json", capsys)
    # Then the roll-ups are exactly those of the clean batch, and the 8 are counted and logged
    data, health = _split(documents)
    assert data == _split(clean)[0]
    assert response["malformed"] == 8 and health["EventsMalformed"] == 8
    assert sum("skipped" in record.getMessage() for record in caplog.records) == 8


def test_control_message_is_skipped(app: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the control message CloudWatch Logs sends to check the destination, When handled
    response, documents = _invoke(app, "control_message.json", capsys)
    # Then nothing is rolled up and the self-metrics count it as a control message
    data, health = _split(documents)
    assert data == [] and response["events"] == 0
    assert health["ControlMessages"] == 1


def test_kinesis_event(app: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    # Given Kinesis records: data, a control message, a record that is not gzip, data with 3 bad events
    response, documents = _invoke(app, "kinesis.json", capsys)
    data, health = _split(documents)
    # Then nothing is retried (malformed data is not retryable), and everything is counted
    assert response == {"batchItemFailures": []}
    assert (health["ControlMessages"], health["RecordsMalformed"], health["EventsMalformed"]) == (1, 1, 3)
    assert health["EventsReceived"] == 23 + 7 + 3
    assert data


class FailingSecondWrite(StdoutSink):
    """Fails the second data write, as a throttled PutLogEvents sink would."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def write(self, documents: list[dict[str, Any]], *, ticket: object = None) -> None:
        self.calls += 1
        if self.calls == 2:
            raise OSError("sink unavailable")
        super().write(documents)


def test_kinesis_sink_failure_returns_the_record_and_later_ones(app: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a sink that fails when the second data record (the 4th record) is written
    app.runtime = InsightsRuntime(InsightsSettings(rules=str(ROOT / "config" / "insights.yaml")), sink=FailingSecondWrite())
    event = json.loads((EVENTS / "kinesis.json").read_text())
    # When the batch is handled
    response = app.lambda_handler(event, LambdaContext())
    # Then only that record is handed back for retry (the first one was written and is not)
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][3]["kinesis"]["sequenceNumber"]}]}
    _, health = _split(_documents(capsys.readouterr().out))
    assert health["RecordsFailed"] == 1


class FakeLogs:
    """FilterLogEvents over fixed events, in pages of 4 (like a real log group, paged)."""

    def __init__(self, messages: list[str]) -> None:
        self.events = sorted(
            ({"timestamp": _timestamp(m), "message": m, "logStreamName": "s"} for m in messages),
            key=lambda e: e["timestamp"],
        )
        self.calls: list[dict[str, Any]] = []

    def filter_log_events(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        selected = [e for e in self.events if request["startTime"] <= e["timestamp"] <= request["endTime"]]
        offset = int(request.get("nextToken", 0))
        page = selected[offset : offset + 4]
        more = offset + 4 < len(selected)
        return {"events": page, **({"nextToken": str(offset + 4)} if more else {})}


def _timestamp(message: str) -> int:
    event = json.loads(message)
    return int(event.get("Timestamp") or event["_aws"]["Timestamp"])


def test_backfill_event(app: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the performance log group holding the fixture events, and the clock at 13:00
    messages = [line for name in ("v0_events.jsonl", "v1_events.jsonl") for line in (FIXTURES / name).read_text().splitlines()]
    logs = FakeLogs(messages)
    app.runtime = InsightsRuntime(InsightsSettings(rules=str(ROOT / "config" / "insights.yaml")), logs=logs, clock=lambda: NOW)
    # When the backfill event is handled
    response = app.lambda_handler(json.loads((EVENTS / "backfill.json").read_text()), LambdaContext())
    # Then the three hourly chunks are done, and the documents equal the stream path's for the same events
    result = response["backfill"]
    assert (result["done"], result["chunks_done"], result["chunks_total"], result["events"]) == (True, 3, 3, 30)
    assert {call["logGroupName"] for call in logs.calls} == {"/aws/containerinsights/prod-eks/performance"}
    backfilled = [d for d in _documents(capsys.readouterr().out) if d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == ROLLUPS]
    _, streamed = _invoke(app, "subscription.json", capsys)
    assert sorted(map(json.dumps, backfilled)) == sorted(map(json.dumps, _split(streamed)[0]))


def test_backfill_older_than_14_days_is_refused(app: ModuleType) -> None:
    # Given a runtime whose clock is 2026-11-20T13:00Z
    app.runtime = InsightsRuntime(InsightsSettings(), logs=FakeLogs([]), clock=lambda: NOW)
    # When asked to backfill a day starting 19 days earlier
    event = {"backfill": {"cluster": "prod-eks", "start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"}}
    # Then it is refused, naming the start and the 14-day limit
    with pytest.raises(BackfillError, match=r"2026-11-01T00:00:00Z is older than 14 days"):
        app.lambda_handler(event, LambdaContext())


def test_init_builds_the_runtime_from_the_environment(app: ModuleType) -> None:
    # Given the handler module imported with the fixture's environment (Lambda's INIT)
    # Then its runtime was built there, from the environment, with its sink
    assert isinstance(app.runtime, InsightsRuntime)
    assert (app.runtime.settings.stage, app.runtime.settings.output) == ("test", "stdout")
    assert isinstance(app.runtime.sink, StdoutSink)


def test_init_builds_a_logs_sink_where_the_environment_says(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the handler module imported with a CloudWatch Logs output naming its group and stream
    monkeypatch.setenv("PROMWATCH_INSIGHTS_RULES", str(ROOT / "config" / "insights.yaml"))
    monkeypatch.setenv("PROMWATCH_OUTPUT", "logs:/promwatch/insights-test")
    monkeypatch.setenv("PROMWATCH_STAGE", "test")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    module = import_handler("insights", "insights_app_logs")
    # Then its sink writes to that log group
    sink = module.runtime.sink
    assert isinstance(sink, CloudWatchLogsSink)
    assert sink.log_group == "/promwatch/insights-test" and sink.log_stream


def test_a_bad_rules_source_fails_the_invocation_not_the_init(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Given rules that do not exist
    monkeypatch.setenv("PROMWATCH_INSIGHTS_RULES", str(tmp_path / "missing.yaml"))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    spec = importlib.util.spec_from_file_location("insights_app_bad_rules", ROOT / "functions" / "insights" / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # When the handler module is imported, Then INIT succeeds
    spec.loader.exec_module(module)
    # and the first invocation fails with the rules' error, naming the file
    with pytest.raises(RulesError, match=r"missing\.yaml"):
        module.lambda_handler(json.loads((EVENTS / "subscription.json").read_text()), LambdaContext())


def test_unknown_event_shape_is_an_error(app: ModuleType) -> None:
    from promwatch.insights import EventDecodeError

    # Given a scheduled event, of neither the subscription nor the backfill shape, When handled, Then it is refused
    with pytest.raises(EventDecodeError, match="neither"):
        app.lambda_handler({"detail-type": "Scheduled Event"}, LambdaContext())
