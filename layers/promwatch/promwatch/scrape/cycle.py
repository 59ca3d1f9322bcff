"""One scrape cycle: targets -> fetch -> parse -> relabel -> limits -> translate -> sink.

The imperative shell of the scrape domain. Targets are scraped concurrently (a bounded
thread pool sharing one pooled HTTP session); a target that is down, refused, too large or
over a limit gets ``up`` 0 and a log line, and the others go through. Each target's counter
baselines are read from and written back to the state store (optimistic concurrency, with
retries on a lost race). Self-metrics (namespace ``Promwatch``) go through the same sink.
"""
from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from promwatch.emf import EmfOutput, ScrapeStats, TargetInfo, Translation, translate, write
from promwatch.errors import PromwatchError
from promwatch.exposition import Family
from promwatch.gcpause import collector_paused
from promwatch.scrape.config import ScrapeConfig, ScrapeJob
from promwatch.scrape.connection import ConnectionPool
from promwatch.scrape.errors import (
    ConfigError,
    FetchError,
    LimitExceededError,
    SecretError,
    TargetRefusedError,
)
from promwatch.scrape.fanout import FanoutError, FanoutSender, split_batches
from promwatch.scrape.fetch import DEFAULT_POOL_SIZE, FetchPolicy, FetchResponse, fetch
from promwatch.scrape.guard import Resolver, resolve_host
from promwatch.scrape.process import ParseFailedError, parse_budget, parse_failure, parse_page, process_page
from promwatch.scrape.report import CycleReport, TargetReport
from promwatch.scrape.request import fetch_request
from promwatch.scrape.secrets import SecretResolver
from promwatch.scrape.targets import Target, build_targets
from promwatch.selfmetrics import self_metrics
from promwatch.sinks import Sink, sink_from_settings
from promwatch.state import StateError, StateStore, TargetBaselines, update_with_retry

logger = logging.getLogger("promwatch.scrape")

STATE_ERROR_PREFIX = "state store: "
"""Starts the ``error`` of a target whose baselines could not be loaded or saved."""
STATE_ERROR_DROP_REASON = "state_error"
"""Drop reason of the samples of such a target (self-metric ``DroppedSamples``)."""

_DEFAULT_SECRETS: SecretResolver | None = None
_PROCESS_POLICY: FetchPolicy | None = None


def _process_policy() -> FetchPolicy:
    global _PROCESS_POLICY
    if _PROCESS_POLICY is None:
        import os

        _PROCESS_POLICY = FetchPolicy.from_environ(os.environ)
    return _PROCESS_POLICY


def _shared_secrets() -> SecretResolver:
    global _DEFAULT_SECRETS
    if _DEFAULT_SECRETS is None:
        _DEFAULT_SECRETS = SecretResolver()
    return _DEFAULT_SECRETS


@dataclass(slots=True)
class _Context:
    state_store: StateStore
    pool: ConnectionPool | None
    policy: FetchPolicy
    resolver: Resolver
    secrets: SecretResolver
    now_ms: int
    monotonic: Callable[[], float]


@dataclass(slots=True)
class _Outcome:
    report: TargetReport
    documents: list[dict[str, Any]]


def select_targets(
    config: ScrapeConfig,
    jobs: Collection[str] | None = None,
    targets: Collection[str] | None = None,
) -> tuple[list[tuple[ScrapeJob, Target]], dict[str, int], list[str]]:
    """The (job, target) pairs to scrape.

    Parameters
    ----------
    jobs
        Job names to restrict to (None: every job).
    targets
        Target keys (``job|url``) to restrict to (None: every target of the selected jobs).

    Returns
    -------
    (selected, dropped_per_job, unknown_keys)

    Raises
    ------
    ConfigError
        When ``jobs`` names a job the config does not have.
    """
    names = [job.job_name for job in config.scrape_configs]
    if jobs is not None:
        unknown = [name for name in jobs if name not in names]
        if unknown:
            raise ConfigError(f"unknown job(s) {', '.join(map(repr, unknown))}; expected one of {', '.join(map(repr, names))}")
    wanted = set(targets) if targets is not None else None
    selected: list[tuple[ScrapeJob, Target]] = []
    dropped: dict[str, int] = {}
    for job in config.scrape_configs:
        if jobs is not None and job.job_name not in jobs:
            continue
        if wanted is not None and not any(key.startswith(job.job_name + "|") for key in wanted):
            continue
        built, relabel_dropped = build_targets(job, config.global_.external_labels)
        if relabel_dropped:
            dropped[job.job_name] = len(relabel_dropped)
        selected.extend((job, t) for t in built if wanted is None or t.key in wanted)
    found = {t.key for _, t in selected}
    unknown_keys = sorted(wanted - found) if wanted is not None else []
    return selected, dropped, unknown_keys


