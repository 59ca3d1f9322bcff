"""One target's scrape inside a cycle: fetch -> parse -> relabel -> claim -> load -> translate.

The imperative shell around the pure pieces, run on a worker thread. Nothing is committed
here: the documents and the baselines to save come back as a :class:`TargetOutcome`, and the
cycle saves the baselines only once the documents were delivered (:mod:`promwatch.scrape.cycle`).

The state store can fail at each step: then the target's ``up``, its scrape metrics and its
gauges are still published, and its cumulative series (counters, histograms, summaries) are
dropped and counted -- their increases need the baselines, and the next cycle that has them
covers the whole interval.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promwatch.emf import ScrapeStats, TargetInfo, translate
from promwatch.errors import PromwatchError
from promwatch.exposition import Family
from promwatch.httpclient.connection import ConnectionPool
from promwatch.httpclient.errors import FetchError, SecretError, TargetRefusedError
from promwatch.httpclient.fetch import FetchPolicy, FetchResponse, fetch
from promwatch.httpclient.guard import Resolver
from promwatch.httpclient.secrets import SecretResolver
from promwatch.scrape.budget import SERIES_BUDGET_DROP_REASON, admit
from promwatch.scrape.config import ScrapeJob
from promwatch.scrape.errors import LimitExceededError
from promwatch.scrape.memory import WarmMemory
from promwatch.scrape.process import ParseFailedError, parse_budget, parse_failure, parse_page, process_page
from promwatch.scrape.report import TargetReport
from promwatch.scrape.request import fetch_request
from promwatch.scrape.targets import Target
from promwatch.state import StartTime, StateError, StateStore, TargetBaselines

if TYPE_CHECKING:
    from opentelemetry.proto.metrics.v1.metrics_pb2 import ResourceMetrics

logger = logging.getLogger("promwatch.scrape")

STATE_ERROR_PREFIX = "state store: "
"""Starts the ``error`` of a target whose baselines could not be claimed or loaded."""
STATE_ERROR_DROP_REASON = "state_error"
"""Drop reason of the cumulative samples of such a target (self-metric ``DroppedSamples``)."""
BUSY_ERROR = "another invocation is scraping this target now; left to it"
DEADLINE_SKIP = "deadline"
"""``skipped`` of a target the invocation's deadline left unscraped (not started, or cut short)."""
DEADLINE_CUT_ERROR = "not scraped: the invocation's deadline cut its fetch short"
_DEADLINE_SLACK_SECONDS = 0.05
"""A fetch that failed this close to the deadline it was cut to was cut by it."""
_CUMULATIVE_TYPES = frozenset({"counter", "histogram", "summary"})


@dataclass(slots=True)
class WorkContext:
    """What every target's work in one cycle shares."""

    state_store: StateStore
    pool: ConnectionPool
    policy: FetchPolicy
    resolver: Resolver
    secrets: SecretResolver
    now_ms: int
    monotonic: Callable[[], float]
    owner: str
    """This cycle's name in claims."""
    claim_until_ms: int
    """When this cycle's claims lapse on their own (its deadline, wall clock)."""
    memory: WarmMemory
    """What parsing, relabelling and translating reuse from earlier scrapes (the runtime's)."""
    deadline: float | None = None
    """Monotonic seconds by which every fetch must end (None: the job's timeout alone)."""


@dataclass(slots=True)
class PendingCommit:
    """Baselines to save once the documents they go with were delivered.

    ``baselines`` are the EMF translation's (None for a job without EMF); ``starts`` the OTLP
    start times (None for a job without OTLP). Each part is saved only when its own output
    was delivered (:meth:`to_save`); the other keeps what ``previous`` held.
    """

    baselines: TargetBaselines | None
    expected_version: int
    starts: dict[str, StartTime] | None = None
    previous: TargetBaselines | None = None
    scraped_at_ms: int = 0
    """This scrape's time (the record's when the EMF part is not the new one)."""

    def to_save(self, emf_delivered: bool, otlp_delivered: bool) -> TargetBaselines | None:
        """What to store given which outputs were delivered; None when nothing changes."""
        emf_new = self.baselines is not None and emf_delivered
        otlp_new = self.starts is not None and otlp_delivered
        if not emf_new and not otlp_new:
            return None
        if self.starts is None:
            return self.baselines  # an EMF-only job: exactly the translation's baselines
        kept = self.baselines if emf_new else self.previous
        starts = self.starts if otlp_new else (self.previous.starts if self.previous is not None else {})
        if kept is None:
            return TargetBaselines(self.scraped_at_ms, starts=starts)
        return TargetBaselines(kept.scraped_at_ms, kept.counters, kept.histograms, starts, kept.admitted_series)


