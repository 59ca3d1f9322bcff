"""Backfill errors."""
from __future__ import annotations

from promwatch.errors import PromwatchError


class BackfillError(PromwatchError):
    """A backfill request cannot be served (too old, bad range, foreign continuation token)."""
