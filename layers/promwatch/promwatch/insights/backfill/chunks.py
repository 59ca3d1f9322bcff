"""The Container Insights backfill's alignment, read filter and continuation token (pure code);
chunking, pacing and the token format it shares with the Prometheus backfill
(:mod:`promwatch.backfillbase`).

Chunks start and end on multiples of the *alignment*, the least common multiple of the rule
periods, so every period lies wholly inside one chunk and a chunk's documents are complete
for each of its periods. A continuation token records the request (cluster, aligned range,
rules digest) and where the next chunk starts: everything before it is done.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import ClassVar

from promwatch.backfillbase import ContinuationToken, TokenFormat
from promwatch.insights.errors import BackfillError
from promwatch.insights.rules import CompiledRule, RulesConfig

__all__ = ["Continuation", "alignment_ms", "rules_digest", "type_filter_pattern"]

MAX_PATTERN_TYPES = 10
"""More distinct Types than this and the log group is read unfiltered."""
_TYPE_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def alignment_ms(rules: tuple[CompiledRule, ...]) -> int:
    """The least common multiple of the rule periods, in milliseconds."""
    return math.lcm(*(rule.period_ms for rule in rules))


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


@dataclass(frozen=True, slots=True)
class Continuation(ContinuationToken):
    """Where a backfill resumes: chunks of ``[start_ms, next_ms)`` are written already."""

    TOKEN: ClassVar[TokenFormat] = TokenFormat(
        {"c": str, "s": int, "e": int, "n": int, "r": str}, BackfillError, "backfill"
    )

    cluster: str
    start_ms: int
    end_ms: int
    next_ms: int
    rules: str
