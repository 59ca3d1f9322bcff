"""Backfill from a Prometheus server's history: raw samples -> the EMF the live path would have written.

Part of the scrape package (its EMF settings, HTTP client and the function's runtime, which
serves ``{"backfill": {"prometheus": {...}}}`` events); none of the scrape modules imports it
but the runtime.

``run_backfill(request, source=PrometheusAPI(url), sink=..., settings=job.emf, now_ms=...,
step_seconds=job.interval, remaining_ms=...)`` reads the raw samples of the request's selectors
chunk by chunk (:mod:`~promwatch.scrape.backfill.source`), types them
(:mod:`~promwatch.scrape.backfill.series`), sums what each scrape would have published into
periods of one step (:mod:`~promwatch.scrape.backfill.periods`), writes the documents
(:mod:`~promwatch.scrape.backfill.documents`) and returns a :class:`PrometheusBackfillResult`
whose ``continuation`` token resumes it (:mod:`~promwatch.scrape.backfill.run` says how re-runs
never count twice; :mod:`~promwatch.scrape.backfill.plan` holds the time arithmetic, with
what both backfills share in :mod:`promwatch.backfillbase`).
"""
from __future__ import annotations

from promwatch.backfillbase import MAX_BACKFILL_AGE_SECONDS, check_age, chunk_end, count_chunks
from promwatch.scrape.backfill.documents import ChunkDocuments, chunk_documents
from promwatch.scrape.backfill.periods import (
    PeriodContext,
    TargetTimes,
    counter_periods,
    gauge_periods,
    histogram_periods,
    statistic_set,
)
from promwatch.scrape.backfill.plan import Continuation, planned_range, request_digest
from promwatch.scrape.backfill.run import (
    DEFAULT_STEP_SECONDS,
    PrometheusBackfill,
    PrometheusBackfillResult,
    parse_request,
    run_backfill,
)
from promwatch.scrape.backfill.series import Classified, HistogramSeries, PlainSeries, classify
from promwatch.scrape.backfill.source import PrometheusAPI, SampleSource, Series, parse_matrix, parse_metadata
from promwatch.scrape.errors import PrometheusBackfillError

__all__ = [
    "DEFAULT_STEP_SECONDS",
    "MAX_BACKFILL_AGE_SECONDS",
    "ChunkDocuments",
    "Classified",
    "Continuation",
    "HistogramSeries",
    "PeriodContext",
    "PlainSeries",
    "PrometheusAPI",
    "PrometheusBackfill",
    "PrometheusBackfillError",
    "PrometheusBackfillResult",
    "SampleSource",
    "Series",
    "TargetTimes",
    "check_age",
    "chunk_documents",
    "chunk_end",
    "classify",
    "count_chunks",
    "counter_periods",
    "gauge_periods",
    "histogram_periods",
    "parse_matrix",
    "parse_metadata",
    "parse_request",
    "planned_range",
    "request_digest",
    "run_backfill",
    "statistic_set",
]
