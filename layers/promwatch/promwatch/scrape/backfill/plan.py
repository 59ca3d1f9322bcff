"""The Prometheus backfill's planned range, request digest and continuation token (pure); chunks,
the age limit and the token format are shared with the Container Insights backfill
(:mod:`promwatch.backfillbase`).

A *period* is one step (the job's scrape interval unless told otherwise): the live path
publishes one data point per series per scrape, the backfill one per series per period,
stamped at the period's start. Periods start on multiples of the step (epoch-aligned), so a
period lies wholly inside one chunk; a chunk is a whole number of periods. A request's start
and end must be period boundaries (a period partly outside the range would hold samples from
outside it), and its end no later than the last period that is over.

A continuation token records the request (a digest of URL, selectors, step and job), the
planned range, where the next chunk starts (every chunk before it is delivered) and what was
written so far.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from promwatch.backfillbase import ContinuationToken, TokenFormat, whole_periods
from promwatch.scrape.errors import PrometheusBackfillError

__all__ = ["Continuation", "planned_range", "request_digest"]


def planned_range(start_ms: int, end_ms: int, step_ms: int, chunk_ms: int, now_ms: int) -> tuple[int, int]:
    """The periods a request covers: ``[start, end)`` when both are on step boundaries, the end
    no later than the last period that is over, and chunks a whole number of steps.

    Raises
    ------
    PrometheusBackfillError
        When a bound is not on a period boundary (naming the nearest ones), the range is empty or
        ends after the last period that is over, or the chunk is not whole steps (naming both).
    """
    if chunk_ms % step_ms:
        raise PrometheusBackfillError(
            f"chunk_seconds {chunk_ms // 1000} is not a whole number of {step_ms // 1000}-second steps; expected a "
            f"multiple of the step such as {max(1, chunk_ms // step_ms) * step_ms // 1000}"
        )
    return whole_periods(start_ms, end_ms, step_ms, now_ms, PrometheusBackfillError)


def request_digest(url: str, selectors: Sequence[str], step_ms: int, job: str | None) -> str:
    """A short digest of what decides the output: a token is only valid for the request that issued it."""
    body = json.dumps([url.rstrip("/"), sorted(set(selectors)), step_ms, job], separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Continuation(ContinuationToken):
    """Where a backfill resumes: the chunks of ``[start_ms, next_ms)`` are delivered, holding
    ``documents`` documents and ``points`` data points."""

    TOKEN: ClassVar[TokenFormat] = TokenFormat(
        {"r": str, "s": int, "e": int, "n": int, "d": int, "p": int}, PrometheusBackfillError, "Prometheus backfill"
    )

    request: str
    start_ms: int
    end_ms: int
    next_ms: int
    documents: int = 0
    points: int = 0
