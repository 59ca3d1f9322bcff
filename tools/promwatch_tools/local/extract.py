"""What CloudWatch extracts from EMF log events, emulated (pure code).

CloudWatch Logs turns every valid EMF document into metric data: for each MetricDirective,
each DimensionSet and each MetricDefinition, one datum in the directive's namespace whose
dimensions are the set's keys with the document's values, stamped with ``_aws.Timestamp``.
A value is a number (one sample), an array (one sample per entry) or a distribution
(``Values``/``Counts`` with ``Sum``/``Count``/``Min``/``Max``). A document that breaks the
specification, or whose timestamp is outside what CloudWatch accepts, yields nothing; log
events that are not EMF at all (plain log lines) are ignored, as CloudWatch ignores them.

moto does not do this extraction; :mod:`promwatch_tools.local.cloudwatch` puts the data produced
here into the emulator with PutMetricData.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from promwatch.emf import problems
from promwatch.limits import (
    EMF_MAX_FUTURE_AGE_SECONDS,
    EMF_MAX_PAST_AGE_SECONDS,
    METRICS_PUT_MAX_DATUMS,
    METRICS_PUT_MAX_VALUES,
)

from promwatch_tools.local.errors import LocalError


@dataclass(frozen=True, slots=True)
class ExtractedDatum:
    """One metric datum CloudWatch would extract from an EMF document.

    ``values``/``counts`` are the samples (a plain number is one value counted once). The
    statistic set is exact: for a distribution it is the document's ``Sum``/``Count``/``Min``/
    ``Max`` (its values only approximate each observation); otherwise it follows from the
    samples.
    """

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    timestamp_ms: int
    unit: str
    storage_resolution: int
    values: tuple[float, ...]
    counts: tuple[float, ...]
    sample_count: float
    sum: float
    minimum: float
    maximum: float
    distribution: bool = False


@dataclass(frozen=True, slots=True)
class RejectedEvent:
    """An EMF log event CloudWatch would not extract metrics from, and why."""

    index: int
    reasons: tuple[str, ...]


@dataclass(slots=True)
class Extraction:
    """The result of extracting a batch of log events."""

    datums: list[ExtractedDatum] = field(default_factory=list)
    rejected: list[RejectedEvent] = field(default_factory=list)
    emf_events: int = 0
    plain_events: int = 0


def _statistics(values: Sequence[float], counts: Sequence[float]) -> tuple[float, float, float, float]:
    present = [(v, c) for v, c in zip(values, counts, strict=True) if c > 0]
    total = math.fsum(c for _, c in present)
    return (
        total,
        math.fsum(v * c for v, c in present),
        min((v for v, _ in present), default=0.0),
        max((v for v, _ in present), default=0.0),
    )


def _datum(
    directive: dict[str, Any],
    definition: dict[str, Any],
    value: Any,
    dimensions: tuple[tuple[str, str], ...],
    timestamp_ms: int,
) -> ExtractedDatum:
    common: dict[str, Any] = {
        "namespace": directive["Namespace"],
        "name": definition["Name"],
        "dimensions": dimensions,
        "timestamp_ms": timestamp_ms,
        "unit": definition.get("Unit", "None"),
        "storage_resolution": int(definition.get("StorageResolution", 60)),
    }
    if isinstance(value, dict):
        values = tuple(float(v) for v in value["Values"]) if "Values" in value else ()
        counts = tuple(float(c) for c in value["Counts"]) if "Counts" in value else ()
        return ExtractedDatum(
            **common,
            values=values,
            counts=counts,
            sample_count=float(value["Count"]),
            sum=float(value["Sum"]),
            minimum=float(value["Min"]),
            maximum=float(value["Max"]),
            distribution=True,
        )
    samples = tuple(float(v) for v in (value if isinstance(value, list) else [value]))
    ones = tuple(1.0 for _ in samples)
    sample_count, total, lowest, highest = _statistics(samples, ones)
    return ExtractedDatum(
        **common,
        values=samples,
        counts=ones,
        sample_count=sample_count,
        sum=total,
        minimum=lowest,
        maximum=highest,
    )


def _timestamp_problem(timestamp_ms: int, now_ms: int | None) -> str | None:
    if now_ms is None:
        return None
    age_s = (now_ms - timestamp_ms) / 1000
    if age_s > EMF_MAX_PAST_AGE_SECONDS:
        return f"_aws.Timestamp {timestamp_ms} is {age_s / 86400:.1f} days old; CloudWatch accepts at most 14 days"
    if -age_s > EMF_MAX_FUTURE_AGE_SECONDS:
        return f"_aws.Timestamp {timestamp_ms} is {-age_s / 3600:.1f} hours ahead; CloudWatch accepts at most 2 hours"
    return None


def extract_document(document: dict[str, Any]) -> list[ExtractedDatum]:
    """The metric data of one EMF document, which must be valid (see :func:`promwatch.emf.validate`).

    Parameters
    ----------
    document
        A valid EMF document.

    Returns
    -------
    list of ExtractedDatum
        One datum per directive x dimension set x metric definition. A directive with no
        dimension set publishes its metrics without dimensions.
    """
    aws = document["_aws"]
    timestamp_ms = int(aws["Timestamp"])
    datums: list[ExtractedDatum] = []
    for directive in aws["CloudWatchMetrics"]:
        dimension_sets = directive.get("Dimensions") or [[]]
        for dimension_set in dimension_sets:
            dimensions = tuple((key, str(document[key])) for key in dimension_set)
            for definition in directive["Metrics"]:
                value = document[definition["Name"]]
                datums.append(_datum(directive, definition, value, dimensions, timestamp_ms))
    return datums


def extract_events(messages: Iterable[str | dict[str, Any]], *, now_ms: int | None = None) -> Extraction:
    """Emulate CloudWatch's extraction over a batch of log events.

    Parameters
    ----------
    messages
        Log event messages (JSON text as read back from CloudWatch Logs) or already parsed
        documents.
    now_ms
        The clock, epoch milliseconds; when given, documents older than 14 days or more than
        2 hours ahead are rejected as CloudWatch rejects them.

    Returns
    -------
    Extraction
        The datums of every valid EMF event, the rejected EMF events with every reason, and
        how many events were EMF and how many plain log lines (ignored, as CloudWatch does).
    """
    result = Extraction()
    for index, message in enumerate(messages):
        document: Any = message
        if isinstance(message, str):
            try:
                document = json.loads(message)
            except ValueError:
                result.plain_events += 1
                continue
        if not isinstance(document, dict) or "_aws" not in document:
            result.plain_events += 1
            continue
        result.emf_events += 1
        reasons = problems(document)
        if not reasons:
            late = _timestamp_problem(int(document["_aws"]["Timestamp"]), now_ms)
            reasons = [late] if late else []
        if reasons:
            result.rejected.append(RejectedEvent(index, tuple(reasons)))
            continue
        result.datums.extend(extract_document(document))
    return result


def _chunks(datum: ExtractedDatum) -> Iterator[tuple[tuple[float, ...], tuple[float, ...]]]:
    for start in range(0, len(datum.values), METRICS_PUT_MAX_VALUES):
        yield (
            datum.values[start : start + METRICS_PUT_MAX_VALUES],
            datum.counts[start : start + METRICS_PUT_MAX_VALUES],
        )


def _metric_datum(datum: ExtractedDatum) -> list[dict[str, Any]]:
    base: dict[str, Any] = {
        "MetricName": datum.name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in datum.dimensions],
        "Timestamp": datetime.fromtimestamp(datum.timestamp_ms / 1000, tz=UTC),
        "Unit": datum.unit,
        "StorageResolution": datum.storage_resolution,
    }
    if datum.distribution:
        # A statistic set keeps Sum/SampleCount/Min/Max exact (Values would only approximate
        # each observation); percentiles come from the values, kept by the caller.
        if datum.sample_count <= 0:
            return []
        stats = {"SampleCount": datum.sample_count, "Sum": datum.sum,
                 "Minimum": datum.minimum, "Maximum": datum.maximum}
        return [{**base, "StatisticValues": stats}]
    if len(datum.values) == 1:
        return [{**base, "Value": datum.values[0]}]
    return [{**base, "Values": list(v), "Counts": list(c)} for v, c in _chunks(datum)]


def put_metric_data_requests(datums: Iterable[ExtractedDatum]) -> list[dict[str, Any]]:
    """PutMetricData request parameters carrying ``datums``, within the API's limits.

    Parameters
    ----------
    datums
        Extracted data.

    Returns
    -------
    list of dict
        Keyword arguments for ``cloudwatch.put_metric_data``: one namespace per request, at
        most 1,000 datums per request and 150 Values per datum. Distributions go as statistic
        sets; distributions with no observations are left out (there is nothing to publish).
    """
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for datum in datums:
        by_namespace.setdefault(datum.namespace, []).extend(_metric_datum(datum))
    requests: list[dict[str, Any]] = []
    for namespace, metric_data in by_namespace.items():
        for start in range(0, len(metric_data), METRICS_PUT_MAX_DATUMS):
            requests.append({"Namespace": namespace, "MetricData": metric_data[start : start + METRICS_PUT_MAX_DATUMS]})
    return requests


def percentile(values: Sequence[float], counts: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) of weighted samples, by nearest rank.

    CloudWatch computes percentiles of a distribution from its Values/Counts; moto does not,
    so the preview computes them here from the extracted samples.

    Returns
    -------
    float or None
        None when there are no samples.
    """
    if not 0 <= q <= 100:
        raise LocalError(f"percentile {q!r}: expected a number in 0..100")
    pairs = sorted((v, c) for v, c in zip(values, counts, strict=True) if c > 0)
    total = math.fsum(c for _, c in pairs)
    if total <= 0:
        return None
    rank = q / 100 * total
    running = 0.0
    for value, count in pairs:
        running += count
        if running >= rank or math.isclose(running, rank):
            return value
    return pairs[-1][0]
