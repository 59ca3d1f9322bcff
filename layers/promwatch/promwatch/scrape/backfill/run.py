"""Backfill from a Prometheus server's history: chunk by chunk, each delivered before the next.

``{"backfill": {"prometheus": {"url": "http://prometheus:9090", "match": ["{job=\\"api\\"}"],
"start": "...", "end": "...", "job": "api", "continuation": null}}}`` reads the raw samples of
``[start, end)`` and writes the EMF documents the live path would have written, one data point
per series and period, stamped at each period's start (:mod:`promwatch.scrape.backfill.periods`).

How a backfill never counts twice:

* The range is cut into periods of one step (the job's scrape interval) and chunks of whole
  periods; each chunk reads its samples plus a history before it (the job's
  ``series_retention_seconds``, at least 5 minutes), which serves only as the previous scrapes
  of its first samples: every sample is counted in exactly one chunk.
* A chunk's documents are made in memory, written and flushed to the sink in one go; only then
  does the continuation move past it. An invocation that nears its deadline stops between
  chunks and returns a token naming the next one, so resuming with the token never re-reads a
  delivered chunk and an interrupted chunk was never delivered. (A sink that fails half-way
  through a chunk's batches has delivered those batches: it raises, and the chunk stays
  pending, so that case, and only that one, is counted again on the retry.)
* The token binds URL, selectors, step and job and the planned range; a token of another
  request is refused. Backfilling a range the live scraper already covered also counts twice:
  backfill is for the history from before promwatch scraped the job.

Periods older than 14 days are refused (CloudWatch drops EMF that old and PutLogEvents refuses
such events), as are periods not yet over.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from promwatch import backfillbase
from promwatch.emf import EmfSettings, write
from promwatch.scrape.backfill.documents import chunk_documents
from promwatch.scrape.backfill.plan import Continuation, planned_range, request_digest
from promwatch.scrape.backfill.source import SampleSource, Series
from promwatch.scrape.errors import PrometheusBackfillError
from promwatch.selfmetrics import self_metrics
from promwatch.sinks import Sink, SinkDeliveryError, report_self_metrics

__all__ = ["DEFAULT_STEP_SECONDS", "PrometheusBackfill", "PrometheusBackfillResult", "parse_request", "run_backfill"]

logger = logging.getLogger("promwatch.scrape.backfill")

DEFAULT_STEP_SECONDS = 60
"""The period when neither the request nor a job gives one."""
MIN_HISTORY_MS = 300_000
"""How far before a sample its previous scrape is looked for, at least: Prometheus' lookback delta.
Otherwise as long as the live path keeps a vanished series' baseline (``series_retention_seconds``):
a series back after a gap counts its increase since it was last seen, as live, not its whole value."""


class PrometheusBackfill(BaseModel):
    """The ``backfill.prometheus`` member of an invocation event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(min_length=1)
    match: list[str] = Field(min_length=1)
    start: backfillbase.UtcDatetime
    end: backfillbase.UtcDatetime
    job: str | None = None
    step_seconds: int | None = Field(default=None, gt=0)
    chunk_seconds: int = Field(default=3600, gt=0)
    continuation: str | None = None
    max_chunks: int | None = Field(default=None, gt=0)


@dataclass(frozen=True, slots=True)
class PrometheusBackfillResult:
    """What an invocation did and how to go on (``continuation`` None: the range is complete).

    ``chunks_done`` counts every chunk delivered so far, ``chunks_written`` those of this
    invocation; ``series``, ``samples``, ``documents``, ``points`` and ``dropped`` are this
    invocation's, ``documents_total`` and ``points_total`` the whole backfill's so far.
    ``typed_by_names`` lists the families the server had no metadata for.
    """

    start: str
    end: str
    step_seconds: int
    next: str | None
    continuation: str | None
    chunks_done: int
    chunks_total: int
    chunks_written: int
    series: int
    samples: int
    documents: int
    points: int
    documents_total: int
    points_total: int
    dropped: dict[str, int] = field(default_factory=dict)
    typed_by_names: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """True when every chunk of the range is delivered."""
        return self.continuation is None

    def as_dict(self) -> dict[str, Any]:
        """The handler's response body (the CLI's progress bar reads ``events`` and ``documents``)."""
        return {**asdict(self), "events": self.samples, "done": self.done}