def run_cycle(
    config: ScrapeConfig,
    *,
    jobs: Collection[str] | None = None,
    targets: Collection[str] | None = None,
    state_store: StateStore,
    sink: Sink,
    pool: ConnectionPool | None = None,
    policy: FetchPolicy | None = None,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    resolver: Resolver = resolve_host,
    secrets: SecretResolver | None = None,
    max_workers: int = DEFAULT_POOL_SIZE,
    max_targets_per_invocation: int | None = None,
    fanout: FanoutSender | None = None,
    sink_for_output: Callable[[EmfOutput], Sink] | None = None,
    stage: str | None = None,
) -> CycleReport:
    """Scrape every selected target once and write its EMF documents to the sink.

    Parameters
    ----------
    config
        The validated scrape configuration.
    jobs, targets
        Restrict to these job names / target keys (``job|url``); None means all.
    state_store
        A :mod:`promwatch.state` store holding each target's counter baselines.
    sink
        Where EMF documents go (data and self-metrics); flushed before returning.
    pool
        Where HTTP connections come from (None: the execution environment's pool).
    policy
        What the process implies for fetches: inside Lambda or not, the default body cap
        (None: read from ``os.environ`` once).
    clock
        Wall-clock seconds (EMF timestamps); ``monotonic`` measures durations.
    resolver
        Host name -> addresses, for the target guard.
    secrets
        Resolves credentials (None: the execution environment's resolver).
    max_workers
        Targets scraped at the same time.
    max_targets_per_invocation, fanout
        With both set and no ``targets`` restriction, targets beyond the first
        ``max_targets_per_invocation`` are sent in batches to the fan-out queue instead.
    sink_for_output
        Makes the sink of a job whose ``emf.output`` is not stdout (default:
        :func:`promwatch.sinks.sink_from_settings`).
    stage
        Added as the ``Stage`` dimension of the self-metrics when given.

    Returns
    -------
    CycleReport

    Raises
    ------
    ConfigError
        When ``jobs`` names an unknown job.
    SinkError
        When the sink cannot deliver (nothing else is lost silently: the caller fails).
    """
    selected, dropped, unknown = select_targets(config, jobs, targets)
    report = CycleReport(dropped_targets=dropped, unknown_targets=unknown)
    for key in unknown:
        logger.warning("fan-out batch names target %s, which the config no longer has; skipped", key)
    if fanout is not None and max_targets_per_invocation and targets is None and len(selected) > max_targets_per_invocation:
        selected, rest = selected[:max_targets_per_invocation], selected[max_targets_per_invocation:]
        _fan_out(fanout, [t for _, t in rest], max_targets_per_invocation, report)

    ctx = _Context(
        state_store=state_store,
        pool=pool,
        policy=policy or _process_policy(),
        resolver=resolver,
        secrets=secrets or _shared_secrets(),
        now_ms=int(clock() * 1000),
        monotonic=monotonic,
    )
    sinks: dict[EmfOutput, Sink] = {}
    make_sink = sink_for_output or _output_sink

    def sink_of(job: ScrapeJob) -> Sink:
        output = job.emf.output
        if output.type == "stdout":
            return sink
        if output not in sinks:
            sinks[output] = make_sink(output)
        return sinks[output]

    # Each target's page and documents are freed by reference counting once written; with
    # the collector paused until then (promwatch.gcpause) it never walks them. What cyclic
    # garbage the cycle makes (little: HTTP and AWS client internals) is collected after it.
    with collector_paused():
        if selected:
            with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(selected))),
                                    thread_name_prefix="promwatch-scrape") as workers:
                futures = deque((job, workers.submit(_scrape_target, job, target, ctx)) for job, target in selected)
                while futures:
                    # popped, so that a target's documents go once written (its future holds them)
                    job, future = futures.popleft()
                    outcome = future.result()
                    del future
                    report.targets.append(outcome.report)
                    if outcome.documents:
                        sink_of(job).write(outcome.documents)
                        report.documents += len(outcome.documents)
                    del outcome

    documents = _self_metric_documents(report, ctx.now_ms, stage)
    sink.write(documents)
    report.documents += len(documents)
    for extra in sinks.values():
        extra.flush()
    sink.flush()
    return report


