"""Log events -> PutLogEvents batches that fit every limit (pure)."""
from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import NamedTuple

from promwatch.limits import (
    LOGS_EVENT_OVERHEAD_BYTES,
    LOGS_MAX_BATCH_BYTES,
    LOGS_MAX_BATCH_EVENTS,
    LOGS_MAX_BATCH_SPAN_MS,
    LOGS_MAX_EVENT_BYTES,
)


class LogEvent(NamedTuple):
    """One log event as PutLogEvents takes it."""

    timestamp: int
    """Milliseconds since the epoch."""
    message: str
    ticket: Hashable = None
    """The work the event belongs to (not sent; see :class:`promwatch.sinks.SinkDeliveryError`)."""


def event_size(event: LogEvent) -> int:
    """Bytes an event counts for in a batch: UTF-8 message bytes plus the fixed overhead."""
    return len(event.message.encode("utf-8")) + LOGS_EVENT_OVERHEAD_BYTES


def is_oversized(event: LogEvent) -> bool:
    """True when an event is larger than CloudWatch Logs accepts for a single event."""
    return len(event.message.encode("utf-8")) > LOGS_MAX_EVENT_BYTES


def batches(events: Iterable[LogEvent]) -> list[list[LogEvent]]:
    """Sort events chronologically and cut them into PutLogEvents batches.

    Each batch holds at most :data:`LOGS_MAX_BATCH_EVENTS` events, at most
    :data:`LOGS_MAX_BATCH_BYTES` bytes counted as :func:`event_size`, and spans strictly less
    than :data:`LOGS_MAX_BATCH_SPAN_MS` from its first to its last event. Events with equal
    timestamps keep their order.

    Parameters
    ----------
    events
        Events no larger than a single event may be (see :func:`is_oversized`).

    Returns
    -------
    list of list of LogEvent
        The batches, in chronological order.
    """
    out: list[list[LogEvent]] = []
    current: list[LogEvent] = []
    current_bytes = 0
    for event in sorted(events, key=lambda e: e.timestamp):
        size = event_size(event)
        if current and (
            len(current) >= LOGS_MAX_BATCH_EVENTS
            or current_bytes + size > LOGS_MAX_BATCH_BYTES
            or event.timestamp - current[0].timestamp >= LOGS_MAX_BATCH_SPAN_MS
        ):
            out.append(current)
            current, current_bytes = [], 0
        current.append(event)
        current_bytes += size
    if current:
        out.append(current)
    return out
