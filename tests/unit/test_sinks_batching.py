"""PutLogEvents batching: chronological, and at the exact limits of count, bytes and span."""
from __future__ import annotations

from promwatch.limits import (
    LOGS_EVENT_OVERHEAD_BYTES,
    LOGS_MAX_BATCH_BYTES,
    LOGS_MAX_BATCH_EVENTS,
    LOGS_MAX_BATCH_SPAN_MS,
    LOGS_MAX_EVENT_BYTES,
)
from promwatch.sinks.batching import LogEvent, batches, event_size, is_oversized

T0 = 1_700_000_000_000


def _sized(total: int, timestamp: int = T0) -> LogEvent:
    """An event that counts for exactly ``total`` bytes in a batch."""
    return LogEvent(timestamp, "x" * (total - LOGS_EVENT_OVERHEAD_BYTES))


def test_event_size_counts_utf8_bytes_plus_overhead() -> None:
    # given a message with a 2-byte UTF-8 character
    event = LogEvent(T0, "é")
    # then its size is its UTF-8 length plus the per-event overhead
    assert event_size(event) == 2 + LOGS_EVENT_OVERHEAD_BYTES


def test_exactly_max_events_is_one_batch_and_one_more_is_two() -> None:
    # given exactly the event-count limit, then one more
    full = [LogEvent(T0, "a")] * LOGS_MAX_BATCH_EVENTS
    # then the limit fits one batch; one more starts a second
    assert [len(b) for b in batches(full)] == [LOGS_MAX_BATCH_EVENTS]
    assert [len(b) for b in batches([*full, LogEvent(T0, "b")])] == [LOGS_MAX_BATCH_EVENTS, 1]


def test_exactly_max_bytes_is_one_batch_and_one_more_byte_is_two() -> None:
    # given four events that together count exactly 1 MiB
    quarter = LOGS_MAX_BATCH_BYTES // 4
    exact = [_sized(quarter) for _ in range(4)]
    assert sum(event_size(e) for e in exact) == LOGS_MAX_BATCH_BYTES
    # when batched, then they fit one batch
    assert [len(b) for b in batches(exact)] == [4]
    # given one byte more on the last event, then it moves to a second batch
    over = [*exact[:3], _sized(quarter + 1)]
    assert [len(b) for b in batches(over)] == [3, 1]


def test_every_batch_respects_the_byte_limit_for_large_volumes() -> None:
    # given many events of mixed sizes
    events = [_sized(1000 + (i * 7919) % 200_000, T0 + i) for i in range(200)]
    # when batched
    result = batches(events)
    # then no batch exceeds the limit and nothing is lost or reordered
    assert all(sum(event_size(e) for e in b) <= LOGS_MAX_BATCH_BYTES for b in result)
    assert [e for b in result for e in b] == events
    assert len(result) > 1


def test_span_of_24_hours_starts_a_new_batch() -> None:
    # given events just under and exactly at 24 hours after the first
    under = [LogEvent(T0, "a"), LogEvent(T0 + LOGS_MAX_BATCH_SPAN_MS - 1, "b")]
    at = [LogEvent(T0, "a"), LogEvent(T0 + LOGS_MAX_BATCH_SPAN_MS, "b")]
    # then under 24 hours is one batch, 24 hours is two
    assert [len(b) for b in batches(under)] == [2]
    assert [len(b) for b in batches(at)] == [1, 1]


def test_events_are_sorted_chronologically_and_ties_keep_their_order() -> None:
    # given events out of order, two of them with the same timestamp
    events = [LogEvent(T0 + 2, "c"), LogEvent(T0, "a1"), LogEvent(T0 + 1, "b"), LogEvent(T0, "a2")]
    # when batched
    (batch,) = batches(events)
    # then they are chronological, equal timestamps in input order
    assert [e.message for e in batch] == ["a1", "a2", "b", "c"]


def test_oversized_event_is_recognised() -> None:
    # given events at and one byte over the single-event limit
    # then only the one over the limit is oversized
    assert not is_oversized(LogEvent(T0, "x" * LOGS_MAX_EVENT_BYTES))
    assert is_oversized(LogEvent(T0, "x" * (LOGS_MAX_EVENT_BYTES + 1)))


def test_no_events_no_batches() -> None:
    # given no events, when batched, then there are no batches
    assert batches([]) == []
