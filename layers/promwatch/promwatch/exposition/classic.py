"""Classic histograms as exposed: a bucket's ``le`` and what a series must satisfy to be published (pure).

One home for the rules every output applies (EMF, OTLP, the backfill), so that a page is judged
alike by each. A classic histogram series is published when, as Prometheus and OpenMetrics have it:

* every ``le`` is a number (not NaN) and none is ``-Inf``;
* it has a ``+Inf`` bucket or a ``_count`` (a missing ``+Inf`` bucket is taken to be ``_count``,
  a missing ``_count`` the ``+Inf`` bucket -- relabelling may drop either), and the two are
  equal when both are exposed;
* its counts are finite, whole numbers of observations, not negative, and never go down from one
  bound to the next.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import gt

BOUNDS_KEPT = 4096
"""Distinct ``le`` texts whose numbers are remembered (a page repeats a few on every bucket)."""

HistogramShape = tuple[tuple[float, ...], tuple[float, ...], float]
"""(finite bounds ascending, cumulative counts with the ``+Inf`` bucket last, count)."""


@dataclass(frozen=True, slots=True)
class HistogramProblem:
    """Why a histogram series is not published: ``reason`` is ``non_finite`` or ``malformed``,
    ``detail`` names the bad value."""

    reason: str
    detail: str


@lru_cache(maxsize=BOUNDS_KEPT)
def bucket_bound(text: str | None) -> float | None:
    """The ``le`` of a bucket as a number, or None when it is missing, NaN or not a number.

    Read as Prometheus reads a value (Go's ``strconv.ParseFloat``, as ``histogram_quantile``
    reads ``le``): a decimal number or ``Inf``/``+Inf``/``-Inf``/``Infinity`` in any case; no
    surrounding blanks, digit-separating underscores or non-ASCII digits, which Python's
    ``float`` would take.
    """
    if text is None or "_" in text or not text.isascii() or text != text.strip():
        return None
    try:
        bound = float(text)
    except ValueError:
        return None
    return None if math.isnan(bound) else bound


def counts_consistent(cumulative: tuple[float, ...], count: float) -> bool:
    """Whether finite cumulative counts (``+Inf`` bucket last) and ``count`` pass the rules:
    the ``+Inf`` bucket is ``count``, and the counts are whole, not negative and never go down.
    The fast check of a series laid out as before; :func:`histogram_shape` says what is wrong."""
    if cumulative[-1] != count or cumulative[0] < 0 or any(map(gt, cumulative, cumulative[1:])):
        return False
    try:
        return all(map(float.is_integer, cumulative))
    except TypeError:  # an int among them (samples built by hand, not parsed)
        return all(float(c).is_integer() for c in cumulative)


def histogram_shape(buckets: Iterable[tuple[float, float]], count: float | None) -> HistogramShape | HistogramProblem:
    """A histogram series' (bound, cumulative count) pairs, in any order, and ``_count`` (None when
    not exposed) checked against the rules of the module docstring.

    Returns
    -------
    HistogramShape or HistogramProblem
        (finite bounds ascending, cumulative counts with the ``+Inf`` bucket last, count), or the
        first rule broken.
    """
    items = list(buckets)
    if not items and count is None:
        return HistogramProblem("malformed", "no buckets and no _count")
    if any(math.isnan(bound) for bound, _ in items):
        return HistogramProblem("malformed", "a bucket bound is not a number")
    items.sort()
    bounds = tuple(bound for bound, _ in items if bound != math.inf)
    counts = [value for bound, value in items if bound != math.inf]
    inf_count = items[-1][1] if items and items[-1][0] == math.inf else None
    if bounds and bounds[0] == -math.inf:
        return HistogramProblem("malformed", "a bucket bound is -Inf")
    total = count if count is not None else inf_count
    if total is None:
        return HistogramProblem("malformed", "no +Inf bucket and no _count")
    counts.append(inf_count if inf_count is not None else total)
    if not all(map(math.isfinite, counts)) or not math.isfinite(total):
        return HistogramProblem("non_finite", "a bucket or _count is not finite")
    if inf_count is not None and inf_count != total:
        return HistogramProblem("malformed", f"the +Inf bucket {inf_count!r} differs from _count {total!r}")
    for at, value in enumerate(counts):
        what = f"bucket le={bounds[at]!r}" if at < len(bounds) else "bucket le=+Inf" if inf_count is not None else "_count"
        if value < 0 or not float(value).is_integer():
            return HistogramProblem("malformed", f"{what} has {value!r}; expected a whole number, not negative")
        if at and value < counts[at - 1]:
            return HistogramProblem(
                "malformed", f"{what} has {value!r}, less than the bucket before it; counts must not go down")
    return bounds, tuple(counts), total