def parse_request(event: Any) -> PrometheusBackfill:
    """The request of a ``{"backfill": {"prometheus": {...}}}`` event.

    Raises
    ------
    PrometheusBackfillError
        Naming the bad member and what was expected.
    """
    body = event.get("backfill", {}).get("prometheus") if isinstance(event, dict) and isinstance(event.get("backfill"), dict) else None
    try:
        return PrometheusBackfill.model_validate(body)
    except ValidationError as error:
        raise PrometheusBackfillError(backfillbase.invalid_request(
            error, "backfill.prometheus", "{url, match: [selectors], start, end (RFC 3339 or unix seconds), job?, "
            "step_seconds?, chunk_seconds?, continuation?}")) from None


def _read(source: SampleSource, selectors: list[str], at_ms: int, range_ms: int) -> list[Series]:
    """The union of what each selector matches (a series two selectors match is read once)."""
    merged: dict[frozenset[tuple[str, str]], Series] = {}
    for selector in selectors:
        for series in source.samples(selector, at_ms, range_ms):
            merged.setdefault(frozenset(series.labels.items()), series)
    return list(merged.values())


def _report(sink: Sink, job: str | None, stage: str | None, now_ms: int, dropped: Counter[str], sink_failed: bool,
            counts: dict[str, int]) -> None:
    base = {"Component": "backfill", **({"Stage": stage} if stage else {}), **({"job": job} if job else {})}
    groups = [self_metrics(counts, dimensions=base, timestamp_ms=now_ms)]
    groups += [self_metrics({"DroppedSamples": count}, dimensions={**base, "Reason": reason}, timestamp_ms=now_ms)
               for reason, count in sorted(dropped.items())]
    report_self_metrics(sink, write(groups), sink_failed=sink_failed)


