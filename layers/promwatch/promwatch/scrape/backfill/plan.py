"""The Prometheus backfill's planned range, request digest and continuation token (pure); chunks,
the age limit and the token format are shared with the Container Insights backfill
(:mod:`promwatch.backfillbase`).

A *period* is one step (the job's scrape interval unless told otherwise): the live path
publishes one data point per series per scrape, the backfill one per series per period,
stamped at the period's start. Periods start on multiples of the step (epoch-aligned), so a
period lies wholly inside one chunk; a chunk is a whole number of periods.

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

from promwatch.backfillbase import ContinuationToken, TokenFormat, aligned_range, check_age, iso
from promwatch.scrape.errors import PrometheusBackfillError

__all__ = ["Continuation", "planned_range", "request_digest"]


def planned_range(start_ms: int, end_ms: int, step_ms: int, now_ms: int) -> tuple[int, int]:
    """The periods a request covers: ``start`` down and ``end`` up to a step, ``end`` capped at
    the last period that is over.

    Raises
    ------
    PrometheusBackfillError
        When no complete period that is over lies in the range, or its start is older than
        :data:`~promwatch.backfillbase.MAX_BACKFILL_AGE_SECONDS` (the message names the boundary).
    """
    start, end = aligned_range(start_ms, end_ms, step_ms, now_ms)
    if end <= start:
        raise PrometheusBackfillError(
            f"backfill range {iso(start_ms)} .. {iso(end_ms)} holds no complete {step_ms // 1000}-second "
            f"period that is over (now is {iso(now_ms)}); expected start < end <= now"
        )
    check_age(start, now_ms, f"backfill start {iso(start_ms)} (period start {iso(start)})", PrometheusBackfillError)
    return start, end


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
