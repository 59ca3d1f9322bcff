"""One scrape cycle: select -> scrape (workers) -> deliver -> commit -> release -> self-metrics.

The imperative shell of the scrape domain, in an order that loses nothing and counts nothing
twice when AWS fails:

1. Targets are scraped concurrently (:func:`promwatch.scrape.work.scrape_target`): each one
   claimed, its baselines loaded, its page translated. A target that is down, refused or over
   a limit gets ``up`` 0 and a log line; the others go on.
2. Every target's documents are written to its sink with the target as the *ticket*, then the
   sinks are flushed: what could not be delivered is known per target.
3. Only then are baselines saved, and only for targets whose documents were delivered. An
   undelivered target keeps its old baselines, so the next cycle covers the whole interval
   (and, with a series budget, its old admitted series: what was not published took no slot).
4. Claims are released; a claim not released lapses at the cycle's deadline.
5. Self-metrics (namespace ``Promwatch``) go to the main sink -- or, when a delivery failed,
   to stdout (the function's own log), a path that does not depend on the failed one.

With a ``deadline`` (the Lambda context's), the cycle stops starting targets in time to
deliver and commit what it has; the targets it did not start (or whose fetch the deadline
cut short: not the target's fault, so not reported down) go back to the fan-out queue
(a schedule invocation) or are reported retryable (an SQS batch: SQS delivers them again).
"""
from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING

from promwatch.emf import EmfOutput
from promwatch.gcpause import collector_paused
from promwatch.httpclient.connection import ConnectionPool
from promwatch.httpclient.fetch import DEFAULT_POOL_SIZE, FetchPolicy
from promwatch.httpclient.guard import Resolver, resolve_host
from promwatch.httpclient.secrets import SecretResolver
from promwatch.otlp.config import OtlpOutput
from promwatch.scrape.config import ScrapeConfig, ScrapeJob
from promwatch.scrape.cyclemetrics import self_metric_documents
from promwatch.scrape.fanout import FanoutError, FanoutSender, split_batches
from promwatch.scrape.memory import WarmMemory
from promwatch.scrape.otlpoutputs import (
    default_otlp_sink,
    flush_otlp,
    open_otlp_sinks,
    otlp_ticket,
    without_failed_outputs,
)
from promwatch.scrape.report import CycleReport, TargetReport
from promwatch.scrape.selection import Discover, select_targets
from promwatch.scrape.targets import Target
from promwatch.scrape.work import DEADLINE_SKIP, TargetOutcome, WorkContext, scrape_target
from promwatch.sinks import LogsSession, Sink, flush_into, report_self_metrics, sink_from_settings
from promwatch.state import StateConflictError, StateError, StateStore

if TYPE_CHECKING:
    from promwatch.otlp.sink import OtlpSink

logger = logging.getLogger("promwatch.scrape")

DELIVERY_RESERVE_SECONDS = 5.0
"""Time kept, before the deadline, to deliver, commit and write self-metrics ..."""
RESERVE_PER_TARGET_SECONDS = 0.02
"""... plus this per target (its commit and claim release: two DynamoDB calls, slower when AWS
throttles), at most a quarter of the time the cycle has. An SQS invocation may hold 10 messages
of 50 targets: 15 s kept."""
MIN_SCRAPE_SECONDS = 0.5
"""A target is not started with less time than this left before the reserve."""
CLAIM_MARGIN_SECONDS = 60.0
"""Without a deadline (the CLI), claims lapse this long after the slowest job's timeout."""

