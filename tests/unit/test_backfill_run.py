"""Backfill: chunking on period boundaries, the 14-day limit, resuming without double counting."""
from __future__ import annotations

import bisect
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from promwatch.backfillbase import chunk_end
from promwatch.insights import compile_rules, load_rules
from promwatch.insights.backfill import BackfillError, BackfillRequest, Continuation, run_backfill
from promwatch.insights.backfill.chunks import alignment_ms
from promwatch_tools.insights_sample import sample_cluster_events

HOUR = 3_600_000
NOW_MS = 1_795_179_600_000  # 2026-11-20T13:00:00Z
START_MS = NOW_MS - 5 * HOUR  # 08:00


class ListSink:
    """Keeps the roll-up writes, and the self-metric documents apart."""

    def __init__(self) -> None:
        self.writes: list[list[dict[str, Any]]] = []
        self.health: list[dict[str, Any]] = []

    def write(self, documents: list[dict[str, Any]], *, ticket: object = None) -> None:
        if documents and documents[0].get("Component") == "backfill":
            self.health.extend(documents)
        else:
            self.writes.append(documents)

    def flush(self) -> None:
        """Nothing is buffered."""

    @property
    def documents(self) -> list[dict[str, Any]]:
        return [document for batch in self.writes for document in batch]


class FakeLogs:
    """FilterLogEvents over events whose log timestamp lags their own Timestamp by 30 s."""

    PAGE = 500

    def __init__(self, events: list[tuple[int, str]]) -> None:
        self.events = events
        self.times = [t for t, _ in events]
        self.reads: list[tuple[int, int]] = []

    def filter_log_events(self, **request: Any) -> dict[str, Any]:
        if "nextToken" not in request:
            self.reads.append((request["startTime"], request["endTime"]))
        first = int(request.get("nextToken") or bisect.bisect_left(self.times, request["startTime"]))
        last = bisect.bisect_right(self.times, request["endTime"])
        page = [{"timestamp": t, "message": m} for t, m in self.events[first : min(first + self.PAGE, last)]]
        more = first + self.PAGE < last
        return {"events": page, **({"nextToken": str(first + self.PAGE)} if more else {})}


def _own_timestamp(event: dict[str, Any]) -> int:
    return int(event.get("Timestamp") or event["_aws"]["Timestamp"])


def _iso(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def _request(start_ms: int = START_MS, end_ms: int = START_MS + 3 * HOUR, **extra: Any) -> BackfillRequest:
    return BackfillRequest(cluster="demo", start=_iso(start_ms), end=_iso(end_ms), **extra)


@pytest.fixture(scope="module")
def cluster_events() -> list[tuple[int, str]]:
    # Three hours of a sample cluster, starting 08:00, as log events
    return sorted((_own_timestamp(e) + 30_000, json.dumps(e)) for e in sample_cluster_events("demo", START_MS, 180, seed=5))


@pytest.fixture
def logs(cluster_events: list[tuple[int, str]]) -> FakeLogs:
    return FakeLogs(cluster_events)


def _run(request: BackfillRequest, logs: FakeLogs, sink: ListSink, **options: Any) -> Any:
    return run_backfill(request, config=load_rules("builtin"), sink=sink, logs=logs,
                        log_group="/aws/containerinsights/demo/performance", now_ms=NOW_MS, **options)


def test_chunk_arithmetic() -> None:
    # given the builtin rules (periods of 60s and 3600s)
    rules = compile_rules(load_rules("builtin"))
    # when the alignment is asked for, then it is their lcm, an hour
    assert alignment_ms(rules) == HOUR  # lcm(60 s, 3600 s)
    # and a chunk end is the start plus the chunk rounded up to whole alignments, capped at the end
    assert chunk_end(0, 10 * HOUR, 90 * 60_000, HOUR) == 2 * HOUR  # 90 min rounds up to whole hours
    assert chunk_end(0, HOUR, 4 * HOUR, HOUR) == HOUR


def test_whole_range_in_one_invocation(logs: FakeLogs) -> None:
    # When a 3-hour range is backfilled with no deadline
    sink = ListSink()
    result = _run(_request(), logs, sink)
    # Then three hourly chunks are written, each event counted once, timestamps in the past
    assert (result.done, result.chunks_done, result.chunks_total) == (True, 3, 3)
    assert result.events == len(logs.events)
    assert len(sink.writes) == 3
    assert all(START_MS <= d["_aws"]["Timestamp"] < START_MS + 3 * HOUR for d in sink.documents)
    (health,) = sink.health
    assert (health["ChunksWritten"], health["EventsReceived"], health["DocumentsWritten"]) == (
        3, result.events, len(sink.documents))
    # and each chunk read a little beyond its edges (events' log time differs from their Timestamp)
    assert logs.reads[0][0] < START_MS


def test_resume_near_the_deadline_does_not_double_count(logs: FakeLogs) -> None:
    # Given an invocation whose deadline allows only one chunk (each chunk "takes" 40 s of 100 s)
    reference = ListSink()
    _run(_request(), logs, reference)
    clock = iter(range(100_000, -1, -40_000))
    sink = ListSink()
    first = _run(_request(), logs, sink, remaining_ms=lambda: next(clock), margin_ms=10_000)
    # Then it stops after one chunk with a continuation naming 09:00
    assert (first.done, first.chunks_done, first.next) == (False, 1, "2026-11-20T09:00:00Z")
    # When resumed with the token (twice, until done)
    second = _run(_request(continuation=first.continuation, max_chunks=1), logs, sink)
    third = _run(_request(continuation=second.continuation), logs, sink)
    # Then the written documents equal a single uninterrupted run's: nothing counted twice
    assert third.done and third.chunks_done == 3
    assert sorted(map(json.dumps, sink.documents)) == sorted(map(json.dumps, reference.documents))


def test_a_finished_token_writes_nothing_more(logs: FakeLogs) -> None:
    # given a run cut after two chunks and a run that finished from its token
    sink = ListSink()
    first = _run(_request(max_chunks=2), logs, sink)
    done = _run(_request(continuation=first.continuation), logs, sink)
    # and a token whose next chunk start is its end
    writes = len(sink.writes)
    token = Continuation.decode(first.continuation)
    finished = Continuation(token.cluster, token.start_ms, token.end_ms, token.end_ms, token.rules).encode()
    # when run again with it
    again = _run(_request(continuation=finished), logs, sink)
    # then nothing more is written
    assert done.done and again.done and len(sink.writes) == writes


def test_chunk_is_not_marked_done_when_the_sink_fails(logs: FakeLogs) -> None:
    # given a sink whose flush fails
    class Broken(ListSink):
        def flush(self) -> None:
            raise OSError("sink down")

    # when a chunk is run, then the failure propagates rather than the chunk being marked done
    with pytest.raises(OSError):
        _run(_request(), logs, Broken())


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (_request(NOW_MS - 15 * 24 * HOUR, NOW_MS - 14 * 24 * HOUR), "older than 14 days"),
        (_request(START_MS, START_MS), "empty or reversed"),
        (_request(START_MS + HOUR, START_MS), "empty or reversed"),
        (_request(continuation="garbage!"), "not a backfill continuation token"),
        (_request(continuation=Continuation("other", START_MS, START_MS + 3 * HOUR, START_MS, "x").encode()),
         "issued for cluster 'other'"),
    ],
)
def test_refusals(request_: BackfillRequest, message: str, logs: FakeLogs) -> None:
    # given a request too old, empty, reversed, or with a bad or another cluster's token, when run, then it is refused
    with pytest.raises(BackfillError, match=message):
        _run(request_, logs, ListSink())


