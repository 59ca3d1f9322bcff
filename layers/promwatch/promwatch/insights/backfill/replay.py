"""Backfill of Container Insights roll-ups from the performance log group.

``{"backfill": {"cluster": "prod", "start": "2026-11-20T00:00:00Z", "end": "...",
"continuation": null}}`` replays ``[start, end)`` through the same rules as the stream path
and writes EMF documents timestamped at each period's start.

How a backfill never double counts:

* The range is aligned outward to the rules' common period (an hourly rule makes it whole
  hours) and cut into chunks on those boundaries, so every period lies inside exactly one
  chunk. A chunk reads FilterLogEvents a little beyond its edges (``READ_SLACK_MS``) and keeps
  only events whose own ``Timestamp`` falls in it: each event counts in exactly one chunk.
* A chunk's documents are computed in memory and written in one sink call after the whole
  chunk was read; only then does the continuation move past it. An invocation that runs out of
  time stops *between* chunks and returns a token naming the next chunk, so resuming with the
  token never re-reads a written chunk, and an interrupted chunk was never written.
* The token binds cluster, aligned range and a digest of the rules; a token from another
  request is refused. Re-running a request *without* its token starts over and would count
  again, which is why the CLI keeps the latest token in a checkpoint file.

Backfilling a range the live subscription already covered also counts twice; backfill is for
history from before the subscription existed. Periods older than 14 days are refused
(CloudWatch drops EMF that old), as are periods not yet over.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from promwatch import backfillbase
from promwatch.insights.aggregate import Rollup
from promwatch.insights.backfill.chunks import Continuation, alignment_ms, rules_digest, type_filter_pattern
from promwatch.insights.errors import BackfillError
from promwatch.insights.pipeline import (
    InsightsStats,
    deliver,
    rollup_messages,
    rollup_output,
    write_self_metrics,
)
from promwatch.insights.rules import RulesConfig, compile_rules
from promwatch.limits import LOGS_FILTER_MAX_PAGE
from promwatch.sinks import Sink

__all__ = ["READ_SLACK_MS", "BackfillRequest", "BackfillResult", "parse_request", "run_backfill"]

logger = logging.getLogger("promwatch.insights.backfill")

READ_SLACK_MS = 120_000
"""How far beyond a chunk's edges the log group is read: an event's log timestamp may differ
a little from its own Timestamp, which decides its period."""


class BackfillRequest(BaseModel):
    """The ``backfill`` member of the invocation event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cluster: str = Field(min_length=1)
    start: backfillbase.UtcDatetime
    end: backfillbase.UtcDatetime
    continuation: str | None = None
    max_chunks: int | None = Field(default=None, gt=0)


@dataclass(frozen=True, slots=True)
class BackfillResult:
    """What an invocation did and how to go on.

    ``continuation`` is None when the range is complete; otherwise invoke again with it.
    """

    cluster: str
    start: str
    end: str
    next: str | None
    continuation: str | None
    chunks_done: int
    chunks_total: int
    events: int
    malformed: int
    documents: int

    @property
    def done(self) -> bool:
        """True when every chunk of the range is written."""
        return self.continuation is None

    def as_dict(self) -> dict[str, Any]:
        """The handler's response body."""
        return {**asdict(self), "done": self.done}


def parse_request(event: dict[str, Any]) -> BackfillRequest:
    """The backfill request of an invocation event.

    Raises
    ------
    BackfillError
        Naming the bad member and what was expected.
    """
    try:
        return BackfillRequest.model_validate(event.get("backfill"))
    except ValidationError as error:
        raise BackfillError(
            backfillbase.invalid_request(error, "backfill", "{cluster, start, end (RFC 3339 or unix seconds), continuation?}")
        ) from None


