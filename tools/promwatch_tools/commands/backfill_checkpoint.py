"""The ``--checkpoint`` file of ``promwatch backfill`` (pure, but for reading and writing the file).

A checkpoint keeps, per request, the latest continuation token (or ``complete``). A request is
keyed by what it *is*, not by how its arguments were spelled: the source, the URL (trailing ``/``
dropped) and the selectors (sorted, deduplicated), the job and step, or the cluster, and the
range in epoch milliseconds -- so ``2026-11-20T00:00:00Z``, ``2026-11-20T00:00:00+00:00`` and
``1795132800`` are one request. A request that is not the same as a recorded one but overlaps it
(same URL and job sharing a selector, or the same cluster, and intersecting ranges) is refused,
naming the recorded range: writing it would count the overlap twice.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from promwatch.errors import PromwatchError, PromwatchValueError

__all__ = ["COMPLETE", "BackfillInvocationError", "BackfillKey", "CheckpointError", "Checkpoints", "epoch_ms"]

COMPLETE = "complete"
"""Checkpoint value of a request whose every chunk is written."""
_UNIX_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


class CheckpointError(PromwatchError):
    """The checkpoint file cannot be read, or the request overlaps one it records."""


class BackfillInvocationError(PromwatchError, RuntimeError):
    """An invocation of the function failed (its handler raised) or made no progress; the
    message is the function's error message, or names the chunk it stuck at."""


def epoch_ms(text: str) -> int:
    """``--start``/``--end`` text -> epoch milliseconds: RFC 3339 (read as UTC when it names no
    zone) or unix seconds.

    Raises
    ------
    ValueError
        Quoting the text and naming the formats expected (argparse reports it for the option).
    """
    if _UNIX_SECONDS.fullmatch(text):
        return round(float(text) * 1000)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PromwatchValueError(f"{text!r} is not a time; expected RFC 3339 (2026-11-20T00:00:00Z) or unix seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class BackfillKey:
    """A normalized backfill request: ``scope`` says what is written (URL, job, selectors; or cluster)."""

    source: str
    scope: tuple[tuple[str, Any], ...]
    start_ms: int
    end_ms: int

    @classmethod
    def prometheus(cls, url: str, match: list[str], job: str | None, step: int | None, start_ms: int,
                   end_ms: int) -> BackfillKey:
        """The key of a ``backfill prometheus`` request."""
        selectors = tuple(sorted({s.strip() for s in match}))
        return cls("prometheus", (("url", url.rstrip("/")), ("job", job), ("match", selectors), ("step", step)),
                   start_ms, end_ms)

    @classmethod
    def insights(cls, cluster: str, log_group: str | None, start_ms: int, end_ms: int) -> BackfillKey:
        """The key of a ``backfill insights`` request."""
        return cls("insights", (("cluster", cluster), ("log_group", log_group)), start_ms, end_ms)

    def text(self) -> str:
        """The key as the checkpoint file holds it (JSON, keys sorted)."""
        body = {"source": self.source, **{k: list(v) if isinstance(v, tuple) else v for k, v in self.scope},
                "start_ms": self.start_ms, "end_ms": self.end_ms}
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str) -> BackfillKey | None:
        """The key of a checkpoint entry (None when it is not one this version writes)."""
        try:
            body = json.loads(text)
            if body["source"] == "prometheus":
                return cls.prometheus(body["url"], body["match"], body["job"], body["step"], body["start_ms"], body["end_ms"])
            if body["source"] == "insights":
                return cls.insights(body["cluster"], body["log_group"], body["start_ms"], body["end_ms"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        return None

    def writes_over(self, other: BackfillKey) -> bool:
        """True when both would write some of the same data points: the same source and target
        (URL and job with a selector in common; or cluster), and intersecting ranges."""
        if self.source != other.source or not (self.start_ms < other.end_ms and other.start_ms < self.end_ms):
            return False
        mine, theirs = dict(self.scope), dict(other.scope)
        if self.source == "insights":
            return bool(mine["cluster"] == theirs["cluster"])
        return bool(mine["url"] == theirs["url"] and mine["job"] == theirs["job"]
                    and set(mine["match"]) & set(theirs["match"]))

    def describe(self) -> str:
        """The key as a person reads it."""
        scope = " ".join(f"{k}={' '.join(v) if isinstance(v, tuple) else v}" for k, v in self.scope if v is not None)
        return f"{self.source} {scope} {_iso(self.start_ms)} .. {_iso(self.end_ms)}"


class Checkpoints:
    """The checkpoint file at ``path`` (None: no checkpoint kept)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def _entries(self) -> dict[str, Any]:
        """The file's tokens by key text ({} when there is no file yet).

        Raises
        ------
        DocumentError, CheckpointError
            When the file is not a JSON object (naming the file).
        """
        from promwatch.safeload import DocumentError, load_json

        if self.path is None or not self.path.exists():
            return {}
        try:
            state = load_json(self.path.read_bytes())
        except DocumentError as exc:
            raise DocumentError(f"checkpoint file {str(self.path)!r}: {exc}") from None
        if not isinstance(state, dict):
            raise CheckpointError(f"checkpoint file {str(self.path)!r} holds {type(state).__name__}; expected a JSON object")
        return state

    def token(self, key: BackfillKey) -> str | None:
        """The request's token (:data:`COMPLETE` when done; None when not begun).

        Raises
        ------
        CheckpointError
            When another recorded request writes some of the same data points (naming it and
            whether it is complete), or an entry is not one this version reads.
        """
        entries = self._entries()
        for text, token in entries.items():
            recorded = BackfillKey.from_text(text)
            if recorded is None:
                raise CheckpointError(
                    f"checkpoint file {str(self.path)!r} has an entry {text[:120]!r} this promwatch cannot compare "
                    "requests with (an older version's); expected entries it wrote: remove it or use another file"
                )
            if recorded != key and recorded.writes_over(key):
                state = "complete" if token == COMPLETE else "in progress"
                raise CheckpointError(
                    f"{key.describe()} overlaps {recorded.describe()} ({state} according to {self.path}): "
                    "writing it would count the overlap twice; expected a range outside it (or the same request, "
                    "to resume it)"
                )
        found = entries.get(key.text())
        return found if isinstance(found, str) else None

    def record(self, key: BackfillKey, token: str) -> None:
        """Keep ``token`` (or :data:`COMPLETE`) for the request."""
        if self.path is None:
            return
        entries = self._entries()
        entries[key.text()] = token
        self.path.write_text(json.dumps(entries, indent=2) + "\n", "utf-8")
