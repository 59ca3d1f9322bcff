"""Backfill: replay past Container Insights performance logs through the roll-up rules.

Part of the insights package (its rules, roll-ups and delivery, and the function's runtime
that serves ``{"backfill": ...}`` events); it imports from the insights modules and none of
them imports it but the runtime.

``run_backfill(request, config=..., sink=..., logs=..., log_group=..., now_ms=...,
remaining_ms=...)`` processes whole chunks until the range is done or the Lambda deadline
nears, and returns a :class:`BackfillResult` whose ``continuation`` token resumes it; see
:mod:`promwatch.insights.backfill.replay` for how re-runs avoid double counting.
"""
from __future__ import annotations

from promwatch.insights.backfill.chunks import Continuation
from promwatch.insights.backfill.replay import (
    READ_SLACK_MS,
    BackfillRequest,
    BackfillResult,
    parse_request,
    run_backfill,
)
from promwatch.insights.errors import BackfillError

__all__ = [
    "READ_SLACK_MS",
    "BackfillError",
    "BackfillRequest",
    "BackfillResult",
    "Continuation",
    "parse_request",
    "run_backfill",
]
