"""The OTLP sink and a scrape cycle sending OTLP, against the local OTLP receiver (in-process):
signing, gzip, retries with Retry-After and backoff within the deadline, 4xx not retried,
partial success counted, and start times committed only for what was delivered."""
from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.credentials import Credentials
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsPartialSuccess,
    ExportMetricsServiceResponse,
)
from promwatch.exposition import Family, Sample
from promwatch.otlp import OtlpSink, ScrapeTarget, sigv4_signer, to_resource_metrics
from promwatch.otlp.sink import (
    MAX_ATTEMPTS,
    MAX_RETRY_AFTER_SECONDS,
    MAX_RETRY_WAIT_SECONDS,
    HttpResponse,
    Urllib3Transport,
)
from promwatch.scrape import parse_config, run_cycle
from promwatch.sinks import SinkDeliveryError, StdoutSink
from promwatch.state import MemoryStateStore
from promwatch_tools.local.otlpreceiver import OtlpReceiver, Reply, running_otlp_receiver, verify_sigv4

from tests.support.pageserver import PageServer

REGION = "us-east-1"
CREDENTIALS = Credentials("testing", "testing")
TARGET = ScrapeTarget("api", "h:1", "http://h:1/metrics", {"job": "api", "instance": "h:1"})


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with running_otlp_receiver(region=REGION) as running:
        yield running


