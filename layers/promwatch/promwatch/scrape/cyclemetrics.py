"""A scrape cycle's self-metrics (namespace ``Promwatch``), from its report (pure)."""
from __future__ import annotations

from collections import Counter
from typing import Any

from promwatch.emf import Distribution, write
from promwatch.scrape.report import CycleReport, TargetReport
from promwatch.scrape.work import STATE_ERROR_PREFIX
from promwatch.selfmetrics import self_metrics

OTLP_REJECTED_REASON = "otlp_rejected"
"""``Reason`` of the OTLP data points the endpoint rejected (partial success)."""
OTLP_TOO_LARGE_REASON = "otlp_too_large"
"""``Reason`` of the OTLP data points not sent: larger than a whole request on their own."""


def self_metric_documents(report: CycleReport, now_ms: int, stage: str | None) -> list[dict[str, Any]]:
    """EMF documents of the cycle's own metrics, per job (``job`` dimension) and overall.

    Per job: ``TargetsScraped``, ``TargetsUp``, ``TargetsFailed``, ``TargetsRefused``,
    ``TargetsDroppedByRelabel``, ``ParseErrors``, ``SamplesScraped``; for a job with a series
    budget (``max_series``), ``ActiveSeries``: the series each target up delivered, one value
    per target (Maximum: the fullest target, to compare with the budget; Sum over an interval:
    the job's total); when not zero, ``StateErrors``, ``TargetsBusy`` (another invocation held
    the target), ``TargetsSkipped`` (the deadline came first), ``TargetsUndelivered``
    (documents lost, baselines kept), ``StateCommitFailures`` (published but baselines not
    saved), ``ClaimsNotReleased`` (the claim lapses at the cycle's deadline) and
    ``DroppedSamples`` per ``Reason`` (the translation's, ``metric_relabel``, ``state_error``,
    and ``series_budget``: values of series beyond the budget, withheld); ``DiscoveryErrors``
    (discoveries that failed; their last good list was used).
    Overall: the fan-out counts and ``UndeliveredDocuments``; when not zero,
    ``UndeliveredOtlpRequests`` and ``DroppedSamples`` with ``Reason`` :data:`OTLP_REJECTED_REASON`
    (data points the OTLP endpoint rejected) and :data:`OTLP_TOO_LARGE_REASON` (too large for
    a request).
    """
    base = {"Component": "scrape", **({"Stage": stage} if stage else {})}
    groups = []
    by_job: dict[str, list[TargetReport]] = {}
    for target_report in report.targets:
        by_job.setdefault(target_report.job, []).append(target_report)
    for job_name, reports in by_job.items():
        scraped = [r for r in reports if not r.skipped and not r.busy]
        counts: dict[str, float | Distribution] = {
            "TargetsScraped": len(scraped),
            "TargetsUp": sum(1 for r in scraped if r.up),
            "TargetsFailed": sum(1 for r in scraped if not r.up and not r.refused),
            "TargetsRefused": sum(1 for r in scraped if r.refused),
            "TargetsDroppedByRelabel": report.dropped_targets.get(job_name, 0),
            "ParseErrors": sum(r.parse_errors for r in scraped),
            "SamplesScraped": sum(r.samples_scraped for r in scraped),
        }
        active = Counter(float(r.active_series) for r in scraped if r.active_series is not None and not r.undelivered)
        if active:
            counts["ActiveSeries"] = Distribution(tuple(active), tuple(map(float, active.values())))
        groups.append(self_metrics(counts, dimensions={**base, "job": job_name}, timestamp_ms=now_ms))
        problems = {
            "StateErrors": sum(1 for r in reports if (r.error or "").startswith(STATE_ERROR_PREFIX)),
            "TargetsBusy": sum(1 for r in reports if r.busy),
            "TargetsSkipped": sum(1 for r in reports if r.skipped),
            "TargetsUndelivered": sum(1 for r in reports if r.undelivered),
            "StateCommitFailures": sum(1 for r in reports if r.commit_failed),
            "ClaimsNotReleased": sum(1 for r in reports if r.release_failed),
        }
        problems = {name: count for name, count in problems.items() if count}
        if problems:
            groups.append(self_metrics(problems, dimensions={**base, "job": job_name}, timestamp_ms=now_ms))
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
    failed_discoveries = Counter(failure.job for failure in report.discovery_failures)
    for job_name, count in sorted(failed_discoveries.items()):
        groups.append(self_metrics({"DiscoveryErrors": count}, dimensions={**base, "job": job_name},
                                   timestamp_ms=now_ms))
    # A request may carry several jobs' points: counted for the cycle, not per job.
    for reason, points in ((OTLP_REJECTED_REASON, report.otlp_rejected_points),
                           (OTLP_TOO_LARGE_REASON, report.otlp_too_large_points)):
        if points:
            groups.append(self_metrics({"DroppedSamples": points},
                                       dimensions={**base, "Reason": reason}, timestamp_ms=now_ms))
    if report.undelivered_otlp_requests:
        groups.append(self_metrics({"UndeliveredOtlpRequests": report.undelivered_otlp_requests},
                                   dimensions=base, timestamp_ms=now_ms))
    if report.undelivered_documents:
        groups.append(self_metrics({"UndeliveredDocuments": report.undelivered_documents},
                                   dimensions=base, timestamp_ms=now_ms))
    return write(groups)
