"""The pipeline's own health metrics (dropped samples, failed targets, skipped events, ...).

They travel as EMF through the same sink as the data, so a CLI run and a Lambda invocation
report them the same way; CloudWatch turns them into metrics in :data:`SELF_NAMESPACE`.
"""
from __future__ import annotations

from collections.abc import Mapping

from promwatch.emf.identifiers import escape_value
from promwatch.emf.model import Distribution, Metric, MetricGroup

SELF_NAMESPACE = "Promwatch"
"""Namespace of promwatch's own metrics."""


def self_metrics(
    counts: Mapping[str, float | Distribution],
    *,
    dimensions: Mapping[str, str],
    timestamp_ms: int,
    unit: str = "Count",
) -> MetricGroup:
    """One group of self-metrics (e.g. ``{"DroppedSamples": 3}``) under ``dimensions``.

    Parameters
    ----------
    counts
        Metric name -> value. Zero values are kept: a zero is a reading, not an absence. A
        :class:`~promwatch.emf.model.Distribution` carries several readings at once (one per
        target, say: CloudWatch's Maximum is then the largest, Sum their total).
    dimensions
        For example ``{"Component": "scrape", "job": "prod/task-service"}``. Values are
        escaped as label values are (:func:`promwatch.emf.identifiers.escape_value`), so a
        job's self-metrics and its series name it alike.
    timestamp_ms
        Epoch milliseconds (the caller's clock).
    unit
        CloudWatch unit of every metric in the group.
    """
    return MetricGroup(
        namespace=SELF_NAMESPACE,
        timestamp_ms=timestamp_ms,
        dimensions={name: escape_value(value) for name, value in dimensions.items()},
        dimension_sets=[list(dimensions)],
        metrics=[Metric(name, value if isinstance(value, Distribution) else float(value), unit)
                 for name, value in counts.items()],
    )
