"""The OTLP outputs of a scrape cycle: made (region and credentials resolved) before any target
is scraped, then flushed after, within the cycle's deadline.

A job whose OTLP output cannot be made (no region, no credentials) is not scraped at all: its
targets are reported failed with an error naming the output, nothing of them is claimed or
published, and the other jobs go through (:func:`open_otlp_sinks`).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING

from promwatch.otlp.config import OtlpOutput
from promwatch.scrape.config import ScrapeJob
from promwatch.scrape.report import CycleReport, TargetReport
from promwatch.scrape.targets import Target
from promwatch.sinks import SinkError, flush_into

if TYPE_CHECKING:
    from promwatch.otlp.sink import OtlpSink

logger = logging.getLogger("promwatch.scrape")


def otlp_ticket(key: str) -> tuple[str, str]:
    """The ticket of a target's OTLP metrics (its EMF documents' is the target key)."""
    return ("otlp", key)


def default_otlp_sink(output: OtlpOutput) -> OtlpSink:
    """The sink of ``output`` for one cycle (:func:`promwatch.otlp.otlp_sink`)."""
    # The protobuf runtime and botocore's signer load here, when a job first sends OTLP.
    from promwatch.otlp.sink import otlp_sink

    return otlp_sink(output)


def describe_output(output: OtlpOutput) -> str:
    """``output`` as a log line names it: its endpoint and region, or where they come from."""
    return (f"otlp output (endpoint {output.endpoint or 'of the region'}, "
            f"region {output.region or 'from the endpoint or AWS_REGION'})")


def open_otlp_sinks(
    jobs: Iterable[ScrapeJob], make: Callable[[OtlpOutput], OtlpSink]
) -> tuple[dict[OtlpOutput, OtlpSink], dict[OtlpOutput, str]]:
    """The sink of every OTLP output of ``jobs``, and the outputs that cannot be made, each
    with the reason (logged)."""
    sinks: dict[OtlpOutput, OtlpSink] = {}
    failures: dict[OtlpOutput, str] = {}
    for job in jobs:
        output = job.otlp
        if output is None or output in sinks or output in failures:
            continue
        try:
            sinks[output] = make(output)
        except SinkError as exc:
            failures[output] = f"its {describe_output(output)} cannot be used: {exc}"
            logger.error("job %s is not scraped: %s", job.job_name, failures[output])
    return sinks, failures


def without_failed_outputs(
    selected: Sequence[tuple[ScrapeJob, Target]], failures: dict[OtlpOutput, str], report: CycleReport
) -> list[tuple[ScrapeJob, Target]]:
    """``selected`` less the targets of jobs whose OTLP output failed; those are reported
    failed (``TargetsFailed``), never claimed nor scraped."""
    if not failures:
        return list(selected)
    kept = []
    for job, target in selected:
        reason = failures.get(job.otlp) if job.otlp is not None else None
        if reason is None:
            kept.append((job, target))
        else:
            report.targets.append(TargetReport(job=job.job_name, instance=target.instance, url=target.url,
                                               error=f"not scraped: {reason}"))
    return kept


def flush_otlp(sinks: Sequence[OtlpSink], deadline: float | None, report: CycleReport) -> set[Hashable]:
    """Flush every OTLP sink within ``deadline``; the tickets of the targets not delivered."""
    failed: set[Hashable] = set()
    for each in sinks:
        each.deadline = deadline
        rejected_before, too_large_before = each.rejected_points, each.too_large_points
        report.undelivered_otlp_requests += flush_into(
            each, failed, "OTLP delivery failed, start times of the targets concerned are kept")
        report.otlp_rejected_points += each.rejected_points - rejected_before
        report.otlp_too_large_points += each.too_large_points - too_large_before
    return failed
