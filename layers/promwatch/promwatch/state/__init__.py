"""Counter baselines across invocations: what the previous scrape of each target saw.

:class:`TargetBaselines` is the pure value :func:`promwatch.emf.translate` reads and returns.
Stores keep one record per target with optimistic concurrency: :class:`DynamoDBStateStore`
(Lambda), :class:`MemoryStateStore` (tests; the CLI's ``--state-file`` store is
:class:`promwatch_tools.statefile.SqliteStateStore`);
:func:`update_with_retry` wraps load -> compute -> save with retries on lost races.
"""
from __future__ import annotations

from promwatch.state.dynamodb import DynamoDBStateStore
from promwatch.state.errors import (
    StateConflictError,
    StateCorruptError,
    StateError,
    StateTooLargeError,
)
from promwatch.state.model import CounterBaseline, HistogramBaseline, StartTime, TargetBaselines, series_key
from promwatch.state.record import target_key
from promwatch.state.store import Loaded, MemoryStateStore, StateStore, update_with_retry

__all__ = [
    "CounterBaseline",
    "DynamoDBStateStore",
    "HistogramBaseline",
    "Loaded",
    "MemoryStateStore",
    "StartTime",
    "StateConflictError",
    "StateCorruptError",
    "StateError",
    "StateStore",
    "StateTooLargeError",
    "TargetBaselines",
    "series_key",
    "target_key",
    "update_with_retry",
]