def _messages(logs: Any, log_group: str, start_ms: int, end_ms: int, pattern: str | None) -> Iterator[str]:
    """Every message of ``log_group`` with a log timestamp in ``[start_ms, end_ms)``, paged.

    FilterLogEvents may answer a page with no events but a ``nextToken`` (it searched some
    streams and ran out of time); paging goes on until no new token comes back.

    Raises
    ------
    BackfillError
        When the log group does not exist.
    """
    from botocore.exceptions import ClientError

    request: dict[str, Any] = {
        "logGroupName": log_group,
        "startTime": max(start_ms, 0),
        "endTime": end_ms - 1,  # FilterLogEvents' endTime is inclusive
        "limit": LOGS_FILTER_MAX_PAGE,
    }
    if pattern:
        request["filterPattern"] = pattern
    while True:
        try:
            page = logs.filter_log_events(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            raise BackfillError(
                f"log group {log_group!r} does not exist; expected the Container Insights performance "
                "log group of the cluster (is Container Insights enabled, and the cluster name right?)"
            ) from None
        for event in page.get("events", ()):
            yield event["message"]
        token = page.get("nextToken")
        if not token or token == request.get("nextToken"):
            return
        request["nextToken"] = token


def run_backfill(
    request: BackfillRequest,
    *,
    config: RulesConfig,
    sink: Sink,
    logs: Any,
    log_group: str,
    now_ms: int,
    remaining_ms: Callable[[], int] | None = None,
    chunk_seconds: int = 3600,
    margin_ms: int = 10_000,
    stage: str = "dev",
) -> BackfillResult:
    """Replay ``request``'s range (or its continuation) chunk by chunk until done or near the deadline.

    Parameters
    ----------
    request
        Cluster, range, optional continuation token and chunk cap.
    config
        The rules (the same the stream path uses).
    sink
        Receives each chunk's documents in one call.
    logs
        A boto3 CloudWatch Logs client.
    log_group
        The cluster's performance log group.
    now_ms
        The caller's clock, epoch milliseconds.
    remaining_ms
        Milliseconds left in the invocation (``context.get_remaining_time_in_millis``); None
        for no deadline.
    chunk_seconds
        Chunk length, rounded up to the rules' common period.
    margin_ms
        Time kept in reserve: a chunk starts only when ``margin_ms`` plus twice the longest
        chunk so far is left. The first chunk of an invocation always runs, so every
        invocation makes progress.
    stage
        ``Stage`` dimension of the self-metrics (Component ``backfill``) written at the end.

    Raises
    ------
    BackfillError
        When a bound is not on a boundary of the rules' common period (naming the nearest ones),
        the range is empty, reversed, older than 14 days, ends after the last period that is
        over (naming it), or the continuation token belongs to another request or other rules.
    """
    rules = compile_rules(config)
    alignment = alignment_ms(rules)
    requested = (int(request.start.timestamp() * 1000), int(request.end.timestamp() * 1000))
    start_ms, end_ms = backfillbase.whole_periods(*requested, alignment, now_ms, BackfillError)
    digest = rules_digest(config)
    next_ms = start_ms
    if request.continuation:
        token = Continuation.decode(request.continuation)
        if (token.cluster, token.rules) != (request.cluster, digest) or not backfillbase.token_fits(
            token.start_ms, token.end_ms, token.next_ms, start_ms, end_ms
        ):
            raise BackfillError(
                f"continuation was issued for cluster {token.cluster!r} {backfillbase.iso(token.start_ms)} .. {backfillbase.iso(token.end_ms)} "
                f"with rules {token.rules}; expected this request's cluster {request.cluster!r} "
                f"{backfillbase.iso(start_ms)} .. {backfillbase.iso(end_ms)} with rules {digest}"
            )
        end_ms, next_ms = token.end_ms, token.next_ms
    else:
        backfillbase.check_age(start_ms, now_ms, f"backfill start {backfillbase.iso(start_ms)}", BackfillError)
    pattern = type_filter_pattern(rules)
    chunk_ms = chunk_seconds * 1000
    total = backfillbase.count_chunks(start_ms, end_ms, chunk_ms, alignment)
    done = backfillbase.count_chunks(start_ms, next_ms, chunk_ms, alignment)
    stats = InsightsStats()
    chunks_this_run = 0
    for chunk_start, until in backfillbase.paced_chunks(next_ms, end_ms, chunk_ms, alignment, now_ms=now_ms, error=BackfillError,
                                           max_chunks=request.max_chunks, remaining_ms=remaining_ms,
                                           margin_ms=margin_ms):
        rollup = rollup_messages(
            _messages(logs, log_group, chunk_start - READ_SLACK_MS, until + READ_SLACK_MS, pattern),
            Rollup(rules),
            stats,
            where=f"{log_group} {backfillbase.iso(chunk_start)}",
            window=(chunk_start, until),
        )
        documents, dropped = rollup_output(rollup)
        stats.dropped_groups += dropped
        deliver(sink, documents)  # the chunk is written whole, or (on error) not at all and not marked done
        stats.documents += len(documents)
        logger.info("backfill %s: chunk %s .. %s: %d events, %d documents",
                    request.cluster, backfillbase.iso(chunk_start), backfillbase.iso(until), rollup.events, len(documents))
        next_ms = until
        done += 1
        chunks_this_run += 1
    write_self_metrics(sink, stats, stage=stage, timestamp_ms=now_ms, component="backfill",
                       extra={"ChunksWritten": chunks_this_run})
    token_text = (
        Continuation(request.cluster, start_ms, end_ms, next_ms, digest).encode() if next_ms < end_ms else None
    )
    return BackfillResult(
        cluster=request.cluster,
        start=backfillbase.iso(start_ms),
        end=backfillbase.iso(end_ms),
        next=backfillbase.iso(next_ms) if token_text else None,
        continuation=token_text,
        chunks_done=done,
        chunks_total=total,
        events=stats.events,
        malformed=stats.malformed,
        documents=stats.documents,
    )

