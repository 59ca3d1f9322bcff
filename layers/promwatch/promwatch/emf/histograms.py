"""Bucket counts -> a CloudWatch distribution (``Values``/``Counts``) whose percentiles work.

Each bucket with observations contributes one representative value, inside its closed bounds
``[lower, le]``:

* the lower bound of the first bucket is 0 when every bound is non-negative (durations, sizes),
  otherwise the first bound minus the width of the next bucket;
* the ``+Inf`` bucket spans ``[last bound, +Inf)``; its nominal value is the last bound plus
  half the width of the last finite bucket;
* values start at the bucket midpoints and move by one common fraction of each bucket's
  half-width toward the upper (or lower) bounds until their weighted sum equals the
  observed ``_sum``; when the ``+Inf`` bucket has observations and the sum is above the
  midpoint estimate, the whole excess goes to it (it is the only unbounded bucket). When the
  sum cannot be matched inside the bounds, the values stop at the bounds and ``Sum`` still
  reports the observed sum.

``Min``/``Max`` are the lowest and highest representative values, so they agree with
``Values``; ``Count`` is the number of observations. Representative values are rounded to
6 significant digits (kept inside their bounds): they are estimates, and the log-ingestion
bill is per byte.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from operator import mul, sub
from typing import NamedTuple

from promwatch.emf.model import Distribution

_new_tuple = tuple.__new__


class _Geometry(NamedTuple):
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    mids: tuple[float, ...]
    floors: tuple[float, ...]  # each bucket's lowest published value: the previous bound
    published_mids: tuple[float, ...]  # the midpoints as published (rounded, clamped)
    below: tuple[float, ...]  # mid - low: how far each value may move down
    above: tuple[float, ...]  # high - mid; 0 for the +Inf bucket, which only moves on its own


def _published(value: float, floor: float, high: float) -> float:
    """``value`` rounded to 6 significant digits, kept inside ``[floor, high]``."""
    return min(max(float(f"{value:.6g}"), floor), high)


# Module-level by design: a memo of a pure function of an immutable tuple, not warm state.
@lru_cache(maxsize=256)
def _geometry(bounds: tuple[float, ...]) -> _Geometry:
    """Bucket bounds and midpoints (``+Inf`` last); a page repeats a few bucket layouts."""
    if bounds[0] >= 0:
        first = 0.0
    elif len(bounds) > 1:
        first = bounds[0] - (bounds[1] - bounds[0])
    else:
        first = bounds[0] - max(abs(bounds[0]), 1.0)
    lows = [first, *bounds[:-1]]
    last_width = bounds[-1] - lows[-1]
    if last_width <= 0:
        last_width = max(abs(bounds[-1]), 1.0)
    mids = [(lo + hi) / 2 for lo, hi in zip(lows, bounds, strict=True)]
    mids.append(bounds[-1] + last_width / 2)
    lows.append(bounds[-1])
    highs = (*bounds, math.inf)
    floors = (-math.inf, *bounds)
    published = tuple(map(_published, mids, floors, highs))
    below = tuple(m - lo for m, lo in zip(mids, lows, strict=True))
    above = (*(hi - m for m, hi in zip(mids, bounds, strict=False)), 0.0)
    return _Geometry(tuple(lows), highs, tuple(mids), floors, published, below, above)


def representative_values(
    bounds: Sequence[float], counts: Sequence[float], total: float | None
) -> list[float]:
    """One value per bucket (``len(bounds) + 1`` of them, ``+Inf`` last), see the module
    docstring; the parameters are :func:`bucket_distribution`'s."""
    if not bounds:
        observed = math.fsum(counts)
        return [total / observed if total is not None and observed > 0 else 0.0]
    geometry = _geometry(tuple(bounds))
    mids = geometry.mids
    if total is None:
        return list(mids)
    excess = total - math.fsum(map(mul, counts, mids))
    if excess == 0:
        return list(mids)
    if excess > 0 and counts[-1] > 0:
        return [*mids[:-1], mids[-1] + excess / counts[-1]]
    shift = _shift(excess, counts, geometry)
    if excess > 0:
        return [m + shift * d for m, d in zip(mids, geometry.above, strict=True)]
    return [m - shift * d for m, d in zip(mids, geometry.below, strict=True)]


