"""Raw samples -> one value per period, as the live path would have counted them (pure).

Each sample is a scrape. What the live path publishes at a scrape -- a counter's increase since
the previous scrape, a histogram's observations since then -- is worked out for every sample,
by the live path's own rules (:func:`promwatch.emf.increase.increases`,
:func:`promwatch.emf.increase.is_reset`), and summed into the period the sample falls in
(``[p, p + step)``, stamped ``p``). So the periods' sums add up to the increase over the range,
resets included, and one period per step replaces one data point per scrape.

* A sample's previous scrape is the series' previous sample within ``history_ms``; a series
  seen for the first time counts from zero when its target (``job``, ``instance``) was already
  scraped -- some series of it has a sample within ``history_ms`` before -- and only records its
  baseline otherwise (the live path's first scrape of a target).
* Gauges: each period's samples as a statistic set (Values/Counts with Min, Max, Sum and
  SampleCount), so CloudWatch's Average, Minimum, Maximum and percentiles stay exact.
* Samples that are NaN or +-Inf are not scrapes of a number: they are skipped (counted).
"""
from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import sub

from promwatch.emf.histograms import bucket_distribution
from promwatch.emf.increase import Window, increases, is_new_in_window, is_reset, tidy
from promwatch.emf.model import Distribution
from promwatch.exposition.classic import HistogramProblem, histogram_shape
from promwatch.scrape.backfill.series import HistogramSeries
from promwatch.state.model import CounterBaseline

__all__ = ["PeriodContext", "TargetTimes", "counter_periods", "gauge_periods", "histogram_periods", "statistic_set"]

_SEEN = Window(first_scrape=False, previous_ms=0, now_ms=0, interval_ms=None)
"""The window of a scrape with a previous sample (the increase then depends on the values only)."""


class TargetTimes:
    """When each target (``job``, ``instance``) was scraped: the times of all its series' samples."""

    def __init__(self, series: Iterable[tuple[dict[str, str], Iterable[int]]]) -> None:
        times: dict[tuple[str, str], set[int]] = {}
        for labels, stamps in series:
            times.setdefault(_target(labels), set()).update(stamps)
        self._times = {key: sorted(stamps) for key, stamps in times.items()}

    def scraped_between(self, labels: dict[str, str], start_ms: int, end_ms: int) -> bool:
        """Whether the target of a series with ``labels`` has a sample in ``[start_ms, end_ms)``."""
        stamps = self._times.get(_target(labels), [])
        at = bisect.bisect_left(stamps, start_ms)
        return at < len(stamps) and stamps[at] < end_ms


def _target(labels: dict[str, str]) -> tuple[str, str]:
    return labels.get("job", ""), labels.get("instance", "")


@dataclass(frozen=True, slots=True)
class PeriodContext:
    """What the per-period sums need besides the samples.

    Attributes
    ----------
    chunk_start_ms
        Samples before it were read only as previous scrapes (an earlier chunk counted them).
    step_ms
        The period: the scrape interval.
    history_ms
        How far back a previous scrape is looked for.
    targets
        When each target was scraped.
    """

    chunk_start_ms: int
    step_ms: int
    history_ms: int
    targets: TargetTimes

    def first_window(self, labels: dict[str, str], at_ms: int) -> Window:
        """The live path's window for a series seen for the first time at ``at_ms``."""
        scraped = self.targets.scraped_between(labels, at_ms - self.history_ms, at_ms)
        return Window(first_scrape=not scraped, previous_ms=at_ms - self.step_ms, now_ms=at_ms,
                      interval_ms=float(self.step_ms))


def counter_periods(
    samples: list[tuple[int, float]], labels: dict[str, str], context: PeriodContext
) -> tuple[dict[int, float], int]:
    """Period start -> the counter's increase in the period, and the number of non-finite samples skipped."""
    step, start, history = context.step_ms, context.chunk_start_ms, context.history_ms
    sums: dict[int, float] = {}
    skipped = 0
    prev_t, prev_v = -1, 0.0
    have_prev = False
    for t, v in samples:
        if v - v != 0.0:
            skipped += t >= start
            continue
        if t >= start:
            # the live rule, one scrape at a time: the previous sample is the baseline
            if have_prev and prev_t >= t - history:
                [delta] = increases([v], [CounterBaseline(prev_v, None, None)], _SEEN)
            else:
                [delta] = increases([v], [None], context.first_window(labels, t))
            if delta is not None:
                period = t // step * step
                sums[period] = sums.get(period, 0.0) + delta
        prev_t, prev_v, have_prev = t, v, True
    return {p: tidy(total) if total % 1.0 else total for p, total in sums.items()}, skipped


