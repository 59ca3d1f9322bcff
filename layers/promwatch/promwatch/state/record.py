"""What the persistent stores share about a target's record: its key, its data, its lifetime.

:class:`~promwatch.state.DynamoDBStateStore` and :class:`~promwatch_tools.statefile.SqliteStateStore`
both key a target by :func:`target_key` and store its baselines as
:func:`compress_baselines` makes them (zlib-compressed :meth:`TargetBaselines.to_json`: series
keys repeat their label names, so a node_exporter target's 8 KB of JSON take about 1 KB).
"""
from __future__ import annotations

import zlib

from promwatch.state.errors import StateCorruptError
from promwatch.state.model import TargetBaselines

DEFAULT_TTL_SECONDS = 7 * 24 * 3600
"""Baselines of a target not scraped for a week read as absent, and are deleted."""
COMPRESSION_LEVEL = 6
"""zlib's default: level 9 saves a few percent more for twice the CPU."""
CLAIM_PREFIX = "#claim#"
"""Keys of claims (:meth:`promwatch.state.StateStore.claim`) in a table shared with
baselines start with this; no target key can."""


def target_key(job: str, instance: str) -> str:
    """The record key of a target: ``<job>#<instance>``, with ``\\`` and ``#`` escaped in the job
    so two targets never share a key (job ``a#b`` instance ``c`` is not job ``a`` instance
    ``b#c``) and no key starts with ``#`` (claims do: :data:`CLAIM_PREFIX`)."""
    if "#" in job or "\\" in job:
        job = job.replace("\\", "\\\\").replace("#", "\\#")
    return f"{job}#{instance}"


def compress_baselines(baselines: TargetBaselines) -> bytes:
    """The stored form of ``baselines``: zlib-compressed compact JSON."""
    return zlib.compress(baselines.to_json().encode("utf-8"), COMPRESSION_LEVEL)


def decompress_baselines(blob: bytes, what: str) -> TargetBaselines:
    """Read :func:`compress_baselines`' output; ``what`` names the record in error messages.

    Raises
    ------
    StateCorruptError
        When ``blob`` is not zlib data, or not baselines once decompressed.
    """
    try:
        text = zlib.decompress(blob)
    except zlib.error as exc:
        raise StateCorruptError(f"baselines of {what} are not zlib data ({exc}); expected compressed JSON") from exc
    try:
        return TargetBaselines.from_json(text)
    except StateCorruptError as exc:
        raise StateCorruptError(f"baselines of {what}: {exc}") from exc