@dataclass(slots=True)
class TargetOutcome:
    """One target's work: its report, its documents, and what to commit after delivery."""

    report: TargetReport
    documents: list[dict[str, Any]] = field(default_factory=list)
    resource_metrics: ResourceMetrics | None = None
    """The target's OTLP metrics (a job with an OTLP output)."""
    commit: PendingCommit | None = None
    claimed: bool = False
    """The target is claimed by this cycle (release it after the commit)."""


def scrape_target(job: ScrapeJob, target: Target, ctx: WorkContext) -> TargetOutcome:
    """Scrape ``target`` of ``job`` and translate it; nothing is written anywhere."""
    report = TargetReport(job=job.job_name, instance=target.instance, url=target.url)
    started = ctx.monotonic()
    response = _fetched(job, target, ctx, report)
    if report.skipped:
        return TargetOutcome(report)
    families = _page_families(response, job, target, ctx, report) if response is not None else []
    report.duration_seconds = ctx.monotonic() - started
    return _translated(families, job, target, ctx, report)


def _fetched(job: ScrapeJob, target: Target, ctx: WorkContext, report: TargetReport) -> FetchResponse | None:
    """The target's page, or None (and ``report`` saying why) when it cannot be fetched."""
    cut_at = None
    try:
        request = fetch_request(job, target, ctx.secrets)
        if ctx.deadline is not None:
            left = ctx.deadline - ctx.monotonic()
            if left < request.timeout:
                request = request.with_timeout(max(left, 0.0))
                cut_at = ctx.deadline
        return fetch(request, pool=ctx.pool, resolver=ctx.resolver, clock=ctx.monotonic, policy=ctx.policy)
    except TargetRefusedError as exc:
        report.refused, report.error = True, str(exc)
        logger.warning("job %s target %s refused by the target guard: %s", job.job_name, target.instance, exc)
    except FetchError as exc:
        if cut_at is not None and ctx.monotonic() >= cut_at - _DEADLINE_SLACK_SECONDS:
            # Still within its own scrape timeout: the invocation ran out of time, not the
            # target. Like a target never started, it goes back to the queue (or SQS).
            report.skipped, report.retryable, report.error = DEADLINE_SKIP, True, DEADLINE_CUT_ERROR
            logger.warning("job %s target %s: %s (%s)", job.job_name, target.instance, DEADLINE_CUT_ERROR, exc)
        else:
            report.error = str(exc)
            logger.warning("job %s target %s is down: %s", job.job_name, target.instance, exc)
    except SecretError as exc:
        report.error = str(exc)
        logger.warning("job %s target %s is down: %s", job.job_name, target.instance, exc)
    return None


def _page_families(
    response: FetchResponse, job: ScrapeJob, target: Target, ctx: WorkContext, report: TargetReport
) -> list[Family]:
    """The page parsed, relabelled and checked against the job's limits; ``[]`` (and
    ``report`` saying why) when it fails them."""
    try:
        parsed = parse_page(response.text, response.content_type, max_samples=parse_budget(job),
                            memory=ctx.memory)
        report.samples_scraped = parsed.samples
        report.parse_errors = len(parsed.errors)
        for error in parsed.errors[:5]:
            logger.warning("job %s target %s: skipped bad line: %s", job.job_name, target.instance, error)
        failure = parse_failure(parsed, job)
        if failure is not None:
            raise ParseFailedError(failure)
        page = process_page(parsed.families, job, target.labels, memory=ctx.memory)
    except (ParseFailedError, LimitExceededError) as exc:
        report.error = str(exc)
        logger.warning("job %s target %s is down: %s", job.job_name, target.instance, exc)
        return []
    report.samples_post_metric_relabeling = page.samples_post_relabel
    if page.relabel_dropped:
        report.dropped["metric_relabel"] = page.relabel_dropped
    report.up = True
    return page.families