def run_cycle(
    config: ScrapeConfig,
    *,
    jobs: Collection[str] | None = None,
    targets: Collection[str | Target] | None = None,
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
    deadline: float | None = None,
    fallback_sink: Sink | None = None,
    discover: Discover | None = None,
    memory: WarmMemory | None = None,
    sink_for_otlp: Callable[[OtlpOutput], OtlpSink] | None = None,
) -> CycleReport:
    """Scrape every selected target once, deliver its documents, then commit its baselines.

    Parameters
    ----------
    config
        The validated scrape configuration.
    jobs, targets
        Restrict to these job names / targets (:class:`Target` objects a fan-out message
        carried, or keys ``job|url``); None means all.
    state_store
        A :mod:`promwatch.state` store holding each target's counter baselines and claims.
    sink
        Where EMF documents go (data and self-metrics); flushed before returning.
    pool
        Where HTTP connections come from and host names are resolved (the runtime's, kept
        warm); None: a pool of this cycle's own, closed when its targets are scraped.
    policy
        What the process implies for fetches: inside Lambda or not, the default body cap
        (None: read from ``os.environ`` for this cycle).
    clock
        Wall-clock seconds (EMF timestamps, claims); ``monotonic`` measures durations and the
        deadline.
    resolver
        Host name -> addresses, for the target guard.
    secrets
        Resolves credentials (None: a resolver for this cycle).
    max_workers
        Targets scraped at the same time.
    max_targets_per_invocation, fanout
        With both set and no ``targets`` restriction, targets beyond the first
        ``max_targets_per_invocation`` are sent in batches to the fan-out queue instead.
    sink_for_output
        Makes the sink of a job whose ``emf.output`` is not stdout, once per output and cycle
        (default: :func:`promwatch.sinks.sink_from_settings`, the cycle's sinks sharing one
        :class:`~promwatch.sinks.LogsSession`).
    stage
        Added as the ``Stage`` dimension of the self-metrics when given.
    deadline
        Monotonic seconds by which the cycle must have returned (a Lambda invocation's end);
        None: no limit but the jobs' timeouts.
    fallback_sink
        Where self-metrics go when a delivery failed (default: stdout).
    discover
        Lists a job's discovered target groups (:func:`promwatch.scrape.selection.discoverer`);
        None: static targets only.
    memory
        What the parser, the relabelling and the translation reuse from earlier cycles (the
        runtime's :class:`WarmMemory`); None: a fresh one for this cycle (same output).
    sink_for_otlp
        Makes the sink of a job's ``otlp`` output (the runtime keeps one per output for the
        execution environment; default: :func:`promwatch.otlp.otlp_sink`, one per cycle). Its targets' tickets are
        ``("otlp", target key)``: their start times are committed only when delivered. Every
        selected job's output is made before any target is scraped: the targets of a job whose
        output cannot be made are reported failed (error naming the output), not scraped.

    Returns
    -------
    CycleReport
        Targets not delivered are marked ``undelivered`` and ``retryable``; targets not
        started for lack of time, or whose fetch the deadline cut short, ``skipped``.

    Raises
    ------
    ConfigError
        When ``jobs`` names an unknown job.
    """
    selection = select_targets(config, jobs, targets, discover=discover)
    selected = selection.selected
    report = CycleReport(dropped_targets=selection.dropped, unknown_targets=selection.unknown,
                         discovery_failures=selection.discovery_failures)
    for key in selection.unknown:
        logger.warning("fan-out batch names target %s, which the config no longer has; skipped", key)
    if fanout is not None and max_targets_per_invocation and targets is None and len(selected) > max_targets_per_invocation:
        selected, rest = selected[:max_targets_per_invocation], selected[max_targets_per_invocation:]
        _fan_out(fanout, [t for _, t in rest], max_targets_per_invocation, report)
    otlp_sinks, otlp_failures = open_otlp_sinks((job for job, _ in selected), sink_for_otlp or default_otlp_sink)
    selected = without_failed_outputs(selected, otlp_failures, report)

    now = clock()
    start = monotonic()
    work_deadline = None
    if deadline is not None:
        reserve = DELIVERY_RESERVE_SECONDS + RESERVE_PER_TARGET_SECONDS * len(selected)
        work_deadline = deadline - min(reserve, max(deadline - start, 0.0) / 4)
        claim_seconds = max(deadline - start, 0.0)
    else:
        claim_seconds = max((job.timeout for job, _ in selected), default=0.0) + CLAIM_MARGIN_SECONDS
    ctx = WorkContext(
        state_store=state_store, pool=ConnectionPool() if pool is None else pool,
        policy=policy or FetchPolicy.from_env(), resolver=resolver,
        secrets=secrets or SecretResolver(), now_ms=int(now * 1000), monotonic=monotonic,
        owner=uuid.uuid4().hex, claim_until_ms=int((now + claim_seconds) * 1000),
        memory=WarmMemory() if memory is None else memory, deadline=work_deadline,
    )
    sinks: dict[EmfOutput, Sink] = {}
    make_sink = sink_for_output or partial(sink_from_settings, logs=LogsSession())

    def sink_of(job: ScrapeJob) -> Sink:
        output = job.emf.output
        if output.type == "stdout":
            return sink
        if output not in sinks:
            sinks[output] = make_sink(output)
        return sinks[output]

    def otlp_sink_of(job: ScrapeJob) -> OtlpSink:
        assert job.otlp is not None  # only asked for jobs with an OTLP output, made above
        return otlp_sinks[job.otlp]

    try:
        outcomes = _scrape_all(selected, ctx, max_workers, report, sink_of, otlp_sink_of)
    finally:
        if pool is None:
            ctx.pool.close()
    skipped = [target for (_, target), outcome in zip(selected, outcomes, strict=True) if outcome.report.skipped]
    if skipped:
        _reschedule(skipped, fanout if targets is None else None, max_targets_per_invocation, report)
    failed_tickets = _flush_all([*sinks.values(), sink], report)
    failed_tickets |= flush_otlp(list(otlp_sinks.values()), deadline, report)
    _commit(outcomes, failed_tickets, ctx, max_workers, report)

    documents = self_metric_documents(report, ctx.now_ms, stage)
    report.documents += len(documents)
    report_self_metrics(sink, documents, sink_failed=bool(report.undelivered_documents), fallback=fallback_sink)
    return report


