"""Measured cycles -> usage and USD per month, per job and in total (pure).

The month is 730 hours (AWS's convention); a job is priced at the rate promwatch scrapes it:
once per invocation of the scrape function's schedule (template.yaml's ``ScheduleExpression``,
default rate(1 minute), EventBridge's shortest), whatever its ``scrape_interval`` -- each
invocation scrapes every selected target once, so a 15 s job is scraped every minute. GB is
10^9 bytes. Free tiers are not subtracted. Per job, and what each figure assumes:

``emf``
    Custom metrics (the distinct namespace + name + dimension set the documents declare,
    ``Promwatch`` self-metrics included), priced on the tiers of the *total* count and shared
    out per job by count; plus CloudWatch Logs ingestion of the documents' bytes and one
    month of their storage (gzipped size; the template's log retention is 30 days).
``otlp``
    OpenTelemetry metrics ingestion of the same scrapes, the bytes counted as AWS's pricing
    page describes them (:mod:`promwatch_tools.cost.otlpsize`). The self-metrics stay EMF.
``lambda``
    Requests (one scheduled invocation a cycle, plus one per 10 fan-out messages) and
    GB-seconds at the scrape function's memory and architecture (template.yaml). The
    duration is *estimated*: the CPU seconds the EMF cycle took in this process plus
    :data:`DYNAMODB_CPU_SECONDS_PER_TARGET`, scaled to the function's CPU share
    (memory / :data:`FULL_VCPU_MEMORY_MB` of a vCPU). Fetch waits are not counted (16 workers
    overlap them): a slow target adds its own latency.
``dynamodb``
    Per target per cycle, the four calls of the README's fleet section: claim (PutItem, 1
    WRU), load (strongly consistent GetItem, 1 RRU per 4 KB of the item), save (PutItem, 1
    WRU per KB of the compressed baselines, doubled as a transaction when they span several
    items), release (DeleteItem, 1 WRU).
``sqs``
    Fan-out beyond ``MaxTargetsPerInvocation`` (50) targets: messages of 50 targets, sent 10
    a SendMessageBatch, received and deleted 10 at a time by Lambda's poller; each 64 KB of
    a payload is a request. The poller's empty long polls (a deployment's, not a job's) are
    not counted.
``adot_sidecar``
    What the seed's ADOT collector sidecar costs for the same job: its requests (32m CPU,
    24Mi memory) in every pod, one pod per target, all month, at the sidecar prices
    (Fargate per vCPU-hour and GB-hour by default). It exports through awsemf, so that path
    pays ``emf`` as well.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from promwatch.state.dynamodb import PART_BYTES

from promwatch_tools.cost.errors import CostError
from promwatch_tools.cost.measure import JobMeasurement
from promwatch_tools.cost.prices import Prices

HOURS_PER_MONTH = 730.0
GB = 1e9
FULL_VCPU_MEMORY_MB = 1769
"""Lambda gives a function one full vCPU at this memory, a proportional share below it."""
DYNAMODB_CPU_SECONDS_PER_TARGET = 0.0039
"""CPU of a target's four DynamoDB calls through botocore, measured by benchmarks/bench_fleet.py (README "Fleet")."""
DYNAMODB_CALLS_PER_TARGET = 4
"""Claim, load, save, release: per target and cycle (README "Fleet")."""
DYNAMODB_ITEM_OVERHEAD_BYTES = 100
"""A baselines item's key and attributes besides ``data`` (pk, version, expires_at, ...)."""
MAX_TARGETS_PER_INVOCATION = 50
"""template.yaml's MaxTargetsPerInvocation default: targets a scheduled invocation keeps, and per fan-out message."""
FANOUT_MESSAGES_PER_CALL = 10
"""SendMessageBatch's limit, and the fan-out event source's BatchSize."""
SQS_CHUNK_BYTES = 64 * 1024
ADOT_SIDECAR_VCPU = 0.032
"""The seed's sidecar CPU request: 32m."""
ADOT_SIDECAR_MEMORY_GB = 24 / 1024
"""The seed's sidecar memory request: 24Mi (in GiB, as Fargate bills memory)."""
USD_KEYS = ("emf", "otlp", "adot_sidecar", "lambda", "dynamodb", "sqs")
"""The keys of ``usd_per_month``."""


