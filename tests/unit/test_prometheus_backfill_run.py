"""Backfill from Prometheus, the chunk loop: reads, delivery before progress, resuming, refusals."""
from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from promwatch.emf import EmfSettings
from promwatch.scrape.backfill import (
    PrometheusBackfill,
    PrometheusBackfillError,
    Series,
    parse_request,
    run_backfill,
)
from promwatch.sinks import SinkDeliveryError

MIN = 60_000
HOUR = 60 * MIN
NOW_MS = 1_795_179_600_000  # 2026-11-20T13:00:00Z
START_MS = NOW_MS - 3 * HOUR
LABELS = {"__name__": "req_total", "job": "api", "instance": "a:1"}


def _counter() -> list[tuple[int, float]]:
    """A counter scraped every 15 s from an hour before the range, +1 a scrape, reset to 0 at START + 90 min."""
    samples, value = [], 0.0
    for t in range(START_MS - HOUR, NOW_MS, 15_000):
        value = 0.0 if t == START_MS + 90 * MIN else value + 1.0
        samples.append((t, value))
    return samples


class FakeSource:
    """A Prometheus answering range-selector queries from one stored series, recording each read."""

    def __init__(self, samples: list[tuple[int, float]]) -> None:
        self.stored = samples
        self.reads: list[tuple[str, int, int]] = []

    def metadata(self) -> dict[str, str]:
        return {}

    def samples(self, selector: str, at_ms: int, range_ms: int) -> list[Series]:
        self.reads.append((selector, at_ms, range_ms))
        kept = [(t, v) for t, v in self.stored if at_ms - range_ms <= t <= at_ms]
        return [Series(LABELS, kept)] if kept else []