def _scrape_all(
    selected: Sequence[tuple[ScrapeJob, Target]],
    ctx: WorkContext,
    max_workers: int,
    report: CycleReport,
    sink_of: Callable[[ScrapeJob], Sink],
    otlp_sink_of: Callable[[ScrapeJob], OtlpSink],
) -> list[TargetOutcome]:
    """Every target's outcome, in order; documents written to their sinks as they come."""
    outcomes: list[TargetOutcome] = []
    if not selected:
        return outcomes

    def work(job: ScrapeJob, target: Target) -> TargetOutcome:
        if ctx.deadline is not None and ctx.monotonic() > ctx.deadline - MIN_SCRAPE_SECONDS:
            skipped = TargetReport(job=job.job_name, instance=target.instance, url=target.url,
                                   error="not scraped: the invocation's deadline was near", skipped=DEADLINE_SKIP,
                                   retryable=True)
            return TargetOutcome(skipped)
        return scrape_target(job, target, ctx)

    # Each target's page and documents are freed by reference counting once written; with
    # the collector paused until then (promwatch.gcpause) it never walks them. What cyclic
    # garbage the cycle makes (little: HTTP and AWS client internals) is collected after it.
    with collector_paused(), ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(selected))),
                                                thread_name_prefix="promwatch-scrape") as workers:
        futures = deque((job, target, workers.submit(work, job, target)) for job, target in selected)
        while futures:
            job, target, future = futures.popleft()
            outcome = future.result()
            del future
            report.targets.append(outcome.report)
            if outcome.documents:
                sink_of(job).write(outcome.documents, ticket=target.key)
                report.documents += len(outcome.documents)
                outcome.documents = []  # written: freed now, not at the end of the cycle
            if outcome.resource_metrics is not None:
                otlp_sink_of(job).add(outcome.resource_metrics, ticket=otlp_ticket(target.key))
                outcome.resource_metrics = None
            outcomes.append(outcome)
    return outcomes