@dataclass(frozen=True, slots=True)
class FunctionShape:
    """The scrape function as template.yaml declares it."""

    memory_mb: int
    architecture: str = "arm64"
    schedule: str = "rate(1 minute)"
    """The scrape function's EventBridge schedule: one cycle, every job scraped once, per invocation."""

    @property
    def schedule_seconds(self) -> float:
        """Seconds between two scheduled cycles.

        Raises
        ------
        CostError
            When the schedule is not ``rate(N unit)`` (a cron schedule has no single period).
        """
        return schedule_seconds(self.schedule)


_RATE = re.compile(r"rate\(\s*([1-9][0-9]*)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def schedule_seconds(expression: str) -> float:
    """Seconds between the runs of an EventBridge ``rate(N unit)`` expression.

    Raises
    ------
    CostError
        When ``expression`` is not one (naming it and the form expected).
    """
    found = _RATE.fullmatch(expression.strip())
    if found is None:
        raise CostError(f"schedule {expression!r} cannot be priced; expected rate(N minutes|hours|days) "
                        "(a cron schedule has no single period)")
    return float(int(found.group(1)) * _UNIT_SECONDS[found.group(2).rstrip("s")])


@dataclass(slots=True)
class JobCost:
    """One job's month: usage and USD (keys :data:`USD_KEYS`)."""

    job: str
    metrics: int
    targets: int
    interval_seconds: float
    """The job's ``scrape_interval``."""
    scraped_every_seconds: float
    """How often it is scraped, and priced: the schedule's period."""
    cycles: float
    emf_gb: float
    put_log_events: float
    otlp_billed_gb: float
    otlp_raw_gb: float
    otlp_gzip_gb: float
    invocations: float
    seconds_per_cycle: float
    gb_seconds: float
    dynamodb_calls: float
    write_units: float
    read_units: float
    sqs_requests: float
    usd: dict[str, float] = field(default_factory=dict)
    emf_metrics_usd: float = 0.0
    emf_logs_usd: float = 0.0


def tiered_metric_cost(count: int, prices: Prices) -> float:
    """USD per month of ``count`` custom metrics on the price tiers."""
    left, total = float(count), 0.0
    for size, price in prices.metric_tiers():
        taken = min(left, size)
        total += taken * price
        left -= taken
        if left <= 0:
            break
    return total


def _fanout(targets: int, bytes_per_target: float) -> tuple[int, int]:
    """(fan-out invocations, SQS requests) of one cycle of ``targets`` targets: one invocation
    and one SendMessageBatch per 10 messages of 50 targets."""
    rest = max(targets - MAX_TARGETS_PER_INVOCATION, 0)
    messages = math.ceil(rest / MAX_TARGETS_PER_INVOCATION)
    calls = math.ceil(messages / FANOUT_MESSAGES_PER_CALL)
    chunks = 0
    left = rest
    for _ in range(calls):
        in_call = min(left, MAX_TARGETS_PER_INVOCATION * FANOUT_MESSAGES_PER_CALL)
        chunks += max(1, math.ceil(in_call * bytes_per_target / SQS_CHUNK_BYTES))
        left -= in_call
    # sent, received (same payload), deleted (one call per received batch)
    return calls, 2 * chunks + calls


def _dynamodb_units(measured: JobMeasurement) -> tuple[float, float]:
    """(write units, read units) of one cycle."""
    sizes = measured.baseline_bytes or [0]
    mean = sum(sizes) / len(sizes)
    per_target = [*sizes, *([mean] * max(measured.targets - len(sizes), 0))][: max(measured.targets, 0)]
    writes = reads = 0.0
    for size in per_target:
        item = size + DYNAMODB_ITEM_OVERHEAD_BYTES
        save = math.ceil(item / 1024) * (2 if size > PART_BYTES else 1)
        writes += 1 + save + 1  # claim, save, release
        reads += math.ceil(item / 4096)
    return writes, reads


def estimate_job(measured: JobMeasurement, prices: Prices, function: FunctionShape) -> JobCost:
    """One job's month (``usd['emf']`` holds only its logs until :func:`estimate` shares the metrics out)."""
    cycles = HOURS_PER_MONTH * 3600 / function.schedule_seconds
    fanout_invocations, sqs_per_cycle = _fanout(measured.targets, measured.fanout_bytes_per_target)
    share = min(function.memory_mb / FULL_VCPU_MEMORY_MB, 1.0)
    seconds = (measured.cpu_seconds + measured.targets * DYNAMODB_CPU_SECONDS_PER_TARGET) / share
    invocations = cycles * (1 + fanout_invocations)
    gb_seconds = cycles * seconds * function.memory_mb / 1024
    writes, reads = _dynamodb_units(measured)
    gb_second_price = (prices.lambda_gb_second_arm64 if function.architecture == "arm64"
                       else prices.lambda_gb_second_x86_64)
    cost = JobCost(
        job=measured.job, metrics=len(measured.metrics), targets=measured.targets,
        interval_seconds=measured.interval_seconds, scraped_every_seconds=function.schedule_seconds, cycles=cycles,
        emf_gb=cycles * measured.emf_bytes / GB, put_log_events=cycles * measured.put_log_events,
        otlp_billed_gb=cycles * measured.otlp_billed_bytes / GB, otlp_raw_gb=cycles * measured.otlp_raw_bytes / GB,
        otlp_gzip_gb=cycles * measured.otlp_gzip_bytes / GB, invocations=invocations,
        seconds_per_cycle=seconds, gb_seconds=gb_seconds,
        dynamodb_calls=cycles * measured.targets * DYNAMODB_CALLS_PER_TARGET, write_units=cycles * writes, read_units=cycles * reads,
        sqs_requests=cycles * sqs_per_cycle,
    )
    cost.emf_logs_usd = (cost.emf_gb * prices.logs_ingestion_gb
                         + cycles * measured.emf_gzip_bytes / GB * prices.logs_storage_gb_month)
    cost.usd = {
        "emf": cost.emf_logs_usd,
        "otlp": cost.otlp_billed_gb * prices.otel_metrics_ingestion_gb,
        "adot_sidecar": measured.targets * HOURS_PER_MONTH * (ADOT_SIDECAR_VCPU * prices.sidecar_vcpu_hour
                                                               + ADOT_SIDECAR_MEMORY_GB * prices.sidecar_gb_hour),
        "lambda": invocations * prices.lambda_request + gb_seconds * gb_second_price,
        "dynamodb": cost.write_units * prices.dynamodb_write_request_unit
                    + cost.read_units * prices.dynamodb_read_request_unit,
        "sqs": cost.sqs_requests * prices.sqs_request,
    }
    return cost


def estimate(measured: Sequence[JobMeasurement], prices: Prices, function: FunctionShape) -> tuple[list[JobCost], dict[str, float]]:
    """Every job's month and the total (metrics priced on the tiers of the total count).

    Returns
    -------
    tuple
        The jobs' costs, and the total USD per key of :data:`USD_KEYS`.
    """
    costs = [estimate_job(m, prices, function) for m in measured]
    total_metrics = sum(c.metrics for c in costs)
    metrics_usd = tiered_metric_cost(total_metrics, prices)
    for cost in costs:
        cost.emf_metrics_usd = metrics_usd * cost.metrics / total_metrics if total_metrics else 0.0
        cost.usd["emf"] = cost.emf_metrics_usd + cost.emf_logs_usd
    total = {key: sum(c.usd[key] for c in costs) for key in USD_KEYS}
    return costs, total
