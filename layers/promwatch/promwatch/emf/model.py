"""What the EMF writer takes: metrics grouped by the dimensions they share."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Distribution(NamedTuple):
    """A set of observations as CloudWatch takes them: distinct values and their counts.

    ``sum``/``minimum``/``maximum`` default to what the values imply; a histogram passes its
    exact ``_sum`` increase (the representative values only approximate each observation).
    Immutable; a NamedTuple because writers build one per histogram series and a tuple is
    several times cheaper to construct than a frozen dataclass.
    """

    values: tuple[float, ...]
    counts: tuple[float, ...]
    sum: float | None = None
    minimum: float | None = None
    maximum: float | None = None

    # Replaces tuple.count: a Distribution counts its observations.
    @property
    def count(self) -> float:  # type: ignore[override]
        """Number of observations (sum of the counts)."""
        return float(sum(self.counts))


class Metric(NamedTuple):
    """One metric value to publish (immutable; a NamedTuple because it is built per series)."""

    name: str
    value: float | Distribution
    unit: str = "None"
    storage_resolution: int = 60


@dataclass(slots=True)
class MetricGroup:
    """Metrics that share a namespace, a timestamp and a set of dimension values.

    The EMF writer turns one group into as few documents as the limits allow (usually one).

    Parameters
    ----------
    namespace
        CloudWatch namespace.
    timestamp_ms
        EMF ``Timestamp``: milliseconds since the epoch.
    dimensions
        Dimension key -> value; every key named in ``dimension_sets`` must be here.
    dimension_sets
        Which keys form the dimension sets of the directive (each at most 30 keys). An empty
        set ``[]`` publishes the metrics with no dimensions.
    metrics
        The metric values.
    properties
        Log-only members (labels kept for Logs Insights, exemplar trace ids, ...). They never
        become dimensions.
    """

    namespace: str
    timestamp_ms: int
    dimensions: Mapping[str, str]
    dimension_sets: Sequence[Sequence[str]]
    metrics: list[Metric] = field(default_factory=list)
    properties: Mapping[str, Any] = field(default_factory=dict)