def gauge_periods(samples: list[tuple[int, float]], context: PeriodContext) -> tuple[dict[int, Distribution], int]:
    """Period start -> the statistic set of the gauge's samples in it, and the non-finite samples skipped."""
    step, start = context.step_ms, context.chunk_start_ms
    values: dict[int, list[float]] = {}
    skipped = 0
    for t, v in samples:
        if t < start:
            continue
        if v - v != 0.0:
            skipped += 1
            continue
        values.setdefault(t // step * step, []).append(v)
    return {period: statistic_set(seen) for period, seen in values.items()}, skipped


def statistic_set(values: list[float]) -> Distribution:
    """The samples of a period as CloudWatch takes a set of observations: distinct values and
    their counts, with the exact Sum, Min and Max."""
    counts = Counter(values)
    distinct = tuple(sorted(counts))
    return Distribution(distinct, tuple(float(counts[v]) for v in distinct), math.fsum(values), distinct[0], distinct[-1])


@dataclass(slots=True)
class _Scrape:
    at_ms: int
    bounds: tuple[float, ...]
    cumulative: tuple[float, ...]
    count: float
    total: float | None


def _scrapes(histogram: HistogramSeries) -> tuple[list[_Scrape], int]:
    """The histogram's scrapes (its buckets and ``_count`` at each time), and how many times broke
    the rules of a classic histogram the live outputs apply (:mod:`promwatch.exposition.classic`)."""
    out: list[_Scrape] = []
    malformed = 0
    for t in histogram.times():
        buckets = [(le, samples[t]) for le, samples in histogram.buckets.items() if t in samples]
        shape = histogram_shape(buckets, histogram.counts.get(t))
        if isinstance(shape, HistogramProblem):
            malformed += 1
            continue
        bounds, cumulative, count = shape
        total = histogram.sums.get(t)
        out.append(_Scrape(t, bounds, cumulative, count, total if total is not None and math.isfinite(total) else None))
    return out, malformed


def histogram_periods(histogram: HistogramSeries, context: PeriodContext) -> tuple[dict[int, Distribution], int]:
    """Period start -> the distribution of the observations in the period (periods without any
    publish none, as live), and how many scrapes were malformed (see :func:`_scrapes`)."""
    step, start, history = context.step_ms, context.chunk_start_ms, context.history_ms
    scrapes, malformed = _scrapes(histogram)
    # (period, bounds) -> [cumulative increases, sum increase (None: unknown), count increase]
    acc: dict[tuple[int, tuple[float, ...]], list[object]] = {}
    prev: _Scrape | None = None
    for scrape in scrapes:
        if scrape.at_ms >= start:
            delta = _observed(scrape, prev if prev is not None and prev.at_ms >= scrape.at_ms - history else None,
                              lambda at: context.first_window(histogram.labels, at))
            if delta is not None:
                key = (scrape.at_ms // step * step, scrape.bounds)
                found = acc.get(key)
                if found is None:
                    acc[key] = list(delta)
                else:
                    found[0] = tuple(a + b for a, b in zip(found[0], delta[0], strict=True))  # type: ignore[call-overload]
                    found[1] = None if found[1] is None or delta[1] is None else found[1] + delta[1]  # type: ignore[operator]
                    found[2] = found[2] + delta[2]  # type: ignore[operator]
        prev = scrape
    periods: dict[int, list[Distribution]] = {}
    for (period, bounds), (cumulative, total, count) in acc.items():
        distribution = _distribution(bounds, cumulative, total, count)  # type: ignore[arg-type]
        if distribution is not None:
            periods.setdefault(period, []).append(distribution)
    return {period: _merged(found) for period, found in periods.items()}, malformed


def _observed(
    scrape: _Scrape, prev: _Scrape | None, first_window: Callable[[int], Window]
) -> tuple[tuple[float, ...], float | None, float] | None:
    """(cumulative bucket increases, sum increase, count increase) since ``prev``, as the live
    path's histogram rule has them; None when only a baseline is recorded."""
    if prev is None:
        if not is_new_in_window(None, first_window(scrape.at_ms)):
            return None
        return scrape.cumulative, scrape.total, scrape.count
    if prev.bounds != scrape.bounds:
        return scrape.cumulative, scrape.total, scrape.count
    delta = tuple(map(sub, scrape.cumulative, prev.cumulative))
    delta_count = scrape.count - prev.count
    if delta_count < 0 or is_reset(delta, None, None):
        return scrape.cumulative, scrape.total, scrape.count
    total = tidy(scrape.total - prev.total) if scrape.total is not None and prev.total is not None else None
    return delta, total, delta_count


def _distribution(bounds: tuple[float, ...], cumulative: tuple[float, ...], total: float | None,
                  count: float) -> Distribution | None:
    per_bucket = [d if d > 0.0 else 0.0 for d in map(sub, cumulative, (0.0, *cumulative[:-1]))]
    distribution = bucket_distribution(bounds, per_bucket, tidy(total) if total is not None else None)
    if distribution is None and count > 0:  # observations without buckets: their mean, as live
        mean = total / count if total is not None else 0.0
        distribution = Distribution((mean,), (count,), total, mean, mean)
    return distribution


def _merged(distributions: list[Distribution]) -> Distribution:
    """One distribution of a period whose bucket bounds changed inside it."""
    if len(distributions) == 1:
        return distributions[0]
    counts: dict[float, float] = {}
    for distribution in distributions:
        for value, count in zip(distribution.values, distribution.counts, strict=True):
            counts[value] = counts.get(value, 0.0) + count
    values = tuple(sorted(counts))
    sums = [d.sum for d in distributions]
    total = None if any(s is None for s in sums) else math.fsum(s for s in sums if s is not None)
    return Distribution(values, tuple(counts[v] for v in values), total, values[0], values[-1])