def _translated(
    families: list[Family], job: ScrapeJob, target: Target, ctx: WorkContext, report: TargetReport
) -> TargetOutcome:
    """The target's documents, translated from the baselines it claimed and loaded."""
    outcome = TargetOutcome(report)
    previous: TargetBaselines | None = None
    version = 0
    state_failed = False
    if families:
        try:
            outcome.claimed = ctx.state_store.claim(
                job.job_name, target.instance, owner=ctx.owner, until_ms=ctx.claim_until_ms, now_ms=ctx.now_ms,
            )
            if not outcome.claimed:
                # One of two invocations scraping the target at once publishes it: not both.
                report.error, report.up, report.busy = BUSY_ERROR, False, True
                logger.info("job %s target %s: %s", job.job_name, target.instance, BUSY_ERROR)
                return outcome
            previous, version = ctx.state_store.load(job.job_name, target.instance)
        except StateError as exc:
            outcome.claimed = outcome.claimed and _released(ctx, job, target, report)
            families = _without_cumulative(families, report)
            report.error = f"{STATE_ERROR_PREFIX}{exc}"
            report.retryable = True
            logger.error("job %s target %s: counter baselines unavailable, only up and gauges published: %s",
                         job.job_name, target.instance, exc)
            previous, state_failed = None, True
    baselines: TargetBaselines | None = None
    if job.sends_emf:
        try:
            translation = translate(
                families, target=_info(job, target), previous=previous, settings=job.emf, now_ms=ctx.now_ms,
                scrape=ScrapeStats(up=report.up, duration_seconds=report.duration_seconds,
                                   samples_scraped=report.samples_scraped,
                                   samples_post_metric_relabeling=report.samples_post_metric_relabeling),
                memory=ctx.memory.translation,
            )
        except PromwatchError as exc:
            # One target's page that cannot be translated must not cost the other targets theirs.
            report.error = f"translation: {exc}"
            logger.error("job %s target %s: not published: %s", job.job_name, target.instance, exc)
            return outcome
        drops = translation.drop_counts()
        documents = translation.documents
        baselines = translation.baselines
        if job.max_series and report.up:
            _apply_budget(job, target, ctx, report, translation.scrape_documents, documents, drops,
                          previous, baselines, state_failed, outcome)
            documents = outcome.documents
        _count_drops(drops, job, target, report)
        outcome.documents = documents
        report.documents = len(documents)
    starts = None
    if job.otlp is not None:
        starts = _otlp_translated(families, job, target, ctx, report, outcome, previous)
    if not outcome.claimed:
        return outcome
    if starts is None:
        if baselines is not None and baselines is not previous:
            outcome.commit = PendingCommit(baselines, version)
    else:
        outcome.commit = PendingCommit(baselines if job.sends_emf and baselines is not previous else None,
                                       version, starts=starts, previous=previous, scraped_at_ms=ctx.now_ms)
    return outcome