def _shift(excess: float, counts: Sequence[float], geometry: _Geometry) -> float:
    """The common fraction of their half-widths by which the values move to match the sum.

    Buckets without observations add nothing to the room: their count is 0 and their
    half-widths are finite (the ``+Inf`` bucket's ``above`` is 0).
    """
    if excess > 0:
        room = math.fsum(map(mul, counts, geometry.above))
        return min(1.0, excess / room) if room > 0 else 0.0
    room = math.fsum(map(mul, counts, geometry.below))
    return min(1.0, -excess / room) if room > 0 else 0.0


def bucket_distribution(
    bounds: Sequence[float], counts: Sequence[float], total: float | None
) -> Distribution | None:
    """A :class:`Distribution` of per-bucket observation counts, or None when there are none.

    Parameters
    ----------
    bounds
        Finite upper bounds, ascending.
    counts
        Observations per bucket (not cumulative, none negative), the ``+Inf`` bucket last.
    total
        Their observed sum (``_sum`` increase, or ``_gsum``), or None when unknown.
    """
    if not bounds:
        (value,) = representative_values(bounds, counts, total)
        if not counts or counts[0] <= 0:
            return None
        only = _published(value, -math.inf, math.inf)
        return _new_tuple(Distribution, ((only,), (counts[0],), total, only, only))
    # Only buckets with observations are published, so only their values are worked out.
    kept_at = [i for i, n in enumerate(counts) if n > 0]
    if not kept_at:
        return None
    geometry = _geometry(bounds if isinstance(bounds, tuple) else tuple(bounds))
    published_mids = geometry.published_mids
    excess = 0.0 if total is None else total - math.fsum(map(mul, counts, geometry.mids))
    published: tuple[float, ...]
    if excess == 0:
        published = tuple([published_mids[i] for i in kept_at])
    elif excess > 0 and counts[-1] > 0:
        # the whole excess goes to the +Inf bucket, the last one kept
        last = _published(geometry.mids[-1] + excess / counts[-1], geometry.floors[-1], math.inf)
        published = (*[published_mids[i] for i in kept_at[:-1]], last)
    else:
        published = _moved(excess, counts, kept_at, geometry)
    kept = tuple([counts[i] for i in kept_at])
    # Distribution(...) without its Python-level __new__: one is made per histogram series
    return _new_tuple(Distribution, (published, kept, total, published[0], published[-1]))


def _moved(excess: float, counts: Sequence[float], kept_at: list[int], geometry: _Geometry) -> tuple[float, ...]:
    """The published values of the kept buckets, all moved by the common fraction (see
    :func:`representative_values`); rounding and clamping inline, as this runs per series."""
    shift = _shift(excess, counts, geometry)
    mids, floors, highs = geometry.mids, geometry.floors, geometry.highs
    upward = excess > 0
    widths = geometry.above if upward else geometry.below
    out: list[float] = []
    for i in kept_at:
        moved = mids[i] + shift * widths[i] if upward else mids[i] - shift * widths[i]
        value = float(f"{moved:.6g}")
        if value < floors[i]:
            value = floors[i]
        elif value > highs[i]:
            value = highs[i]
        out.append(value)
    return tuple(out)


def cumulative_distribution(
    bounds: tuple[float, ...], cumulative: Sequence[float], total: float | None
) -> Distribution | None:
    """:func:`bucket_distribution` of cumulative bucket counts (``+Inf`` last): each bucket's
    own count is its cumulative count less the previous one's, never negative. Every histogram
    path (an increase between scrapes, a gauge histogram's current counts) makes its
    distribution here."""
    per_bucket = [d if d > 0.0 else 0.0 for d in map(sub, cumulative, (0.0, *cumulative[:-1]))]
    return bucket_distribution(bounds, per_bucket, total)
