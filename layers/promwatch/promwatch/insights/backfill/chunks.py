"""Backfill time arithmetic and continuation tokens (pure code).

Chunks start and end on multiples of the *alignment*, the least common multiple of the rule
periods, so every period lies wholly inside one chunk and a chunk's documents are complete
for each of its periods. A continuation token records the request (cluster, aligned range,
rules digest) and where the next chunk starts: everything before it is done.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from promwatch.insights.errors import BackfillError
from promwatch.insights.rules import CompiledRule, RulesConfig
from promwatch.safeload import DocumentError, load_json

__all__ = ["Continuation", "alignment_ms", "chunk_end", "iso", "rules_digest", "type_filter_pattern"]

MAX_PATTERN_TYPES = 10
"""More distinct Types than this and the log group is read unfiltered."""
_TYPE_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def alignment_ms(rules: tuple[CompiledRule, ...]) -> int:
    """The least common multiple of the rule periods, in milliseconds."""
    return math.lcm(*(rule.period_ms for rule in rules))


def chunk_end(start_ms: int, end_ms: int, chunk_ms: int, alignment: int) -> int:
    """End of the chunk starting at ``start_ms``: ``chunk_ms`` rounded up to the alignment, capped at ``end_ms``."""
    length = -(-chunk_ms // alignment) * alignment
    return min(start_ms + length, end_ms)


def type_filter_pattern(rules: tuple[CompiledRule, ...]) -> str | None:
    """A FilterLogEvents pattern keeping only the Types some rule reads (None: read everything).

    ``{ $.Type = "Pod" || $.Type = "Node" }`` lets CloudWatch Logs drop the NodeFS, PodNet,
    Container... events the rules would ignore anyway, before they are transferred.
    """
    types = sorted({name for rule in rules for name in rule.types})
    if not types or len(types) > MAX_PATTERN_TYPES or not all(_TYPE_NAME.match(name) for name in types):
        return None
    return "{ " + " || ".join(f'$.Type = "{name}"' for name in types) + " }"


def rules_digest(config: RulesConfig) -> str:
    """A short digest of the rules: a token is only valid with the rules that issued it."""
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]


def iso(epoch_ms: int) -> str:
    """ISO-8601 UTC text of epoch milliseconds."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Continuation:
    """Where a backfill resumes: chunks of ``[start_ms, next_ms)`` are written already."""

    cluster: str
    start_ms: int
    end_ms: int
    next_ms: int
    rules: str

    def encode(self) -> str:
        """The opaque token handed back to the caller."""
        body = json.dumps(
            {"v": 1, "c": self.cluster, "s": self.start_ms, "e": self.end_ms, "n": self.next_ms, "r": self.rules},
            separators=(",", ":"),
        )
        return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Continuation:
        """Read a token made by :meth:`encode`.

        Raises
        ------
        BackfillError
            When the token is not one.
        """
        try:
            body = load_json(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if body.get("v") != 1:
                raise ValueError("version")
            return cls(str(body["c"]), int(body["s"]), int(body["e"]), int(body["n"]), str(body["r"]))
        except (binascii.Error, DocumentError, ValueError, KeyError, TypeError, AttributeError):
            raise BackfillError(f"continuation {token[:32]!r} is not a backfill continuation token") from None
