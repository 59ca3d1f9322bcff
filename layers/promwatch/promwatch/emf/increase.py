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
* Otherwise the increase is the difference.
"""
from __future__ import annotations

from typing import NamedTuple


class Window(NamedTuple):
    """What the rules need to know about the scrape being translated."""

    first_scrape: bool
    previous_ms: int
    now_ms: int
    interval_ms: float | None


def increase(
    value: float,
    created: float | None,
    previous_value: float | None,
    previous_created: float | None,
    window: Window,
) -> float | None:
    """The increase of a cumulative series, or None when only its baseline must be recorded.

    Parameters
    ----------
    value, created
        The series' value now and its ``_created`` (seconds), if exposed.
    previous_value, previous_created
        Its baseline, or None when the series has none.
    window
        The scrape's context.
    """
    if previous_value is None:
        return value if is_new_in_window(created, window) else None
    if value < previous_value:
        return value
    if created is not None and previous_created is not None and created > previous_created:
        return value
    return value - previous_value


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
