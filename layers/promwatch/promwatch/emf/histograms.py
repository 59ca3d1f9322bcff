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
from typing import NamedTuple

from promwatch.emf.model import Distribution


class _Geometry(NamedTuple):
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    mids: tuple[float, ...]
    floors: tuple[float, ...]  # each bucket's lowest published value: the previous bound
    published_mids: tuple[float, ...]  # the midpoints as published (rounded, clamped)


def _published(value: float, floor: float, high: float) -> float:
    """``value`` rounded to 6 significant digits, kept inside ``[floor, high]``."""
    return min(max(float(f"{value:.6g}"), floor), high)


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
    return _Geometry(tuple(lows), highs, tuple(mids), floors, published)


def representative_values(
    bounds: Sequence[float], counts: Sequence[float], total: float | None
) -> list[float]:
    """One value per bucket (``len(bounds) + 1`` of them, ``+Inf`` last), see the module docstring.

    Parameters
    ----------
    bounds
        Finite upper bounds, ascending.
    counts
        Observations per bucket (not cumulative), the ``+Inf`` bucket last.
    total
        The observed sum of the observations, or None when unknown.
    """
    if not bounds:
        observed = math.fsum(counts)
        return [total / observed if total is not None and observed > 0 else 0.0]
    return list(_moved_values(_geometry(tuple(bounds)), counts, total)[0])


def _moved_values(
    geometry: _Geometry, counts: Sequence[float], total: float | None
) -> tuple[Sequence[float], int]:
    """The representative values and how many leading ones are still the bucket midpoints."""
    lows, highs, mids = geometry.lows, geometry.highs, geometry.mids
    if total is None:
        return mids, len(mids)
    estimate = math.fsum(n * m for n, m in zip(counts, mids, strict=True))
    excess = total - estimate
    if excess == 0:
        return mids, len(mids)
    inf_count = counts[-1]
    if excess > 0 and inf_count > 0:
        return (*mids[:-1], mids[-1] + excess / inf_count), len(mids) - 1
    if excess > 0:
        room = math.fsum(n * (hi - m) for n, m, hi in zip(counts, mids, highs, strict=True) if n > 0)
        shift = min(1.0, excess / room) if room > 0 else 0.0
        return [m + shift * (hi - m) if math.isfinite(hi) else m for m, hi in zip(mids, highs, strict=True)], 0
    room = math.fsum(n * (m - lo) for n, m, lo in zip(counts, mids, lows, strict=True) if n > 0)
    shift = min(1.0, -excess / room) if room > 0 else 0.0
    return [m - shift * (m - lo) for m, lo in zip(mids, lows, strict=True)], 0


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
    if bounds:
        geometry = _geometry(tuple(bounds))
        values, unmoved = _moved_values(geometry, counts, total)
        floors, highs = geometry.floors, geometry.highs
        # Midpoints are published the same every time: only moved values are rounded here.
        published = (
            *geometry.published_mids[:unmoved],
            *map(_published, values[unmoved:], floors[unmoved:], highs[unmoved:]),
        )
    else:
        (value,) = representative_values(bounds, counts, total)
        published = (_published(value, -math.inf, math.inf),)
    kept = tuple(n for n in counts if n > 0)
    if not kept:
        return None
    if len(kept) != len(published):
        published = tuple(v for v, n in zip(published, counts, strict=True) if n > 0)
    return Distribution(published, kept, total, published[0], published[-1])
