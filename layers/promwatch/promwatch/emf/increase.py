"""Increase of a cumulative series since the previous scrape (pure rules).

* First scrape of a target (no baselines at all): nothing is emitted, only the baseline is
  recorded -- the value holds the whole history of the process. Refinement: when the series
  exposes ``_created`` less than one scrape interval ago, all of its value happened in the
  window, so it is emitted (a freshly started pod is not lost).
* A series that first appears on a target already scraped counts from zero: client libraries
  expose a labelled series once it is first observed, so its whole value happened since the
  previous scrape (the first requests to a new route are not lost). Refinement: when its
  ``_created`` is older than the previous scrape, it existed then without being seen, so only
  its baseline is recorded.
* A reset -- the value decreased, or ``_created`` moved forward -- makes the post-reset value
  the increase. Never a negative or wrapped number.
* Otherwise the increase is the difference (without binary noise: :func:`tidy`).

Counters and summaries' ``_sum``/``_count`` take theirs from :func:`increases`, one call per
family whichever path translates it; histograms apply the same rules bucket by bucket
(:mod:`promwatch.emf.histogram_families`).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import repeat
from operator import itemgetter, sub
from typing import NamedTuple, cast

from promwatch.state.model import CounterBaseline


class Window(NamedTuple):
    """What the rules need to know about the scrape being translated."""

    first_scrape: bool
    previous_ms: int
    now_ms: int
    interval_ms: float | None


_baseline_value = cast(Callable[[CounterBaseline | None], float], itemgetter(0))  # a TypeError on None


def increases(
    values: Sequence[float],
    baselines: Sequence[CounterBaseline | None],
    window: Window,
    created: Sequence[float | None] | None = None,
) -> list[float | None]:
    """The increase of each of a family's cumulative series by the rules above, or None where
    only its baseline must be recorded.

    The one home of the rules: every path (sample by sample, column by column) calls it once
    per family. A family whose series all have baselines and no ``_created`` costs a few passes
    in C over its columns, whatever its size.

    Parameters
    ----------
    values
        The series' values now (finite).
    baselines
        Each series' baseline; None for a series without one.
    window
        The scrape's context.
    created
        Each series' ``_created`` (seconds), None where not exposed; None when no series exposes one.
    """
    try:
        before = list(map(_baseline_value, baselines))
        new_series = False
    except TypeError:  # a series without a baseline: it counts from zero
        before = [0.0 if baseline is None else baseline.value for baseline in baselines]
        new_series = True
    changes: list[float] = list(map(sub, values, before))
    if changes and min(changes) < 0.0:  # the value decreased: a reset, the post-reset value is the increase
        changes = [value if change < 0.0 else change for change, value in zip(changes, values, strict=True)]
    if created is not None:  # _created moved forward: a reset even when the value grew
        previous_created = [None if baseline is None else baseline.created for baseline in baselines]
        if previous_created != created:  # where _created stays put (as it does), no need to look
            changes = [
                value if now is not None and then is not None and now > then else change
                for change, value, now, then in zip(changes, values, created, previous_created, strict=True)
            ]
    try:
        integral = all(map(float.is_integer, changes))
    except TypeError:  # an int among them
        integral = False
    if not integral:
        changes = [
            change if change == value or change % 1.0 == 0.0 else tidy(change)
            for change, value in zip(changes, values, strict=True)
        ]
    if not new_series:
        return cast(list[float | None], changes)
    # one without a baseline counts only when it is new in the window
    return [
        change if baseline is not None or is_new_in_window(now, window) else None
        for change, baseline, now in zip(changes, baselines, created or repeat(None), strict=False)
    ]


def tidy(difference: float) -> float:
    """A difference of two floats without its binary noise (``2.45 - 1.2`` is 1.25, not 1.2500000000000002)."""
    return float(f"{difference:.12g}")


def is_new_in_window(created: float | None, window: Window) -> bool:
    """Whether a series without a baseline began within the window being translated."""
    if window.first_scrape:
        return (
            created is not None
            and window.interval_ms is not None
            and window.now_ms - created * 1000.0 <= window.interval_ms
        )
    return created is None or created * 1000.0 >= window.previous_ms


def is_reset(
    changes: tuple[float, ...],
    created: float | None,
    previous_created: float | None,
) -> bool:
    """Whether a histogram restarted: a cumulative count fell (a negative change since the
    previous scrape, bucket by bucket and for ``_count``), or ``_created`` moved forward."""
    if min(changes) < 0:
        return True
    return created is not None and previous_created is not None and created > previous_created