def _flush_all(sinks: Sequence[Sink], report: CycleReport) -> set[Hashable]:
    """Flush every sink; the tickets of the targets whose documents were not delivered."""
    failed: set[Hashable] = set()
    for each in dict.fromkeys(sinks):  # the main sink may also be a job's: once
        report.undelivered_documents += flush_into(
            each, failed, "EMF delivery failed, baselines of the targets concerned are kept for the next cycle")
    return failed


def _commit(
    outcomes: Sequence[TargetOutcome], failed: set[Hashable], ctx: WorkContext, max_workers: int, report: CycleReport
) -> None:
    """Save the baselines of the targets whose documents were delivered, then release claims."""

    def settle(outcome: TargetOutcome) -> None:
        target = outcome.report
        emf_delivered = target.key not in failed
        otlp_delivered = otlp_ticket(target.key) not in failed
        if not (emf_delivered and otlp_delivered):
            target.undelivered, target.retryable = True, True
        to_save = outcome.commit.to_save(emf_delivered, otlp_delivered) if outcome.commit is not None else None
        if to_save is not None:
            try:
                ctx.state_store.save(target.job, target.instance, to_save,
                                     expected_version=outcome.commit.expected_version)  # type: ignore[union-attr]
                if to_save.admitted_series is not None:
                    ctx.memory.remember_admitted(target.key, to_save.admitted_series)
            except StateConflictError as exc:
                target.commit_failed = True
                logger.error("job %s target %s: baselines changed by someone else after this cycle claimed them "
                             "(its claim lapsed?); its increases may be counted twice: %s", target.job, target.instance, exc)
            except StateError as exc:
                target.commit_failed = True
                logger.error("job %s target %s: published, but its baselines could not be saved; the next scrape "
                             "counts this interval again: %s", target.job, target.instance, exc)
        if outcome.claimed:
            try:
                ctx.state_store.release(target.job, target.instance, owner=ctx.owner)
            except StateError as exc:
                target.release_failed = True
                logger.warning("job %s target %s: claim not released (it lapses at the deadline): %s",
                               target.job, target.instance, exc)

    pending = [o for o in outcomes if o.claimed or o.report.key in failed or otlp_ticket(o.report.key) in failed]
    if not pending:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(pending))),
                            thread_name_prefix="promwatch-commit") as workers:
        for done in [workers.submit(settle, outcome) for outcome in pending]:
            done.result()


def _fan_out(fanout: FanoutSender, rest: Sequence[Target], batch_size: int, report: CycleReport) -> set[str]:
    """Send ``rest`` to the fan-out queue; the keys of the targets that went out."""
    batches = split_batches(rest, batch_size)
    try:
        report.fanout_messages += fanout.send(batches)
        unsent: set[str] = set()
    except FanoutError as exc:
        report.fanout_messages += exc.sent_messages
        unsent = set(exc.unsent)
        logger.error("fan-out of %d targets failed, they are not scraped this cycle: %s", len(unsent), exc)
    report.fanout_failed_targets += len(unsent)
    report.fanned_out_targets += len(rest) - len(unsent)
    return {target.key for target in rest} - unsent


def _reschedule(
    skipped: Sequence[Target], fanout: FanoutSender | None, batch_size: int | None, report: CycleReport
) -> None:
    """Targets the deadline left unscraped: to the fan-out queue when there is one (then they
    are no longer retryable here), else reported as they are (retryable)."""
    if fanout is None:
        logger.error("%d targets not scraped: the invocation's deadline was near (%s)", len(skipped),
                     ", ".join(t.key for t in skipped[:5]) + (" ..." if len(skipped) > 5 else ""))
        return
    sent = _fan_out(fanout, skipped, batch_size or len(skipped), report)
    if sent:
        for target in report.targets:
            if target.key in sent:
                target.retryable = False
                target.error = "not scraped: the invocation's deadline was near; sent to the fan-out queue"
        logger.warning("%d targets the deadline left unscraped were sent to the fan-out queue", len(sent))
