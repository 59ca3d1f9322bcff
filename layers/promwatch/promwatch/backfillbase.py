"""What both backfills share (pure): ranges of whole periods, chunks paced to the deadline, the
age limit and continuation tokens.

The Container Insights backfill (:mod:`promwatch.insights.backfill`) and the Prometheus backfill
(:mod:`promwatch.scrape.backfill`) take a range of whole periods that are over (unaligned or future
bounds are refused, naming the nearest acceptable ones), cut it into chunks of whole periods (multiples of the
*alignment*, so a period lies wholly inside one chunk), deliver each chunk whole before the next
one starts, and stop between chunks near the Lambda deadline with a token naming the next chunk.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from typing import Annotated, ClassVar, Self

from pydantic import AfterValidator, ValidationError

from promwatch.errors import PromwatchError
from promwatch.limits import EMF_MAX_PAST_AGE_SECONDS, LOGS_MAX_EVENT_PAST_AGE_SECONDS
from promwatch.safeload import DocumentError, load_json

__all__ = [
    "MAX_BACKFILL_AGE_SECONDS",
    "ContinuationToken",
    "TokenFormat",
    "UtcDatetime",
    "check_age",
    "chunk_end",
    "count_chunks",
    "invalid_request",
    "iso",
    "paced_chunks",
    "token_fits",
    "utc",
    "whole_periods",
]

MAX_BACKFILL_AGE_SECONDS = min(EMF_MAX_PAST_AGE_SECONDS, LOGS_MAX_EVENT_PAST_AGE_SECONDS)
"""How old a backfilled period may be: CloudWatch drops EMF metrics more than 14 days old, and
PutLogEvents refuses such events."""
_TOKEN_VERSION = 1


def iso(epoch_ms: int) -> str:
    """ISO-8601 UTC text of epoch milliseconds."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def whole_periods(start_ms: int, end_ms: int, alignment: int, now_ms: int, error: type[PromwatchError]) -> tuple[int, int]:
    """``(start_ms, end_ms)`` once checked to be whole periods that are over: a backfill writes only
    what lies in ``[start, end)``, and a period partly outside would hold samples from outside.

    Raises
    ------
    PromwatchError
        ``error``, when ``start`` or ``end`` is not on a period boundary (naming the nearest ones),
        the range is empty or reversed, or ``end`` is after the last period that is over (naming it).
    """
    unit = f"{alignment // 1000}-second"
    for name, value in (("start", start_ms), ("end", end_ms)):
        if value % alignment:
            before = value // alignment * alignment
            raise error(
                f"backfill {name} {iso(value)} is not on a {unit} period boundary; expected whole periods: "
                f"{iso(before)} or {iso(before + alignment)}"
            )
    if end_ms <= start_ms:
        raise error(f"backfill range {iso(start_ms)} .. {iso(end_ms)} is empty or reversed; expected start < end")
    last = now_ms // alignment * alignment
    if end_ms > last:
        raise error(
            f"backfill end {iso(end_ms)} is after the end of the last {unit} period that is over (now is "
            f"{iso(now_ms)}); expected an end at or before {iso(last)}"
        )
    return start_ms, end_ms


def check_age(start_ms: int, now_ms: int, what: str, error: type[PromwatchError]) -> None:
    """Refuse a period that starts before CloudWatch's past limit.

    Raises
    ------
    PromwatchError
        ``error``, naming ``what``, the limit and the oldest start accepted now.
    """
    oldest = now_ms - MAX_BACKFILL_AGE_SECONDS * 1000
    if start_ms < oldest:
        raise error(
            f"{what} is older than {MAX_BACKFILL_AGE_SECONDS // 86400} days: CloudWatch drops EMF metrics and "
            f"PutLogEvents refuses events before {iso(oldest)}; expected a start at or after that"
        )