def _apply_budget(
    job: ScrapeJob, target: Target, ctx: WorkContext, report: TargetReport, exempt: int,
    documents: list[dict[str, Any]], drops: dict[str, int], previous: TargetBaselines | None,
    baselines: TargetBaselines | None, state_failed: bool, outcome: TargetOutcome,
) -> None:
    """Hold the target's documents to the job's ``max_series``: ``outcome.documents`` gets the
    admitted ones, ``drops`` the withheld values, ``baselines`` the admitted set to commit."""
    # The set the last delivered scrape committed; when the state store failed, the one
    # this environment last committed (else the budget would start over and admit others).
    admitted = (previous.admitted_series if previous is not None
                else ctx.memory.admitted_series.get(target.key) if state_failed else None)
    admission = admit(documents, exempt=exempt, budget=job.max_series, previous=admitted or {},
                      now_ms=ctx.now_ms, retention_seconds=job.emf.series_retention_seconds,
                      digests=ctx.memory.series_digests)
    outcome.documents = admission.documents
    report.active_series = admission.active
    if admission.dropped:
        drops[SERIES_BUDGET_DROP_REASON] = admission.dropped
        logger.warning("job %s target %s: %d values of series beyond max_series %d withheld (%s ...)",
                       job.job_name, target.instance, admission.dropped, job.max_series,
                       ", ".join(admission.withheld))
    if baselines is not None and baselines is not previous:
        baselines.admitted_series = admission.admitted


def _otlp_translated(
    families: list[Family], job: ScrapeJob, target: Target, ctx: WorkContext, report: TargetReport,
    outcome: TargetOutcome, previous: TargetBaselines | None,
) -> dict[str, StartTime] | None:
    """Put the target's OTLP metrics on ``outcome``; the start times to store (None: keep the
    stored ones, the target being down). The protobuf runtime loads here, on a job's first use."""
    from promwatch.otlp.mapping import ScrapeTarget, to_resource_metrics

    stored = previous.starts if previous is not None else {}
    scrape_gauges = {
        "up": 1.0 if report.up else 0.0,
        "scrape_duration_seconds": report.duration_seconds,
        "scrape_samples_scraped": float(report.samples_scraped),
        "scrape_samples_post_metric_relabeling": float(report.samples_post_metric_relabeling),
    }
    translation = to_resource_metrics(
        families, target=ScrapeTarget(job.job_name, target.instance, target.url, dict(target.labels),
                                      honor_timestamps=job.honor_timestamps),
        now_ms=ctx.now_ms, previous_starts=stored, scrape_gauges=scrape_gauges,
    )
    outcome.resource_metrics = translation.resource_metrics
    if translation.created_after_time:
        logger.warning("job %s target %s: %d series expose a _created later than the scrape (its clock ahead?); "
                       "sent with the first scrape that saw them as their start", job.job_name, target.instance,
                       translation.created_after_time)
    _count_drops(dict(translation.dropped), job, target, report)
    return translation.starts if report.up else None


def _released(ctx: WorkContext, job: ScrapeJob, target: Target, report: TargetReport) -> bool:
    """Give back a claim this target's work cannot use; always False: this cycle no longer
    holds it (one that could not be given back lapses at the deadline)."""
    try:
        ctx.state_store.release(job.job_name, target.instance, owner=ctx.owner)
    except StateError:
        report.release_failed = True
    return False


def _info(job: ScrapeJob, target: Target) -> TargetInfo:
    return TargetInfo(job=job.job_name, instance=target.instance, labels=dict(target.labels),
                      honor_timestamps=job.honor_timestamps, scrape_interval_seconds=job.interval)


def _without_cumulative(families: list[Family], report: TargetReport) -> list[Family]:
    """The families that need no baselines (gauges and the like); the others counted as dropped."""
    dropped = sum(len(f.samples) for f in families if f.type in _CUMULATIVE_TYPES)
    if dropped:
        report.dropped[STATE_ERROR_DROP_REASON] = dropped
    return [f for f in families if f.type not in _CUMULATIVE_TYPES]


def _count_drops(drops: dict[str, int], job: ScrapeJob, target: Target, report: TargetReport) -> None:
    for reason, count in drops.items():
        report.dropped[reason] = report.dropped.get(reason, 0) + count
    # Series left out by metric_declarations are the config's choice: counted, logged quietly.
    unexpected = {reason: n for reason, n in drops.items() if reason != "not_declared"}
    if unexpected:
        logger.warning("job %s target %s: dropped samples %s", job.job_name, target.instance, unexpected)
    elif drops:
        logger.debug("job %s target %s: series not declared %s", job.job_name, target.instance, drops)