def test_an_end_in_the_future_is_refused_naming_the_last_period_over(logs: FakeLogs) -> None:
    # Given an end two hours from now, Then it is refused (not silently cut at now), naming the latest end
    with pytest.raises(BackfillError, match=r"after the end of the last .* expected an end at or before 2026-11-20T13:00:00Z"):
        _run(_request(START_MS, NOW_MS + 2 * HOUR), logs, ListSink())


@pytest.mark.parametrize(("start", "end", "message"), [
    (START_MS + 10 * 60_000, START_MS + HOUR, "start 2026-11-20T08:10:00Z .*: 2026-11-20T08:00:00Z or 2026-11-20T09:00:00Z"),
    (START_MS, START_MS + HOUR + 5 * 60_000, "end 2026-11-20T09:05:00Z .*: 2026-11-20T09:00:00Z or 2026-11-20T10:00:00Z"),
])
def test_an_unaligned_range_is_refused_naming_the_nearest_boundaries(
    start: int, end: int, message: str, logs: FakeLogs
) -> None:
    # Given a bound inside a period: widening it would write events from outside the range
    with pytest.raises(BackfillError, match=message):
        _run(_request(start, end), logs, ListSink())


def test_empty_pages_with_a_token_are_followed() -> None:
    # Given FilterLogEvents answering an empty page with a nextToken before the events
    class EmptyFirst(FakeLogs):
        def filter_log_events(self, **request: Any) -> dict[str, Any]:
            if "nextToken" not in request:
                return {"events": [], "nextToken": "0"}
            return super().filter_log_events(**{**request, "nextToken": request["nextToken"] if request["nextToken"] != "0" else ""})

    events = sample_cluster_events("demo", START_MS, 60, seed=5)
    logs = EmptyFirst(sorted((_own_timestamp(e) + 30_000, json.dumps(e)) for e in events))
    # Then the events behind the empty page are read
    assert _run(_request(end_ms=START_MS + HOUR), logs, ListSink()).events == len(events)


def test_a_bad_time_in_the_event_is_quoted_with_the_formats_expected() -> None:
    from promwatch.insights.backfill import parse_request

    # given an event whose end is no time, when parsed, then it is quoted with the formats expected
    with pytest.raises(BackfillError, match=r"backfill.end 'tomorrow' is not a time .*; expected RFC 3339 .* or unix seconds"):
        parse_request({"backfill": {"cluster": "prod", "start": "2026-11-20T00:00:00Z", "end": "tomorrow"}})
