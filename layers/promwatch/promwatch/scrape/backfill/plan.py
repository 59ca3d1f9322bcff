"""Backfill time arithmetic: the range, its periods and chunks, the age limit, continuation tokens (pure).

A *period* is one step (the job's scrape interval unless told otherwise): the live path
publishes one data point per series per scrape, the backfill one per series per period,
stamped at the period's start. Periods start on multiples of the step (epoch-aligned), so a
period lies wholly inside one chunk; a chunk is a whole number of periods.

A continuation token records the request (a digest of URL, selectors, step and job), the
planned range, where the next chunk starts (every chunk before it is delivered) and what was
written so far.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from promwatch.limits import EMF_MAX_PAST_AGE_SECONDS, LOGS_MAX_EVENT_PAST_AGE_SECONDS
from promwatch.safeload import DocumentError, load_json
from promwatch.scrape.errors import PrometheusBackfillError

__all__ = [
    "MAX_BACKFILL_AGE_SECONDS",
    "Continuation",
    "check_age",
    "chunk_end",
    "count_chunks",
    "iso",
    "planned_range",
    "request_digest",
]

MAX_BACKFILL_AGE_SECONDS = min(EMF_MAX_PAST_AGE_SECONDS, LOGS_MAX_EVENT_PAST_AGE_SECONDS)
"""How old a backfilled period may be: CloudWatch drops EMF metrics more than 14 days old, and
PutLogEvents refuses such events."""


def iso(epoch_ms: int) -> str:
    """ISO-8601 UTC text of epoch milliseconds."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def planned_range(start_ms: int, end_ms: int, step_ms: int, now_ms: int) -> tuple[int, int]:
    """The periods a request covers: ``start`` down and ``end`` up to a step, ``end`` capped at
    the last period that is over.

    Raises
    ------
    PrometheusBackfillError
        When no complete period that is over lies in the range, or its start is older than
        :data:`MAX_BACKFILL_AGE_SECONDS` (the message names the boundary).
    """
    start = start_ms // step_ms * step_ms
    end = min(-(-end_ms // step_ms) * step_ms, now_ms // step_ms * step_ms)
    if end <= start:
        raise PrometheusBackfillError(
            f"backfill range {iso(start_ms)} .. {iso(end_ms)} holds no complete {step_ms // 1000}-second "
            f"period that is over (now is {iso(now_ms)}); expected start < end <= now"
        )
    check_age(start, now_ms, f"backfill start {iso(start_ms)} (period start {iso(start)})")
    return start, end


def check_age(start_ms: int, now_ms: int, what: str) -> None:
    """Refuse a period that starts before CloudWatch's past limit.

    Raises
    ------
    PrometheusBackfillError
        Naming ``what``, the limit and the oldest start accepted now.
    """
    oldest = now_ms - MAX_BACKFILL_AGE_SECONDS * 1000
    if start_ms < oldest:
        raise PrometheusBackfillError(
            f"{what} is older than {MAX_BACKFILL_AGE_SECONDS // 86400} days: CloudWatch drops EMF metrics and "
            f"PutLogEvents refuses events before {iso(oldest)}; expected a start at or after that"
        )


def chunk_end(start_ms: int, end_ms: int, chunk_ms: int, step_ms: int) -> int:
    """End of the chunk starting at ``start_ms``: ``chunk_ms`` rounded up to whole steps, capped at ``end_ms``."""
    length = -(-chunk_ms // step_ms) * step_ms
    return min(start_ms + length, end_ms)


def count_chunks(start_ms: int, end_ms: int, chunk_ms: int, step_ms: int) -> int:
    """How many chunks :func:`chunk_end` cuts ``[start_ms, end_ms)`` into."""
    length = -(-chunk_ms // step_ms) * step_ms
    return max(0, -(-(end_ms - start_ms) // length))


def request_digest(url: str, selectors: Sequence[str], step_ms: int, job: str | None) -> str:
    """A short digest of what decides the output: a token is only valid for the request that issued it."""
    body = json.dumps([url.rstrip("/"), sorted(set(selectors)), step_ms, job], separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Continuation:
    """Where a backfill resumes: the chunks of ``[start_ms, next_ms)`` are delivered, holding
    ``documents`` documents and ``points`` data points."""

    request: str
    start_ms: int
    end_ms: int
    next_ms: int
    documents: int = 0
    points: int = 0

    def encode(self) -> str:
        """The opaque token handed back to the caller."""
        body = json.dumps(
            {"v": 1, "r": self.request, "s": self.start_ms, "e": self.end_ms, "n": self.next_ms,
             "d": self.documents, "p": self.points},
            separators=(",", ":"),
        )
        return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Continuation:
        """Read a token made by :meth:`encode`.

        Raises
        ------
        PrometheusBackfillError
            When the token is not one.
        """
        try:
            body = load_json(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if body.get("v") != 1:
                raise ValueError("version")
            return cls(str(body["r"]), int(body["s"]), int(body["e"]), int(body["n"]), int(body["d"]), int(body["p"]))
        except (binascii.Error, DocumentError, ValueError, KeyError, TypeError, AttributeError):
            raise PrometheusBackfillError(
                f"continuation {token[:32]!r} is not a Prometheus backfill continuation token"
            ) from None