class ListSink:
    """Keeps the data writes, and the self-metric documents (namespace Promwatch) apart."""

    def __init__(self, fail_on_write: int | None = None) -> None:
        self.documents: list[dict[str, Any]] = []
        self.health: list[dict[str, Any]] = []
        self.writes = 0
        self.fail_on_write = fail_on_write

    def write(self, documents: list[dict[str, Any]], *, ticket: object = None) -> None:
        if documents and documents[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Promwatch":
            self.health.extend(documents)
            return
        self.writes += 1
        if self.writes == self.fail_on_write:
            raise SinkDeliveryError("PutLogEvents failed", undelivered=len(documents))
        self.documents.extend(documents)

    def flush(self) -> None:
        """Nothing is buffered."""


def _request(**extra: Any) -> PrometheusBackfill:
    fields: dict[str, Any] = {"url": "http://prometheus:9090", "match": ['{job="api"}'],
                              "start": datetime.fromtimestamp(START_MS / 1000, UTC),
                              "end": datetime.fromtimestamp(NOW_MS / 1000, UTC)}
    return PrometheusBackfill(**{**fields, **extra})


def _run(request: PrometheusBackfill, source: FakeSource, sink: ListSink) -> Any:
    return run_backfill(request, source=source, sink=sink, settings=EmfSettings(), now_ms=NOW_MS)


def _per_period(sink: ListSink) -> dict[int, float]:
    out: dict[int, float] = {}
    for document in sink.documents:
        stamp = document["_aws"]["Timestamp"]
        assert stamp not in out, f"period {stamp} written twice"
        out[stamp] = document["req_total"]
    return out


def test_whole_range_sums_to_the_samples_increases() -> None:
    # Given 3 hours of a counter with a reset, read in 1-hour chunks
    source, sink = FakeSource(_counter()), ListSink()
    result = _run(_request(), source, sink)
    # Then each minute holds 4 scrapes' increase (the reset's minute: 3 + the post-reset 0), one document each
    periods = _per_period(sink)
    assert len(periods) == 180 and result.done and result.chunks_done == result.chunks_total == 3
    assert sum(periods.values()) == 180 * 4 - 1
    assert periods[START_MS + 90 * MIN] == 3.0
    # And the invocation reports itself in the Promwatch namespace
    (health,) = sink.health
    assert (health["Component"], health["ChunksWritten"], health["DocumentsWritten"], health["DataPoints"]) == (
        "backfill", 3, 180, 180)
    # And each chunk read its hour plus the history before it (series_retention_seconds, an hour),
    # at the chunk's last millisecond
    assert [(at, span) for _, at, span in source.reads] == [
        (START_MS + k * HOUR - 1, 2 * HOUR - 1) for k in (1, 2, 3)]


def test_a_series_back_after_a_gap_across_chunks_counts_its_increase_since_last_seen() -> None:
    # Given a counter missing for 20 minutes across the first chunk boundary (no reset)
    gap = range(START_MS + 55 * MIN, START_MS + 75 * MIN)
    samples = [(t, float(i)) for i, t in enumerate(range(START_MS - HOUR, START_MS + 2 * HOUR, 15_000)) if t not in gap]
    sink = ListSink()
    _run(_request(end=datetime.fromtimestamp((START_MS + 2 * HOUR) / 1000, UTC)), FakeSource(samples), sink)
    # Then the first sample after the gap counts the increase since the last one before it (as the
    # live path's retained baseline would), not its whole value
    periods = _per_period(sink)
    assert periods[START_MS + 75 * MIN] == (540 - 459) + 3 and sum(periods.values()) == samples[-1][1] - samples[239][1]


def test_resuming_with_the_token_writes_every_period_once() -> None:
    # Given a backfill that stopped after one chunk
    source, sink = FakeSource(_counter()), ListSink()
    first = _run(_request(max_chunks=1), source, sink)
    assert (first.done, first.chunks_done, first.next) == (False, 1, "2026-11-20T11:00:00Z")
    # When it resumes with the token
    second = _run(_request(continuation=first.continuation), source, sink)
    # Then the periods are exactly those of a single run, and the totals carry over
    single = ListSink()
    _run(_request(), FakeSource(_counter()), single)
    assert _per_period(sink) == _per_period(single)
    assert second.done and second.documents_total == len(sink.documents) == 180


def test_a_chunk_the_sink_could_not_take_stays_pending(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a sink that fails on the second chunk
    source, sink = FakeSource(_counter()), ListSink(fail_on_write=2)
    first = _run(_request(max_chunks=1), source, sink)
    with pytest.raises(SinkDeliveryError):
        _run(_request(continuation=first.continuation), source, sink)
    # Then the failed invocation still reports itself, past the failed sink (to stdout)
    (report,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (report["Component"], report["ChunksWritten"]) == ("backfill", 0)
    # When the same token is used again (the failed invocation returned none)
    _run(_request(continuation=first.continuation), source, sink)
    # Then every period is there once
    assert len(_per_period(sink)) == 180


def test_a_token_of_another_request_is_refused() -> None:
    # given a continuation issued for one run
    first = _run(_request(max_chunks=1), FakeSource(_counter()), ListSink())
    # and a request for another selection that carries it
    other = PrometheusBackfill(url="http://prometheus:9090", match=['{job="other"}'],
                               start=datetime.fromtimestamp(START_MS / 1000, UTC),
                               end=datetime.fromtimestamp(NOW_MS / 1000, UTC), continuation=first.continuation)
    # when run, then the continuation is refused as another request's
    with pytest.raises(PrometheusBackfillError, match="continuation was issued for request"):
        _run(other, FakeSource(_counter()), ListSink())


def test_a_token_of_a_longer_range_is_refused() -> None:
    # Given a token of a 3-hour backfill, When a request with the same start but an earlier end uses it
    first = _run(_request(max_chunks=1), FakeSource(_counter()), ListSink())
    shorter = _request(end=datetime.fromtimestamp((NOW_MS - HOUR) / 1000, UTC), continuation=first.continuation)
    # Then it is refused: the token would write periods past the request's end
    with pytest.raises(PrometheusBackfillError, match="same url, match, step, job and range"):
        _run(shorter, FakeSource(_counter()), ListSink())


def test_a_resumed_chunk_now_older_than_14_days_is_refused() -> None:
    # Given a token issued near the 14-day boundary, resumed a day later
    start = NOW_MS - 14 * 24 * HOUR + HOUR
    request = PrometheusBackfill(url="http://p:9090", match=["x"], start=datetime.fromtimestamp(start / 1000, UTC),
                                 end=datetime.fromtimestamp((start + 3 * HOUR) / 1000, UTC), max_chunks=1)
    first = run_backfill(request, source=FakeSource([]), sink=ListSink(), settings=EmfSettings(), now_ms=NOW_MS)
    resumed = request.model_copy(update={"continuation": first.continuation})
    with pytest.raises(PrometheusBackfillError, match=r"chunk starting .* older than 14 days"):
        run_backfill(resumed, source=FakeSource([]), sink=ListSink(), settings=EmfSettings(), now_ms=NOW_MS + 24 * HOUR)


def test_dropped_samples_are_counted_by_reason() -> None:
    # Given a counter with NaN samples
    source = FakeSource([(t, math.nan if t % 120_000 == 0 else v) for t, v in _counter()])
    sink = ListSink()
    result = _run(_request(), source, sink)
    # Then they are counted, in the result and as DroppedSamples{Reason=non_finite}
    assert result.dropped == {"non_finite": 90}
    assert [(d["Reason"], d["DroppedSamples"]) for d in sink.health if "Reason" in d] == [("non_finite", 90)]


def test_the_step_sets_the_period() -> None:
    # given a step of 300 seconds
    sink = ListSink()
    # when the counter is backfilled
    result = _run(_request(step_seconds=300), FakeSource(_counter()), sink)
    # then the periods are five minutes: 36 of them in the three hours
    assert result.step_seconds == 300 and len(_per_period(sink)) == 36


@pytest.mark.parametrize("event, message", [
    ({"backfill": {"prometheus": {"url": "http://p", "start": "2026-11-20T00:00:00Z", "end": "2026-11-20T01:00:00Z"}}},
     r"backfill.prometheus.match: Field required"),
    ({"backfill": {"prometheus": {"url": "http://p", "match": [], "start": "x", "end": "y"}}}, "backfill.prometheus.match"),
    ({"backfill": {"cluster": "prod"}}, r"backfill.prometheus: Input should be a valid dictionary"),
])
def test_bad_events_name_the_member(event: dict[str, Any], message: str) -> None:
    # given events missing match, with bad times, or without a prometheus mapping, when parsed, then the member is named
    with pytest.raises(PrometheusBackfillError, match=message):
        parse_request(event)


def test_a_start_older_than_14_days_is_refused_naming_the_boundary() -> None:
    # given a start a minute older than 14 days
    too_old = NOW_MS - 14 * 24 * HOUR - MIN
    request = _request(start=datetime.fromtimestamp(too_old / 1000, UTC), end=datetime.fromtimestamp(START_MS / 1000, UTC))
    # when run, then it is refused naming the oldest start CloudWatch takes
    with pytest.raises(PrometheusBackfillError, match=r"older than 14 days.* before 2026-11-06T13:00:00Z"):
        _run(request, FakeSource([]), ListSink())


@pytest.mark.parametrize("start, message", [
    ("yesterday", r"backfill.prometheus.start 'yesterday' is not a time \(.*\); expected RFC 3339 \(2026-11-20T00:00:00Z\) "
                  r"or unix seconds$"),
    ("2026-11-20 25:00", r"backfill.prometheus.start '2026-11-20 25:00' is not a time"),
])
def test_a_bad_time_is_quoted_with_the_formats_expected(start: str, message: str) -> None:
    # given a start that is no time
    event = {"backfill": {"prometheus": {"url": "http://p", "match": ["up"], "start": start, "end": "2026-11-20T01:00:00Z"}}}
    # when parsed, then it is quoted with the formats expected
    with pytest.raises(PrometheusBackfillError, match=message):
        parse_request(event)


def test_start_and_end_may_be_unix_seconds() -> None:
    # given start and end in unix seconds, as a string and a number
    event = {"backfill": {"prometheus": {"url": "http://p", "match": ["up"], "start": "1795132800", "end": 1795136400}}}
    # when parsed
    request = parse_request(event)
    # then they are the UTC times they name
    assert (request.start, request.end) == (datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 20, 1, tzinfo=UTC))
