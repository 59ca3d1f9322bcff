"""The insights function's work: decode, parse, roll up, write (the imperative shell).

:func:`handle_stream_event` takes a subscription or Kinesis event and returns the Lambda
response. Malformed events are skipped, counted and reported (a log line and the
``EventsMalformed`` self-metric); the rest of the batch goes through. For Kinesis each
record's documents are written before the next record is read, so when the sink fails the
record and the ones after it are returned in ``batchItemFailures`` and retried, while the
records already written are not sent again (no double counting). Records whose data is
malformed are reported, never retried: a retry cannot fix them.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from promwatch.emf import write_group
from promwatch.gcpause import collector_paused
from promwatch.insights.aggregate import DroppedGroup, Rollup
from promwatch.insights.decode import LogBatch, batches_from_event
from promwatch.insights.model import MalformedEventError, parse_event
from promwatch.insights.rules import CompiledRule
from promwatch.selfmetrics import self_metrics
from promwatch.sinks import Sink, SinkDeliveryError, report_self_metrics

__all__ = ["InsightsStats", "deliver", "handle_stream_event", "rollup_messages", "rollup_output", "write_self_metrics"]

logger = logging.getLogger("promwatch.insights")

MAX_LOGGED_MALFORMED = 20
"""Malformed events logged one by one per invocation; beyond that only the count is logged."""


@dataclass
class InsightsStats:
    """What one invocation did; the self-metrics are made from it."""

    events: int = 0
    malformed: int = 0
    unmatched: int = 0
    control_messages: int = 0
    malformed_records: int = 0
    documents: int = 0
    dropped_groups: int = 0
    undelivered: int = 0
    failed_records: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, float]:
        """Self-metric name -> value."""
        return {
            "EventsReceived": self.events,
            "EventsMalformed": self.malformed,
            "EventsUnmatched": self.unmatched,
            "ControlMessages": self.control_messages,
            "RecordsMalformed": self.malformed_records,
            "RecordsFailed": len(self.failed_records),
            "GroupsDropped": self.dropped_groups,
            "DocumentsWritten": self.documents,
            "DocumentsUndelivered": self.undelivered,
        }

    def report(
        self, *, component: str, stage: str, timestamp_ms: int, extra: Mapping[str, float] | None = None
    ) -> list[dict[str, Any]]:
        """The self-metric documents (namespace Promwatch), with ``extra`` counts added."""
        counts = {**self.counts(), **(extra or {})}
        return write_group(
            self_metrics(counts, dimensions={"Component": component, "Stage": stage}, timestamp_ms=timestamp_ms)
        )


def rollup_messages(
    messages: Iterable[str | bytes],
    rollup: Rollup,
    stats: InsightsStats,
    *,
    where: str = "",
    window: tuple[int, int] | None = None,
) -> Rollup:
    """Parse each message and add it to ``rollup``; malformed ones are counted and logged.

    Parameters
    ----------
    messages
        One performance event (JSON) each.
    rollup
        The accumulator to add to (returned).
    stats
        Counters to update.
    where
        Names the source in log lines (log group, record id, file and line).
    window
        ``(start_ms, end_ms)``: events whose own Timestamp is outside ``[start, end)`` are
        ignored (backfill reads a little around each chunk and keeps only its periods).
    """
    with collector_paused():
        for position, message in enumerate(messages, start=1):
            stats.events += 1
            try:
                event = parse_event(message)
            except MalformedEventError as error:
                stats.malformed += 1
                if stats.malformed <= MAX_LOGGED_MALFORMED:
                    logger.warning("%s event %d skipped: %s", where or "batch", position, error.reason)
                continue
            if window is not None and not window[0] <= event.timestamp_ms < window[1]:
                stats.events -= 1  # another chunk's event, read only because of the read slack
                continue
            unmatched = rollup.unmatched
            rollup.add(event)
            stats.unmatched += rollup.unmatched - unmatched
    return rollup


def deliver(sink: Sink, documents: list[dict[str, Any]]) -> None:
    """Write and flush: when this returns, the documents are delivered (or it raised)."""
    sink.write(documents)
    sink.flush()


def write_self_metrics(
    sink: Sink,
    stats: InsightsStats,
    *,
    stage: str,
    timestamp_ms: int,
    component: str = "insights",
    extra: Mapping[str, float] | None = None,
) -> None:
    """Send the self-metrics; never raises. When the data could not be delivered (records
    failed, documents undelivered) they go to stdout, not to the sink that failed."""
    report_self_metrics(sink, stats.report(component=component, stage=stage, timestamp_ms=timestamp_ms, extra=extra),
                        sink_failed=bool(stats.failed_records or stats.undelivered))


def _malformed_record(batch: LogBatch, stats: InsightsStats) -> None:
    stats.malformed_records += 1
    logger.warning("Kinesis record %s skipped: %s", batch.record_id, batch.error)


def rollup_output(rollup: Rollup) -> tuple[list[dict[str, Any]], int]:
    """``rollup``'s EMF documents and how many groups were dropped, each dropped group logged.

    The documents are made with the garbage collector paused (a performance measure of the
    shell: the many small objects made are not walked again and again), and the metric
    groups freed before it resumes, so it then walks only the documents.
    """
    with collector_paused():
        documents, dropped = rollup.documents()
    log_dropped(dropped)
    return documents, len(dropped)


def log_dropped(dropped: Iterable[DroppedGroup]) -> None:
    """One warning per group no document carries, naming the rule, the values and why."""
    for group in dropped:
        logger.warning("rule %s: group %r dropped: %s", group.rule, group.values, group.reason)


def handle_stream_event(
    event: dict[str, Any],
    *,
    rules: tuple[CompiledRule, ...],
    sink: Sink,
    stage: str,
    clock: Callable[[], float],
) -> dict[str, Any]:
    """Roll up a subscription or Kinesis event and write the EMF through ``sink``.

    Parameters
    ----------
    event
        The Lambda event.
    rules
        Compiled rules.
    sink
        Receives the data documents, then the self-metric documents.
    stage
        ``Stage`` dimension of the self-metrics.
    clock
        Seconds since the epoch (the self-metrics' timestamp).

    Returns
    -------
    dict
        ``{"batchItemFailures": [...]}`` for a Kinesis event (sequence numbers of records to
        retry), else a summary of the counts.

    Raises
    ------
    promwatch.insights.errors.EventDecodeError
        When the event is of neither shape.
    """
    batches = batches_from_event(event)
    stats = InsightsStats()
    kinesis = any(batch.record_id is not None for batch in batches)
    if kinesis:
        for position, batch in enumerate(batches):
            if batch.error is not None:
                _malformed_record(batch, stats)
                continue
            if batch.control:
                stats.control_messages += 1
                continue
            rollup = rollup_messages(batch.messages, Rollup(rules), stats, where=f"record {batch.record_id}")
            documents, dropped = rollup_output(rollup)
            stats.dropped_groups += dropped
            try:
                deliver(sink, documents)
            except Exception:  # any sink failure is retryable: hand this and later records back
                logger.exception("sink failed on Kinesis record %s; it and %d later record(s) will be retried",
                                 batch.record_id, len(batches) - position - 1)
                stats.failed_records = [b.record_id for b in batches[position:] if b.record_id is not None]
                stats.undelivered += len(documents)
                break
            stats.documents += len(documents)
    else:
        rollup = Rollup(rules)
        for batch in batches:
            if batch.control:
                stats.control_messages += 1
                continue
            rollup_messages(batch.messages, rollup, stats, where=batch.log_group)
        documents, stats.dropped_groups = rollup_output(rollup)
        try:
            deliver(sink, documents)
        except SinkDeliveryError as exc:
            # The invocation fails, so Lambda retries the whole event; first the loss is
            # reported where it does not depend on the failed sink.
            stats.undelivered = exc.undelivered
            write_self_metrics(sink, stats, stage=stage, timestamp_ms=int(clock() * 1000))
            raise
        stats.documents = len(documents)
    if stats.malformed > MAX_LOGGED_MALFORMED:
        logger.warning("%d malformed events skipped in total (first %d logged)", stats.malformed, MAX_LOGGED_MALFORMED)
    write_self_metrics(sink, stats, stage=stage, timestamp_ms=int(clock() * 1000))
    if kinesis:
        return {"batchItemFailures": [{"itemIdentifier": record_id} for record_id in stats.failed_records]}
    return {"events": stats.events, "malformed": stats.malformed, "documents": stats.documents}