_OUTPUT_SINKS: dict[EmfOutput, Sink] = {}


def _output_sink(output: EmfOutput) -> Sink:
    """The sink of a job's own ``emf.output``, kept for the execution environment."""
    if output not in _OUTPUT_SINKS:
        _OUTPUT_SINKS[output] = sink_from_settings(output)
    return _OUTPUT_SINKS[output]


def _fan_out(fanout: FanoutSender, rest: Sequence[Target], batch_size: int, report: CycleReport) -> None:
    batches = split_batches(rest, batch_size)
    try:
        report.fanout_messages = fanout.send(batches)
        report.fanned_out_targets = len(rest)
    except FanoutError as exc:
        report.fanout_failed_targets = len(rest)
        logger.error("fan-out of %d targets failed, they are not scraped this cycle: %s", len(rest), exc)


def _scrape_target(job: ScrapeJob, target: Target, ctx: _Context) -> _Outcome:
    report = TargetReport(job=job.job_name, instance=target.instance, url=target.url)
    started = ctx.monotonic()
    response = _fetched(job, target, ctx, report)
    families = _page_families(response, job, target, report) if response is not None else []
    report.duration_seconds = ctx.monotonic() - started
    return _translated(families, job, target, ctx, report)


def _fetched(job: ScrapeJob, target: Target, ctx: _Context, report: TargetReport) -> FetchResponse | None:
    """The target's page, or None (and ``report`` saying why) when it cannot be fetched."""
    try:
        request = fetch_request(job, target, ctx.secrets)
        return fetch(request, pool=ctx.pool, resolver=ctx.resolver, clock=ctx.monotonic, policy=ctx.policy)
    except TargetRefusedError as exc:
        report.refused, report.error = True, str(exc)
        logger.warning("job %s target %s refused by the target guard: %s", job.job_name, target.instance, exc)
    except (FetchError, SecretError) as exc:
        report.error = str(exc)
        logger.warning("job %s target %s is down: %s", job.job_name, target.instance, exc)
    return None


