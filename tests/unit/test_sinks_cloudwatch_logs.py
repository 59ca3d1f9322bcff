"""CloudWatchLogsSink: batching through a fake client, retries and creation with Stubber."""
from __future__ import annotations

import json
import random
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.stub import ANY, Stubber
from promwatch.emf import write_group
from promwatch.limits import (
    LOGS_MAX_BATCH_BYTES,
    LOGS_MAX_BATCH_EVENTS,
    LOGS_MAX_BATCH_SPAN_MS,
    LOGS_MAX_EVENT_BYTES,
)
from promwatch.selfmetrics import self_metrics
from promwatch.sinks import CloudWatchLogsSink, SinkDeliveryError
from promwatch.sinks.batching import LogEvent, event_size

T0 = 1_700_000_000_000
GROUP, STREAM = "/promwatch/test", "stream-1"


def _doc(i: int, timestamp_ms: int = T0, pad: int = 0) -> dict[str, Any]:
    group = self_metrics({"Things": i}, dimensions={"Component": "test"}, timestamp_ms=timestamp_ms)
    (doc,) = write_group(group)
    if pad:
        doc["pad"] = "x" * pad  # a log-only property, as labels kept for Logs Insights are
    return doc


class FakeLogsClient:
    """Records put_log_events calls; answers with the queued rejection infos."""

    class meta:  # mirrors boto3's client.meta
        class events:
            @staticmethod
            def register(*_: object, **__: object) -> None:
                return None

    def __init__(self, rejections: list[dict[str, int]] | None = None) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self._rejections = list(rejections or [])

    def put_log_events(self, **kwargs: Any) -> dict[str, Any]:
        assert (kwargs["logGroupName"], kwargs["logStreamName"]) == (GROUP, STREAM)
        self.calls.append(kwargs["logEvents"])
        info = self._rejections.pop(0) if self._rejections else None
        return {"rejectedLogEventsInfo": info} if info else {}