class Clock:
    """Monotonic time that moves only when the sink sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _sink(receiver: OtlpReceiver, clock: Clock, *, credentials: Credentials = CREDENTIALS) -> OtlpSink:
    return OtlpSink(receiver.url, sigv4_signer(REGION, credentials), monotonic=clock.monotonic, sleep=clock.sleep,
                    jitter=lambda low, high: high)


def _resource(value: float = 1.0) -> Any:
    return to_resource_metrics([Family("g", "gauge", "", "", [Sample("g", {}, value)])], target=TARGET,
                               now_ms=1_700_000_000_000, previous_starts={}).resource_metrics


def test_a_request_is_signed_gzipped_protobuf_and_arrives_decoded(receiver: OtlpReceiver) -> None:
    # given a transport that records what it sends, in front of the real one
    sent: list[tuple[dict[str, str], bytes]] = []
    real = Urllib3Transport()

    class Recording:
        def post(self, url: str, headers: dict[str, str], body: bytes, timeout: float) -> HttpResponse:
            sent.append((headers, body))
            return real.post(url, headers, body, timeout)

    sink = OtlpSink(receiver.url, sigv4_signer(REGION, CREDENTIALS), transport=Recording())
    # when a target's metrics are flushed
    sink.add(_resource(4.0), ticket="t")
    sink.flush()
    # then the request was protobuf, gzipped, SigV4-signed for monitoring, and the receiver accepted it
    headers, body = sent[0]
    assert headers["Content-Type"] == "application/x-protobuf" and headers["Content-Encoding"] == "gzip"
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert f"/{REGION}/monitoring/aws4_request" in headers["Authorization"]
    assert gzip.decompress(body)
    assert receiver.refusals == []
    assert [(p.name, p.value) for p in receiver.points()] == [("g", 4.0)]
    assert sink.stats.written == 1


def test_the_receiver_refuses_a_wrong_signature_and_the_sink_does_not_retry_it(receiver: OtlpReceiver) -> None:
    # given a sink signing with another secret
    clock = Clock()
    sink = _sink(receiver, clock, credentials=Credentials("testing", "not-the-secret"))
    sink.add(_resource(), ticket="t")
    # when it flushes, then the delivery fails for that ticket after one try
    with pytest.raises(SinkDeliveryError) as caught:
        sink.flush()
    assert caught.value.failed_tickets == frozenset({"t"})
    assert receiver.attempts == 1 and clock.sleeps == []
    assert receiver.refusals[0][0] == 403 and "signature does not match" in receiver.refusals[0][1]
    assert receiver.points() == []


def test_throttling_waits_what_retry_after_asks_then_delivers(receiver: OtlpReceiver) -> None:
    # given an endpoint that throttles once with Retry-After: 3, then fails with 503 once
    receiver.reply_next(Reply(429, {"Retry-After": "3"}, b"slow down"), Reply(503, {}, b"busy"))
    clock = Clock()
    sink = _sink(receiver, clock)
    sink.add(_resource(), ticket="t")
    # when flushed
    sink.flush()
    # then it waited 3 s, then the first backoff step (full jitter's upper bound here), and delivered
    assert clock.sleeps == [3.0, 1.0]
    assert receiver.attempts == 3 and len(receiver.points()) == 1


def test_server_errors_are_retried_until_the_attempts_run_out(receiver: OtlpReceiver) -> None:
    # given a receiver answering 500 to every attempt
    receiver.reply_next(*[Reply(500, {}, b"oops")] * MAX_ATTEMPTS)
    clock = Clock()
    sink = _sink(receiver, clock)
    # when a batch is flushed
    sink.add(_resource(), ticket="t")
    # then delivery fails after every attempt
    with pytest.raises(SinkDeliveryError):
        sink.flush()
    assert receiver.attempts == MAX_ATTEMPTS
    # and the waits between attempts double from half a second
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_no_retry_outlives_the_deadline(receiver: OtlpReceiver) -> None:
    # given a throttling endpoint asking for 30 s, and 5 s left before the deadline
    receiver.reply_next(Reply(429, {"Retry-After": "30"}))
    clock = Clock()
    sink = _sink(receiver, clock)
    sink.deadline = clock.now + 5
    sink.add(_resource(), ticket="t")
    # then the sink gives up at once rather than sleep past it
    with pytest.raises(SinkDeliveryError):
        sink.flush()
    assert clock.sleeps == [] and receiver.attempts == 1


@pytest.mark.parametrize("retry_after", ["3600", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_a_retry_after_beyond_the_cap_fails_the_request_rather_than_sleeping(
    receiver: OtlpReceiver, caplog: pytest.LogCaptureFixture, retry_after: str
) -> None:
    # given an endpoint asking to come back in an hour (or in 2099), and no deadline (the CLI)
    receiver.reply_next(Reply(503, {"Retry-After": retry_after}, b"maintenance"))
    clock = Clock()
    sink = _sink(receiver, clock)
    sink.add(_resource(), ticket="t")
    # when flushed, then the delivery fails at once, naming the server's value
    with caplog.at_level(logging.ERROR, "promwatch.otlp"), pytest.raises(SinkDeliveryError):
        sink.flush()
    assert clock.sleeps == [] and receiver.attempts == 1
    assert repr(retry_after) in caplog.text and f"{MAX_RETRY_AFTER_SECONDS:.0f} s" in caplog.text


def test_without_a_deadline_one_flush_waits_at_most_the_retry_budget(receiver: OtlpReceiver) -> None:
    # given an endpoint that always asks to retry after the longest wait honoured, and no deadline
    receiver.reply_next(*[Reply(429, {"Retry-After": f"{MAX_RETRY_AFTER_SECONDS:.0f}"})] * MAX_ATTEMPTS)
    clock = Clock()
    sink = _sink(receiver, clock)
    sink.add(_resource(), ticket="a")
    # when flushed
    with pytest.raises(SinkDeliveryError):
        sink.flush()
    # then all its waits add up to no more than the budget
    assert 0 < sum(clock.sleeps) <= MAX_RETRY_WAIT_SECONDS
    assert receiver.attempts < MAX_ATTEMPTS


def test_a_client_error_is_logged_with_the_server_message_and_not_retried(
    receiver: OtlpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    # given a receiver answering 400 with a message
    receiver.reply_next(Reply(400, {"Content-Type": "text/plain"}, b"metric name too long"))
    clock = Clock()
    sink = _sink(receiver, clock)
    # when a batch is flushed
    sink.add(_resource(), ticket="t")
    # then delivery fails
    with caplog.at_level(logging.ERROR, "promwatch.otlp"), pytest.raises(SinkDeliveryError):
        sink.flush()
    # and it was tried once, and the log has the status and the server's message
    assert receiver.attempts == 1
    assert "HTTP 400" in caplog.text and "metric name too long" in caplog.text


def test_partial_success_counts_the_rejected_points_and_logs_the_message(
    receiver: OtlpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    # given a receiver accepting the batch but rejecting two points with a message
    reply = ExportMetricsServiceResponse(partial_success=ExportMetricsPartialSuccess(
        rejected_data_points=2, error_message="2 points too old"))
    receiver.reply_next(Reply(200, {"Content-Type": "application/x-protobuf"}, reply.SerializeToString()))
    sink = _sink(receiver, Clock())
    # when a batch is flushed
    sink.add(_resource(), ticket="t")
    with caplog.at_level(logging.ERROR, "promwatch.otlp"):
        sink.flush()
    # then the rejected points are counted and the message logged
    assert sink.rejected_points == 2
    assert "2 points too old" in caplog.text


def test_verify_sigv4_names_a_wrong_scope() -> None:
    from promwatch_tools.local.otlpreceiver import SignatureProblem

    # given a request signed for eu-west-1
    headers = sigv4_signer("eu-west-1", CREDENTIALS)("http://h/v1/metrics", {"host": "h"}, b"x")
    # when verified for us-east-1, then the problem names the scope expected
    with pytest.raises(SignatureProblem, match="expected us-east-1/monitoring/aws4_request"):
        verify_sigv4("POST", "/v1/metrics", {**headers, "host": "h"}, b"x", access_key="testing",
                     secret_key="testing", region=REGION)


# --- a cycle with both outputs -------------------------------------------------------------

PAGE = b"# TYPE jobs_total counter\njobs_total{queue=\"a\"} %d\n# TYPE temp gauge\ntemp 21.5\n"


class Page:
    """What the target serves: ``PAGE`` with ``value``; ``gets`` counts its GETs."""

    value = 5
    gets = 0


@pytest.fixture
def page() -> Iterator[str]:
    def render(_: int) -> bytes:
        Page.gets += 1
        return PAGE % Page.value

    with PageServer(render) as server:
        yield server.target


def _config(page: str, receiver: OtlpReceiver, outputs: str) -> Any:
    return parse_config(f"""
