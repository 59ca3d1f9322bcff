"""The samples of one histogram or summary series, gathered and checked (pure); see
:mod:`promwatch.otlp.mapping`."""
from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import pairwise

from promwatch.exposition.classic import HistogramProblem, bucket_bound, histogram_shape
from promwatch.exposition.model import Exemplar, Sample


def is_count(value: float) -> bool:
    """A number of observations: a whole number, not negative (and so finite)."""
    return value >= 0 and value.is_integer()


def bucket_counts(entry: Series) -> tuple[tuple[float, ...], list[int], int] | HistogramProblem:
    """A histogram series' OTLP explicit bounds, bucket counts (de-cumulated, the last the overflow
    bucket) and count, or why it is not sent (:func:`promwatch.exposition.classic.histogram_shape`,
    the rules the EMF output applies too)."""
    shape = histogram_shape(entry.buckets, entry.count)
    if isinstance(shape, HistogramProblem):
        return shape
    bounds, cumulative, count = shape
    whole = [int(c) for c in cumulative]
    return bounds, [whole[0], *(b - a for a, b in pairwise(whole))], int(count)


class Series:
    """The samples of one histogram or summary series, gathered."""

    __slots__ = ("buckets", "count", "created", "duplicates", "exemplars", "labels", "samples", "sum", "timestamp")

    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = labels
        self.buckets: list[tuple[float, float]] = []
        self.count: float | None = None
        self.sum: float | None = None
        self.created: float | None = None
        self.exemplars: list[Exemplar] = []
        self.samples = 0
        self.duplicates = 0
        """Samples the series already had (the page repeats them): not part of it."""
        self.timestamp: float | None = None

    def add(self, base: str, sample: Sample, bound_label: str) -> None:
        suffix = sample.name[len(base):] if sample.name.startswith(base) else sample.name
        if suffix == "_count":
            if self.count is not None:
                self.duplicates += 1
                return
            self.count = sample.value
        elif suffix == "_sum":
            if self.sum is not None:
                self.duplicates += 1
                return
            self.sum = sample.value
        elif suffix == "_created":
            if self.created is not None:
                self.duplicates += 1
                return
            self.created = sample.value
        elif bound_label in sample.labels:
            bound = bucket_bound(sample.labels[bound_label])
            # a bound that is not a number is NaN, counted as malformed with the series
            self.buckets.append((math.nan if bound is None else bound, sample.value))
            if sample.exemplar is not None:
                self.exemplars.append(sample.exemplar)
        self.samples += 1
        if sample.timestamp is not None:
            self.timestamp = sample.timestamp

    def drop_repeated_buckets(self) -> None:
        """Keep the first of buckets (or quantiles) the page repeats; count the others as
        :attr:`duplicates`."""
        if len({b for b, _ in self.buckets}) == len(self.buckets) or any(math.isnan(b) for b, _ in self.buckets):
            return  # the common case; a NaN bound (unequal to itself) is left to be malformed
        kept: dict[float, float] = {}
        for bound, value in self.buckets:
            kept.setdefault(bound, value)
        repeated = len(self.buckets) - len(kept)
        self.buckets = list(kept.items())
        self.duplicates += repeated
        self.samples -= repeated

    def values(self) -> list[float]:
        values = [c for _, c in self.buckets]
        return [v for v in (*values, self.count, self.sum) if v is not None]
