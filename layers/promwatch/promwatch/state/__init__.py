"""Counter baselines across invocations: what the previous scrape of each target saw.

:class:`TargetBaselines` is the pure value :func:`promwatch.emf.translate` reads and returns.
"""
from __future__ import annotations

from promwatch.state.errors import (
    StateConflictError,
    StateCorruptError,
    StateError,
    StateTooLargeError,
)
from promwatch.state.model import CounterBaseline, HistogramBaseline, TargetBaselines, series_key

__all__ = [
    "CounterBaseline",
    "HistogramBaseline",
    "StateConflictError",
    "StateCorruptError",
    "StateError",
    "StateTooLargeError",
    "TargetBaselines",
    "series_key",
]