def _stubbed() -> tuple[Any, Stubber]:
    client = boto3.client(
        "logs", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    return client, Stubber(client)


def _sink(client: Any, sleeps: list[float] | None = None, **kw: Any) -> CloudWatchLogsSink:
    return CloudWatchLogsSink(
        GROUP,
        STREAM,
        client=client,
        sleep=(sleeps.append if sleeps is not None else lambda _: None),
        clock=lambda: T0 / 1000,
        rng=random.Random(7),
        **kw,
    )


def test_documents_are_sent_in_chronological_order_with_their_emf_timestamps() -> None:
    # given documents written out of time order
    client = FakeLogsClient()
    sink = _sink(client)
    # when written and flushed
    sink.write([_doc(2, T0 + 2000), _doc(0, T0), _doc(1, T0 + 1000)])
    sink.flush()
    # then one call carries them in chronological order, timestamps from _aws.Timestamp
    (events,) = client.calls
    assert [e["timestamp"] for e in events] == [T0, T0 + 1000, T0 + 2000]
    assert [json.loads(e["message"])["Things"] for e in events] == [0, 1, 2]
    assert sink.stats.written == 3


def test_document_without_timestamp_gets_the_clock_time() -> None:
    # given a plain document with no _aws block
    client = FakeLogsClient()
    sink = _sink(client)
    # when sent, then its event carries the injected clock's time
    sink.write([{"message": "hi"}])
    sink.flush()
    assert client.calls[0][0]["timestamp"] == T0


def test_event_count_limit_splits_calls_exactly() -> None:
    # given one more small document than a batch may hold
    client = FakeLogsClient()
    sink = _sink(client)
    # when written (the full buffer sends itself) and flushed
    sink.write([{"i": i} for i in range(LOGS_MAX_BATCH_EVENTS + 1)])
    sink.flush()
    # then the calls hold the limit, then the rest
    assert [len(c) for c in client.calls] == [LOGS_MAX_BATCH_EVENTS, 1]


def test_byte_limit_splits_calls_and_no_call_exceeds_it() -> None:
    # given documents of ~200 KB, five of which exceed 1 MiB together
    client = FakeLogsClient()
    sink = _sink(client)
    docs = [_doc(i, pad=200_000) for i in range(12)]
    # when written and flushed
    sink.write(docs)
    sink.flush()
    # then every call fits 1 MiB and every document went out once
    sizes = [sum(event_size(LogEvent(e["timestamp"], e["message"])) for e in call) for call in client.calls]
    assert all(size <= LOGS_MAX_BATCH_BYTES for size in sizes)
    assert [len(c) for c in client.calls] == [5, 5, 2]
    assert sink.stats.written == 12


def test_span_limit_splits_calls() -> None:
    # given documents 24 hours apart (a backfill)
    client = FakeLogsClient()
    sink = _sink(client)
    sink.write([_doc(0, T0), _doc(1, T0 + LOGS_MAX_BATCH_SPAN_MS)])
    sink.flush()
    # then they go in separate calls
    assert [len(c) for c in client.calls] == [1, 1]


def test_oversized_document_is_refused_and_the_others_go_through() -> None:
    # given one document larger than a log event may be among two good ones
    client = FakeLogsClient()
    sink = _sink(client)
    sink.write([_doc(0), {**_doc(1), "pad": "x" * LOGS_MAX_EVENT_BYTES}, _doc(2)])
    sink.flush()
    # then the good ones are sent and the big one is counted as too large
    assert [json.loads(e["message"])["Things"] for e in client.calls[0]] == [0, 2]
    assert sink.rejections == {"too_large": 1}
    assert (sink.stats.written, sink.stats.rejected) == (2, 1)


def test_rejected_events_are_counted_by_reason_and_not_retried() -> None:
    # given CloudWatch refusing the first two events as too old and the last as too new
    client = FakeLogsClient([{"tooOldLogEventEndIndex": 2, "tooNewLogEventStartIndex": 4}])
    sink = _sink(client)
    sink.write([_doc(i, T0 + i) for i in range(5)])
    sink.flush()
    # then they are reported, the others counted as written, and nothing is re-sent
    assert len(client.calls) == 1
    assert sink.rejections == {"too_old": 2, "too_new": 1}
    assert (sink.stats.written, sink.stats.rejected) == (2, 3)


def test_expired_and_too_old_overlap_counts_each_event_once() -> None:
    # given the same events both expired and too old
    client = FakeLogsClient([{"expiredLogEventEndIndex": 2, "tooOldLogEventEndIndex": 3}])
    sink = _sink(client)
    sink.write([_doc(i, T0 + i) for i in range(4)])
    sink.flush()
    # then each refused event is counted once
    assert sink.rejections == {"expired": 2, "too_old": 1}
    assert sink.stats.written == 1


def test_throttling_is_retried_with_full_jitter_backoff_then_succeeds() -> None:
    # given PutLogEvents throttled twice, then a 503, then accepted
    client, stub = _stubbed()
    expected = {"logGroupName": GROUP, "logStreamName": STREAM, "logEvents": ANY}
    stub.add_client_error("put_log_events", "ThrottlingException", http_status_code=400, expected_params=expected)
    stub.add_client_error("put_log_events", "ThrottlingException", http_status_code=400, expected_params=expected)
    stub.add_client_error("put_log_events", "ServiceUnavailableException", http_status_code=503)
    stub.add_response("put_log_events", {"nextSequenceToken": "1"}, expected)
    sleeps: list[float] = []
    sink = _sink(client, sleeps, base_delay=0.5, max_delay=1.5)
    # when a document is sent
    with stub:
        sink.write([_doc(0)])
        sink.flush()
        stub.assert_no_pending_responses()
    # then it waited three times, each within its exponential, capped window
    assert len(sleeps) == 3
    for attempt, wait in enumerate(sleeps):
        assert 0.0 <= wait <= min(1.5, 0.5 * 2**attempt)
    assert sink.stats.written == 1


def test_only_the_failed_batch_is_resent() -> None:
    # given two batches (24 h apart) where the second is throttled once
    client, stub = _stubbed()
    stub.add_response("put_log_events", {})
    stub.add_client_error("put_log_events", "ThrottlingException", http_status_code=400)
    stub.add_response("put_log_events", {})
    sent: list[int] = []
    client.meta.events.register(
        "provide-client-params.logs.PutLogEvents", lambda params, **_: sent.append(len(params["logEvents"]))
    )
    sink = _sink(client)
    # when both are flushed
    with stub:
        sink.write([_doc(0, T0), _doc(1, T0 + 1), _doc(2, T0 + LOGS_MAX_BATCH_SPAN_MS)])
        sink.flush()
        stub.assert_no_pending_responses()
    # then the first batch went once and only the one-event second batch was repeated
    assert sent == [2, 1, 1]


def test_exhausted_retries_raise_after_the_other_batches_were_delivered() -> None:
    # given a first batch that is always throttled and a second that is accepted
    client, stub = _stubbed()
    for _ in range(3):
        stub.add_client_error("put_log_events", "ThrottlingException", http_status_code=400)
    stub.add_response("put_log_events", {})
    sink = _sink(client, max_attempts=3)
    sink.write([_doc(0, T0)], ticket="job|a")
    sink.write([_doc(1, T0 + LOGS_MAX_BATCH_SPAN_MS)], ticket="job|b")
    # when flushed, then the failure is raised with the undelivered count and the ticket of
    # what was lost, after the second went
    with stub, pytest.raises(SinkDeliveryError, match="1 of 2 EMF documents") as info:
        sink.flush()
    stub.assert_no_pending_responses()
    assert info.value.undelivered == 1 and info.value.failed_tickets == {"job|a"}
    assert (sink.stats.written, sink.stats.failed) == (1, 1)


def test_client_errors_are_not_retried() -> None:
    # given a request CloudWatch refuses as invalid
    client, stub = _stubbed()
    stub.add_client_error("put_log_events", "InvalidParameterException", http_status_code=400)
    sleeps: list[float] = []
    sink = _sink(client, sleeps)
    sink.write([_doc(0)])
    # when flushed, then it fails at once, without waiting
    with stub, pytest.raises(SinkDeliveryError):
        sink.flush()
    assert sleeps == []


def test_missing_group_and_stream_are_created_on_demand() -> None:
    # given neither the stream nor the group exists
    client, stub = _stubbed()
    names = {"logGroupName": GROUP, "logStreamName": STREAM}
    stub.add_client_error("put_log_events", "ResourceNotFoundException", http_status_code=400)
    stub.add_client_error("create_log_stream", "ResourceNotFoundException", http_status_code=400, expected_params=names)
    stub.add_response("create_log_group", {}, {"logGroupName": GROUP})
    stub.add_response("create_log_stream", {}, names)
    stub.add_response("put_log_events", {})
    sink = _sink(client)
    # when a document is sent
    with stub:
        sink.write([_doc(0)])
        sink.flush()
        stub.assert_no_pending_responses()
    # then the group, then the stream were created and the document delivered
    assert sink.stats.written == 1


def test_stream_created_concurrently_is_tolerated() -> None:
    # given the stream is missing at first but another writer creates it meanwhile
    client, stub = _stubbed()
    stub.add_client_error("put_log_events", "ResourceNotFoundException", http_status_code=400)
    stub.add_client_error("create_log_stream", "ResourceAlreadyExistsException", http_status_code=400)
    stub.add_response("put_log_events", {})
    sink = _sink(client)
    # when sent, then it is delivered without error
    with stub:
        sink.write([_doc(0)])
        sink.flush()
        stub.assert_no_pending_responses()
    assert sink.stats.written == 1


def test_put_log_events_requests_carry_the_emf_header() -> None:
    # given a real client whose sends are intercepted before they leave
    client, _ = _stubbed()
    seen: list[dict[str, Any]] = []

    class _Raw:
        def stream(self, **_: Any) -> Any:
            return iter([b"{}"])

    def intercept(request: Any, **_: Any) -> AWSResponse:
        seen.append({k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()})
        return AWSResponse(request.url, 200, HTTPHeaders(), _Raw())

    client.meta.events.register("before-send.logs.PutLogEvents", intercept)
    sink = _sink(client)
    # when the sink sends
    sink.write([_doc(0)])
    sink.flush()
    # then the request carried x-amzn-logs-format: json/emf
    assert len(seen) == 1
    assert seen[0]["x-amzn-logs-format"] == "json/emf"
