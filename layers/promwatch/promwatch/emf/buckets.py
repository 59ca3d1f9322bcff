"""A classic histogram series as exposed: its buckets collected, then checked (pure).

The translator collects each series' samples into a :class:`HistogramSeries` (buckets by
bound, ``_sum``, ``_count``, ``_created``, exemplars); :func:`bucket_shape` turns it into
(finite bounds, cumulative counts with ``+Inf`` last, count), or says what is wrong with it.
"""
from __future__ import annotations

import math

from promwatch.emf.labels import LabelSet
from promwatch.exposition.model import Exemplar

_INF = math.inf


class HistogramSeries:
    """One series' samples, as collected."""

    __slots__ = ("buckets", "count", "created", "exemplars", "labels", "sum", "timestamp")

    def __init__(self, labels: LabelSet) -> None:
        self.labels = labels
        self.buckets: dict[float, float] = {}
        self.sum: float | None = None
        self.count: float | None = None
        self.created: float | None = None
        self.timestamp: float | None = None
        self.exemplars: list[tuple[str, Exemplar]] = []


def bucket_bound(text: str | None, cache: dict[str, float]) -> float | None:
    """The ``le`` of a bucket as a number, or None when it is missing or not a number."""
    if text is None:
        return None
    bound = cache.get(text)
    if bound is None:
        try:
            bound = float(text)
        except ValueError:
            return None
        if bound != bound:
            return None
        cache[text] = bound
    return bound


def bucket_shape(
    entry: HistogramSeries, layouts: dict[tuple[float, ...], tuple[float, ...]] | None = None
) -> tuple[tuple[float, ...], tuple[float, ...], float] | str:
    """(finite bounds, cumulative counts with +Inf last, count) of a histogram series, or what is wrong.

    ``layouts`` remembers bucket bounds as exposed (ascending, ``+Inf`` last) -> finite bounds,
    so that the series of a family, which share them, skip the sorting.
    """
    buckets, count = entry.buckets, entry.count
    if layouts is not None and count is not None:
        exposed = tuple(buckets)
        bounds = layouts.get(exposed)
        if bounds is not None:
            cumulative = tuple(buckets.values())
            check = sum(cumulative) + count
            if check - check == 0.0:  # all finite (or a sum overflowed: the full check decides)
                return bounds, cumulative, count
        shape = bucket_shape(entry)
        # a series with a _count and no buckets (relabelled away) exposes no bounds: no layout
        if not isinstance(shape, str) and exposed[-1:] == (_INF,) and shape[0] == exposed[:-1]:
            layouts[exposed] = shape[0]
        return shape
    if not entry.buckets and entry.count is None:
        return "no buckets and no _count"
    items = sorted(entry.buckets.items())
    inf_count = entry.buckets.get(_INF)
    bounds = tuple(le for le, _ in items if le != _INF)
    counts = [c for le, c in items if le != _INF]
    count = entry.count if entry.count is not None else inf_count
    if inf_count is None:
        inf_count = count
    counts.append(inf_count)  # type: ignore[arg-type]
    if count is None or not all(map(math.isfinite, counts)) or not math.isfinite(count):
        return "a bucket or _count is not finite"
    if bounds and bounds[0] == -_INF:
        return "a bucket bound is -Inf"
    return bounds, tuple(counts), count