def chunk_end(start_ms: int, end_ms: int, chunk_ms: int, alignment: int) -> int:
    """End of the chunk starting at ``start_ms``: ``chunk_ms`` rounded up to the alignment, capped at ``end_ms``."""
    length = -(-chunk_ms // alignment) * alignment
    return min(start_ms + length, end_ms)


def count_chunks(start_ms: int, end_ms: int, chunk_ms: int, alignment: int) -> int:
    """How many chunks :func:`chunk_end` cuts ``[start_ms, end_ms)`` into."""
    length = -(-chunk_ms // alignment) * alignment
    return max(0, -(-(end_ms - start_ms) // length))


def paced_chunks(
    next_ms: int,
    end_ms: int,
    chunk_ms: int,
    alignment: int,
    *,
    now_ms: int,
    error: type[PromwatchError],
    max_chunks: int | None,
    remaining_ms: Callable[[], int] | None,
    margin_ms: int,
) -> Iterator[tuple[int, int]]:
    """The chunks ``(start, end)`` from ``next_ms`` on, as long as the invocation has time for one more.

    The caller delivers each chunk before asking for the next; the time that took is measured
    here. A chunk starts only when ``margin_ms`` plus twice the longest chunk so far is left
    (``remaining_ms`` None: no deadline), and no more than ``max_chunks`` run; the first chunk
    always runs, so every invocation makes progress.

    Raises
    ------
    PromwatchError
        ``error``, when a chunk starts before CloudWatch's past limit (:func:`check_age`): a
        resumed backfill may have aged past it since its first invocation.
    """
    longest = 0
    chunks = 0
    while next_ms < end_ms:
        if max_chunks is not None and chunks >= max_chunks:
            return
        before = remaining_ms() if remaining_ms else None
        if before is not None and chunks and before < margin_ms + 2 * longest:
            return
        check_age(next_ms, now_ms, f"backfill chunk starting {iso(next_ms)}", error)
        until = chunk_end(next_ms, end_ms, chunk_ms, alignment)
        yield next_ms, until
        next_ms = until
        chunks += 1
        if before is not None and remaining_ms is not None:
            longest = max(longest, before - remaining_ms())


def token_fits(token_start_ms: int, token_end_ms: int, token_next_ms: int, start_ms: int, end_ms: int) -> bool:
    """True when a token's planned range belongs to a request planned as ``[start_ms, end_ms)``.

    The token's end stands when it is earlier: an end capped at "now" when the token was issued
    must not grow into periods the first invocation did not plan.
    """
    return token_start_ms == start_ms and token_end_ms <= end_ms and start_ms <= token_next_ms <= token_end_ms


def utc(value: datetime) -> datetime:
    """``value`` as UTC when it names no time zone."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(utc)]
"""A request's ``start`` or ``end``: RFC 3339 (read as UTC when it names no time zone) or unix seconds."""
_TIMES = ("start", "end")


def invalid_request(error: ValidationError, where: str, shape: str) -> str:
    """The message of a request that is not one: the first bad member, quoting a bad ``start`` or
    ``end`` and the formats expected, else the request's ``shape``."""
    first = error.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in first["loc"])
    member = f"{where}.{loc}" if loc else where
    if first["loc"] and first["loc"][-1] in _TIMES and len(first["loc"]) == 1:
        return (f"{member} {first['input']!r} is not a time ({first['msg']}); expected RFC 3339 "
                "(2026-11-20T00:00:00Z) or unix seconds")
    return f"{member}: {first['msg']}; expected {shape}"


@dataclass(frozen=True, slots=True)
class TokenFormat:
    """How a :class:`ContinuationToken` is written: each field, in order, by its short key and
    type; ``error`` is raised, naming the ``kind`` of token, on a token that is not one."""

    keys: Mapping[str, type[str] | type[int]]
    error: type[PromwatchError]
    kind: str


class ContinuationToken:
    """Base of a frozen dataclass of ``str`` and ``int`` fields that is a continuation token, written
    as ``TOKEN`` says."""

    __slots__ = ()
    TOKEN: ClassVar[TokenFormat]

    def encode(self) -> str:
        """The opaque token handed back to the caller."""
        # every subclass is a dataclass
        fields = dict(zip(self.TOKEN.keys, astuple(self), strict=True))  # type: ignore[call-overload]
        body = json.dumps({"v": _TOKEN_VERSION, **fields}, separators=(",", ":"))
        return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Self:
        """Read a token made by :meth:`encode`.

        Raises
        ------
        PromwatchError
            ``TOKEN.error``, when the token is not one (not one at all, another version, a field
            missing or of the wrong type).
        """
        with suppress(binascii.Error, DocumentError, ValueError, KeyError, TypeError, AttributeError):
            body = load_json(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if body.get("v") == _TOKEN_VERSION:
                return cls(*(kind(body[key]) for key, kind in cls.TOKEN.keys.items()))
        raise cls.TOKEN.error(f"continuation {token[:32]!r} is not a {cls.TOKEN.kind} continuation token")
