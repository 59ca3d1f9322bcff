"""A classic histogram series as exposed: its buckets collected, then checked (pure).

The translator collects each series' samples into a :class:`HistogramSeries` (buckets by
bound, ``_sum``, ``_count``, ``_created``, exemplars); :func:`bucket_shape` turns it into
(finite bounds, cumulative counts with ``+Inf`` last, count), or says what is wrong with it.
"""
from __future__ import annotations

import math

from promwatch.emf.labels import LabelSet
from promwatch.exposition.classic import HistogramProblem, HistogramShape, counts_consistent, histogram_shape
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


def bucket_shape(
    entry: HistogramSeries, layouts: dict[tuple[float, ...], tuple[float, ...]] | None = None
) -> HistogramShape | HistogramProblem:
    """(finite bounds, cumulative counts with +Inf last, count) of a histogram series, or why it
    is not published (:func:`promwatch.exposition.classic.histogram_shape`, the rules every output applies).

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
            # all finite (or a sum overflowed: the full check decides), and consistent
            if check - check == 0.0 and counts_consistent(cumulative, count):
                return bounds, cumulative, count
        shape = histogram_shape(buckets.items(), count)
        # a series with a _count and no buckets (relabelled away) exposes no bounds: no layout
        if not isinstance(shape, HistogramProblem) and exposed[-1:] == (_INF,) and shape[0] == exposed[:-1]:
            layouts[exposed] = shape[0]
        return shape
    return histogram_shape(buckets.items(), count)
