"""What arrived over OTLP as Prometheus-style sample series, for local PromQL (pure).

CloudWatch's PromQL store holds OTLP metrics with their data-point attributes as labels and
their resource attributes as ``@resource.<name>`` labels; a histogram is queried through
``<name>_bucket`` (cumulative, ``le``), ``<name>_count`` and ``<name>_sum``, a summary through
``<name>{quantile}``, ``<name>_count`` and ``<name>_sum``
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-PromQL-Querying.html).
:func:`sample_store` lays the receiver's points out that way.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from promwatch_tools.local.otlpreceiver import ReceivedPoint

Labels = tuple[tuple[str, str], ...]
"""A series' labels, sorted by name (``__name__`` among them)."""
RESOURCE_PREFIX = "@resource."


def labels_of(name: str, attributes: Mapping[str, str], **extra: str) -> Labels:
    """Sorted labels of series ``name`` with ``attributes`` (and ``extra``)."""
    return tuple(sorted({**attributes, **extra, "__name__": name}.items()))


def format_le(bound: float) -> str:
    """A bucket bound as Prometheus prints ``le``: ``0.005``, ``1``, ``+Inf``."""
    if math.isinf(bound):
        return "+Inf"
    return str(int(bound)) if bound.is_integer() else repr(bound)


@dataclass(slots=True)
class SampleStore:
    """Series -> samples (epoch seconds, value), oldest first; and the times samples were taken."""

    series: dict[Labels, list[tuple[float, float]]] = field(default_factory=dict)

    def add(self, labels: Labels, t: float, value: float) -> None:
        """Add one sample (kept in time order)."""
        samples = self.series.setdefault(labels, [])
        samples.append((t, value))
        if len(samples) > 1 and samples[-2][0] > t:
            samples.sort()

    def times(self) -> list[float]:
        """Every distinct sample time, oldest first (the steps a local query is evaluated at)."""
        return sorted({t for samples in self.series.values() for t, _ in samples})


def _point_samples(point: ReceivedPoint, base: dict[str, str]) -> Iterable[tuple[Labels, float]]:
    name = point.name
    if point.kind in ("gauge", "sum") and point.value is not None:
        yield labels_of(name, base), point.value
    elif point.kind == "histogram":
        running = 0
        for bound, count in zip((*point.bounds, math.inf), point.bucket_counts, strict=False):
            running += count
            yield labels_of(f"{name}_bucket", base, le=format_le(bound)), float(running)
        if point.count is not None:
            yield labels_of(f"{name}_count", base), float(point.count)
        if point.sum is not None:
            yield labels_of(f"{name}_sum", base), point.sum
    elif point.kind == "summary":
        for quantile, value in point.quantiles:
            yield labels_of(name, base, quantile=format_le(quantile)), value
        if point.count is not None:
            yield labels_of(f"{name}_count", base), float(point.count)
        if point.sum is not None:
            yield labels_of(f"{name}_sum", base), point.sum


def sample_store(points: Iterable[ReceivedPoint]) -> SampleStore:
    """The sample series of ``points`` (as the receiver flattened them)."""
    store = SampleStore()
    for point in points:
        base = {**{RESOURCE_PREFIX + k: v for k, v in point.resource.items()}, **point.attributes}
        t = point.time_unix_nano / 1e9
        for labels, value in _point_samples(point, base):
            if not math.isnan(value):
                store.add(labels, t, value)
    return store
