"""Backfill: replay past Container Insights performance logs through the roll-up rules.

``run_backfill(request, config=..., sink=..., logs=..., log_group=..., now_ms=...,
remaining_ms=...)`` processes whole chunks until the range is done or the Lambda deadline
nears, and returns a :class:`BackfillResult` whose ``continuation`` token resumes it; see
:mod:`promwatch.backfill.insights` for how re-runs avoid double counting.
"""
from __future__ import annotations

from promwatch.backfill.chunks import Continuation
from promwatch.backfill.errors import BackfillError
from promwatch.backfill.insights import (
    READ_SLACK_MS,
    BackfillRequest,
    BackfillResult,
    parse_request,
    run_backfill,
)

__all__ = [
    "READ_SLACK_MS",
    "BackfillError",
    "BackfillRequest",
    "BackfillResult",
    "Continuation",
    "parse_request",
    "run_backfill",
]
