"""Counter baselines across invocations: what the previous scrape of each target saw.

:class:`TargetBaselines` is the pure value :func:`promwatch.emf.translate` reads and returns.
Stores keep one record per target with optimistic concurrency: :class:`DynamoDBStateStore`
(Lambda), :class:`SqliteStateStore` (``--state-file``), :class:`MemoryStateStore` (tests);
:func:`update_with_retry` wraps load -> compute -> save with retries on lost races.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promwatch.state.dynamodb import DynamoDBStateStore
from promwatch.state.errors import (
    StateConflictError,
    StateCorruptError,
    StateError,
    StateTooLargeError,
)
from promwatch.state.model import CounterBaseline, HistogramBaseline, TargetBaselines, series_key
from promwatch.state.record import target_key
from promwatch.state.store import Loaded, MemoryStateStore, StateStore, update_with_retry

if TYPE_CHECKING:
    from promwatch.state.sqlite import SqliteStateStore


def __getattr__(name: str) -> Any:
    # Only the CLI keeps baselines in a file: the Lambda functions' cold starts do not load sqlite3.
    if name != "SqliteStateStore":
        raise AttributeError(f"module 'promwatch.state' has no attribute {name!r}")
    from promwatch.state.sqlite import SqliteStateStore

    globals()[name] = SqliteStateStore
    return SqliteStateStore


__all__ = [
    "CounterBaseline",
    "DynamoDBStateStore",
    "HistogramBaseline",
    "Loaded",
    "MemoryStateStore",
    "SqliteStateStore",
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