scrape_configs:
  - job_name: app
    outputs: {outputs}
    static_configs: [{{targets: ['{page}']}}]
""".replace("URL", receiver.url))


def test_a_job_sending_both_commits_start_times_only_when_otlp_was_delivered(
    page: str, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    config = _config(page, receiver, "[emf, {type: otlp, endpoint: URL, region: us-east-1}]")
    store = MemoryStateStore()
    clock = iter(range(1_700_000_000, 1_700_100_000, 60))

    def run() -> Any:
        return run_cycle(config, state_store=store, sink=StdoutSink(), clock=lambda: float(next(clock)))

    # given a first cycle whose OTLP request the endpoint refuses (400)
    receiver.reply_next(Reply(400, {}, b"no"))
    first = run()
    (instance,) = {t.instance for t in first.targets}
    # then the target is undelivered, but the EMF baselines were saved and no start time was
    assert first.targets[0].undelivered and first.undelivered_otlp_requests == 1
    saved, _ = store.load("app", instance)
    assert saved is not None and saved.counters and saved.starts == {}
    # when the next cycle is delivered
    Page.value = 8
    run()
    saved, _ = store.load("app", instance)
    assert saved is not None and len(saved.starts) == 1
    start = receiver.points()[0].start_time_unix_nano
    # and a third sees the counter higher again: the start time is the same
    Page.value = 9
    run()
    counters = [p for p in receiver.points() if p.name == "jobs_total"]
    assert [p.value for p in counters] == [8.0, 9.0]
    assert {p.start_time_unix_nano for p in counters} == {start}
    assert all(p.is_monotonic for p in counters)
    capsys.readouterr()


def test_an_otlp_only_job_writes_no_emf_and_keeps_no_counter_baselines(
    page: str, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    store = MemoryStateStore()
    capsys.readouterr()
    report = run_cycle(_config(page, receiver, "[{type: otlp, endpoint: URL, region: us-east-1}]"),
                       state_store=store, sink=StdoutSink())
    # then no EMF document of the job's data was written (only the cycle's own metrics)
    lines = capsys.readouterr().out.splitlines()
    assert all('"Component":"scrape"' in line.replace(" ", "") for line in lines)
    saved, _ = store.load("app", report.targets[0].instance)
    assert saved is not None and saved.counters == {} and saved.histograms == {} and len(saved.starts) == 1
    assert {p.name for p in receiver.points()} >= {"jobs_total", "temp", "up"}


def test_a_scheduled_invocation_fails_when_otlp_requests_were_not_delivered(
    page: str, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from promwatch.scrape.runtime import CycleDeliveryError, ScrapeRuntime
    from promwatch.scrape.settings import ScrapeSettings

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    config = _config(page, receiver, "[{type: otlp, endpoint: URL, region: us-east-1}]")

    class Loader:
        def load(self, source: str) -> Any:
            return config

    runtime = ScrapeRuntime(ScrapeSettings(), state_store=MemoryStateStore(), sink=StdoutSink(),
                            loader=Loader())  # type: ignore[arg-type]
    # given an endpoint that refuses the cycle's request
    receiver.reply_next(Reply(403, {}, b"denied"))
    # when the schedule fires, then the invocation fails (Lambda's Errors metric), naming the OTLP requests
    with pytest.raises(CycleDeliveryError, match="1 OTLP requests of 1 targets could not be delivered"):
        runtime.handle({"detail": {}})
    capsys.readouterr()


def test_a_job_whose_otlp_output_cannot_be_made_is_reported_and_not_scraped_while_others_go_through(
    page: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from promwatch.scrape.cyclemetrics import self_metric_documents

    # given an EMF job and an OTLP job naming no region, with AWS_REGION unset
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    config = parse_config(f"""
scrape_configs:
  - {{job_name: classic, static_configs: [{{targets: ['{page}']}}]}}
  - {{job_name: otlp-job, outputs: [otlp], static_configs: [{{targets: ['{page}']}}]}}
""")
    store = MemoryStateStore()
    Page.gets = 0
    # when a cycle runs
    with caplog.at_level(logging.ERROR, "promwatch.scrape"):
        report = run_cycle(config, state_store=store, sink=StdoutSink())
    capsys.readouterr()
    reports = {t.job: t for t in report.targets}
    # then the OTLP job's target is reported failed, its error naming the output and the reason
    failed = reports["otlp-job"]
    assert not failed.up and "otlp output" in (failed.error or "") and "no region" in (failed.error or "")
    assert "otlp-job" in caplog.text and "no region" in caplog.text
    # and it was neither fetched nor claimed: its state is untouched and free to claim
    assert Page.gets == 1
    assert store.load("otlp-job", failed.instance)[0] is None
    assert store.claim("otlp-job", failed.instance, owner="next", until_ms=2**40, now_ms=0)
    # and the EMF job went through, its baselines saved
    assert reports["classic"].up and store.load("classic", reports["classic"].instance)[0] is not None
    # and the failure is a self-metric of the job
    documents = self_metric_documents(report, 1_700_000_000_000, None)
    assert [d["TargetsFailed"] for d in documents if d.get("job") == "otlp-job" and "TargetsFailed" in d] == [1]