def _page_families(response: FetchResponse, job: ScrapeJob, target: Target, report: TargetReport) -> list[Family]:
    """The page parsed, relabelled and checked against the job's limits; ``[]`` (and
    ``report`` saying why) when it fails them."""
    try:
        parsed = parse_page(response.text, response.content_type, max_samples=parse_budget(job))
        report.samples_scraped = parsed.samples
        report.parse_errors = len(parsed.errors)
        for error in parsed.errors[:5]:
            logger.warning("job %s target %s: skipped bad line: %s", job.job_name, target.instance, error)
        failure = parse_failure(parsed, job)
        if failure is not None:
            raise ParseFailedError(failure)
        page = process_page(parsed.families, job, target.labels)
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
    families: list[Family], job: ScrapeJob, target: Target, ctx: _Context, report: TargetReport
) -> _Outcome:
    """The target's documents, its baselines read and written through the state store."""
    stats = ScrapeStats(
        up=report.up,
        duration_seconds=report.duration_seconds,
        samples_scraped=report.samples_scraped,
        samples_post_metric_relabeling=report.samples_post_metric_relabeling,
    )
    info = TargetInfo(
        job=job.job_name,
        instance=target.instance,
        labels=dict(target.labels),
        honor_timestamps=job.honor_timestamps,
        scrape_interval_seconds=job.interval,
    )

    def compute(previous: TargetBaselines | None) -> tuple[Translation, TargetBaselines | None]:
        translation = translate(
            families, target=info, previous=previous, settings=job.emf, now_ms=ctx.now_ms, scrape=stats,
        )
        return translation, translation.baselines

    try:
        translation = update_with_retry(ctx.state_store, job.job_name, target.instance, compute)
    except StateError as exc:
        # Without its baselines a target's increases cannot be computed: it alone is not
        # published (its samples count as dropped) and the other targets go on.
        report.error = f"{STATE_ERROR_PREFIX}{exc}"
        report.retryable = True
        if report.samples_post_metric_relabeling:
            report.dropped[STATE_ERROR_DROP_REASON] = report.samples_post_metric_relabeling
        logger.error("job %s target %s: counter baselines unavailable, target not published: %s",
                     job.job_name, target.instance, exc)
        return _Outcome(report, [])
    except PromwatchError as exc:
        # One target's page that cannot be translated must not cost the other targets theirs.
        report.error = f"translation: {exc}"
        logger.error("job %s target %s: not published: %s", job.job_name, target.instance, exc)
        return _Outcome(report, [])
    drops = translation.drop_counts()
    report.dropped.update(drops)
    # Series left out by metric_declarations are the config's choice: counted, logged quietly.
    unexpected = {reason: n for reason, n in drops.items() if reason != "not_declared"}
    if unexpected:
        logger.warning("job %s target %s: dropped samples %s", job.job_name, target.instance, unexpected)
    elif drops:
        logger.debug("job %s target %s: series not declared %s", job.job_name, target.instance, drops)
    report.documents = len(translation.documents)
    return _Outcome(report, translation.documents)


def _self_metric_documents(
    report: CycleReport,
    now_ms: int,
    stage: str | None,
) -> list[dict[str, Any]]:
    base = {"Component": "scrape", **({"Stage": stage} if stage else {})}
    groups = []
    by_job: dict[str, list[TargetReport]] = {}
    for target_report in report.targets:
        by_job.setdefault(target_report.job, []).append(target_report)
    for job_name, reports in by_job.items():
        counts = {
            "TargetsScraped": len(reports),
            "TargetsUp": sum(1 for r in reports if r.up),
            "TargetsFailed": sum(1 for r in reports if not r.up and not r.refused),
            "TargetsRefused": sum(1 for r in reports if r.refused),
            "TargetsDroppedByRelabel": report.dropped_targets.get(job_name, 0),
            "ParseErrors": sum(r.parse_errors for r in reports),
            "SamplesScraped": sum(r.samples_scraped for r in reports),
        }
        groups.append(self_metrics(counts, dimensions={**base, "job": job_name}, timestamp_ms=now_ms))
        state_errors = sum(1 for r in reports if (r.error or "").startswith(STATE_ERROR_PREFIX))
        if state_errors:
            groups.append(self_metrics({"StateErrors": state_errors},
                                       dimensions={**base, "job": job_name}, timestamp_ms=now_ms))
        dropped: Counter[str] = Counter()
        for r in reports:
            dropped.update(r.dropped)
        for reason, count in sorted(dropped.items()):
            groups.append(self_metrics({"DroppedSamples": count},
                                       dimensions={**base, "job": job_name, "Reason": reason}, timestamp_ms=now_ms))
    if report.fanned_out_targets or report.fanout_failed_targets or report.unknown_targets:
        groups.append(self_metrics(
            {"FanoutTargets": report.fanned_out_targets, "FanoutFailedTargets": report.fanout_failed_targets,
             "FanoutUnknownTargets": len(report.unknown_targets)},
            dimensions=base, timestamp_ms=now_ms,
        ))
    return write(groups)