def run_backfill(
    request: PrometheusBackfill,
    *,
    source: SampleSource,
    sink: Sink,
    settings: EmfSettings,
    now_ms: int,
    step_seconds: int = DEFAULT_STEP_SECONDS,
    remaining_ms: Callable[[], int] | None = None,
    margin_ms: int = 10_000,
    stage: str | None = None,
) -> PrometheusBackfillResult:
    """Backfill ``request``'s range (or its continuation) chunk by chunk until done or near the deadline.

    Parameters
    ----------
    request
        URL, selectors, range, job, optional continuation token and chunk cap.
    source
        The Prometheus server (:class:`promwatch.scrape.backfill.PrometheusAPI`).
    sink
        Receives each chunk's documents in one write, flushed before the chunk counts as done.
    settings
        The job's ``emf:`` section (defaults when the request names no job).
    now_ms
        The caller's clock, epoch milliseconds.
    step_seconds
        The period when the request gives none (the job's scrape interval).
    remaining_ms
        Milliseconds left in the invocation; None for no deadline.
    margin_ms
        A chunk starts only when ``margin_ms`` plus twice the longest chunk so far is left; the
        first chunk of an invocation always runs, so every invocation makes progress.
    stage
        ``Stage`` dimension of the self-metrics (namespace ``Promwatch``, Component ``backfill``):
        ``ChunksWritten``, ``SamplesRead``, ``DocumentsWritten``, ``DataPoints`` and
        ``DroppedSamples`` per ``Reason``, written at the end of the invocation.

    Raises
    ------
    PrometheusBackfillError
        When the range is empty, reversed, older than 14 days or not yet over, the token belongs
        to another request, or the server answers what its API does not document.
    """
    step_ms = (request.step_seconds or step_seconds) * 1000
    history_ms = max(MIN_HISTORY_MS, 2 * step_ms, round(settings.series_retention_seconds * 1000))
    requested = (int(request.start.timestamp() * 1000), int(request.end.timestamp() * 1000))
    digest = request_digest(request.url, request.match, step_ms, request.job)
    chunk_ms = request.chunk_seconds * 1000
    first, last = planned_range(*requested, step_ms, chunk_ms, now_ms)
    if request.continuation:
        token = Continuation.decode(request.continuation)
        if token.request != digest or not backfillbase.token_fits(token.start_ms, token.end_ms, token.next_ms, first, last):
            raise PrometheusBackfillError(
                f"continuation was issued for request {token.request} {backfillbase.iso(token.start_ms)} .. {backfillbase.iso(token.end_ms)}; "
                f"expected this request's {digest} {backfillbase.iso(first)} .. {backfillbase.iso(last)} (same url, match, step, job and range)"
            )
        start_ms, end_ms, next_ms = token.start_ms, token.end_ms, token.next_ms
        documents_total, points_total = token.documents, token.points
    else:
        backfillbase.check_age(first, now_ms, f"backfill start {backfillbase.iso(first)}", PrometheusBackfillError)
        start_ms, end_ms, next_ms, documents_total, points_total = first, last, first, 0, 0
    types = source.metadata() if next_ms < end_ms else {}
    done = backfillbase.count_chunks(start_ms, next_ms, chunk_ms, step_ms)
    dropped: Counter[str] = Counter()
    by_names: set[str] = set()
    series_seen: set[frozenset[tuple[str, str]]] = set()
    samples = documents = points = chunks_this_run = 0
    sink_failed = False
    try:
        chunks = backfillbase.paced_chunks(next_ms, end_ms, chunk_ms, step_ms, now_ms=now_ms, error=PrometheusBackfillError,
                              max_chunks=request.max_chunks, remaining_ms=remaining_ms, margin_ms=margin_ms)
        for chunk_start, until in chunks:
            # [next - history, until): a range selector at ``until - 1`` ms takes both ends
            read = _read(source, request.match, until - 1, until - 1 - (chunk_start - history_ms))
            made = chunk_documents(read, types, chunk_start_ms=chunk_start, step_ms=step_ms, history_ms=history_ms,
                                   settings=settings, job=request.job, now_ms=now_ms)
            sink.write(made.documents)
            sink.flush()  # delivered (or raised: the chunk stays pending) before the chunk counts as done
            samples += sum(1 for s in read for t, _ in s.samples if t >= chunk_start)
            series_seen.update(frozenset(s.labels.items()) for s in read)
            documents += len(made.documents)
            points += made.points
            dropped.update(made.dropped)
            by_names |= made.typed_by_names
            logger.info("backfill %s: chunk %s .. %s: %d series, %d documents",
                        request.url, backfillbase.iso(chunk_start), backfillbase.iso(until), len(read), len(made.documents))
            next_ms = until
            done += 1
            chunks_this_run += 1
    except SinkDeliveryError:
        sink_failed = True
        raise
    finally:  # what was delivered is reported, also when a chunk failed (past a failed sink, to stdout)
        _report(sink, request.job, stage, now_ms, dropped, sink_failed,
                {"ChunksWritten": chunks_this_run, "SamplesRead": samples, "DocumentsWritten": documents,
                 "DataPoints": points})
    documents_total += documents
    points_total += points
    token_text = (
        Continuation(digest, start_ms, end_ms, next_ms, documents_total, points_total).encode()
        if next_ms < end_ms else None
    )
    return PrometheusBackfillResult(
        start=backfillbase.iso(start_ms), end=backfillbase.iso(end_ms), step_seconds=step_ms // 1000,
        next=backfillbase.iso(next_ms) if token_text else None, continuation=token_text,
        chunks_done=done, chunks_total=backfillbase.count_chunks(start_ms, end_ms, chunk_ms, step_ms), chunks_written=chunks_this_run,
        series=len(series_seen), samples=samples, documents=documents, points=points,
        documents_total=documents_total, points_total=points_total,
        dropped=dict(dropped), typed_by_names=sorted(by_names),
    )
