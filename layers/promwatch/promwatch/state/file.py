"""Baselines in one JSON file (``promwatch scrape --state-file PATH``), the local stand-in
for the DynamoDB table.

The file maps each target to its version and baselines::

    {"targets": {"<job>#<instance>": {"version": 3, "baselines": {...TargetBaselines.to_dict()...}}},
     "claims": {"<job>#<instance>": {"owner": "...", "until_ms": 1795000000000}}}

Saves are compare-and-swap under an exclusive ``fcntl`` lock on ``PATH.lock`` and replace the
file atomically (write to a temporary file in the same directory, fsync, ``os.replace``), so
separate processes sharing the file never lose or half-write an update.
"""
from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from promwatch.safeload import DocumentError, load_json
from promwatch.state.errors import StateConflictError, StateCorruptError
from promwatch.state.model import TargetBaselines
from promwatch.state.store import Loaded


def target_key(job: str, instance: str) -> str:
    """The record key of a target: ``<job>#<instance>``, with ``\\`` and ``#`` escaped in the job
    so two targets never share a key (job ``a#b`` instance ``c`` is not job ``a`` instance
    ``b#c``) and no key starts with ``#`` (claims do: :data:`CLAIM_PREFIX`)."""
    if "#" in job or "\\" in job:
        job = job.replace("\\", "\\\\").replace("#", "\\#")
    return f"{job}#{instance}"


CLAIM_PREFIX = "#claim#"
"""Keys of claims (:meth:`promwatch.state.StateStore.claim`) start with this; no target key can."""


class FileStateStore:
    """Baselines of every target in one JSON file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")

    @contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> dict[str, Any]:
        return self._read_all().get("targets", {})

    def _read_all(self) -> dict[str, Any]:
        try:
            data = load_json(self.path.read_bytes())
        except FileNotFoundError:
            return {"targets": {}, "claims": {}}
        except DocumentError as exc:
            raise StateCorruptError(f"state file {str(self.path)!r} is not valid JSON ({exc}); expected promwatch baselines") from exc
        targets = data.get("targets") if isinstance(data, dict) else None
        if not isinstance(targets, dict) or not isinstance(data.get("claims", {}), dict):
            raise StateCorruptError(f"state file {str(self.path)!r} has no \"targets\" object; expected promwatch baselines")
        return {"targets": targets, "claims": data.get("claims", {})}

    def load(self, job: str, instance: str) -> Loaded:
        """See :meth:`promwatch.state.StateStore.load`."""
        with self._locked(exclusive=False):
            record = self._read().get(target_key(job, instance))
        if record is None:
            return Loaded(None, 0)
        return Loaded(TargetBaselines.from_dict(record.get("baselines")), int(record.get("version", 0)))

    def save(self, job: str, instance: str, baselines: TargetBaselines, *, expected_version: int) -> int:
        """See :meth:`promwatch.state.StateStore.save`."""
        key = target_key(job, instance)
        with self._locked(exclusive=True):
            data = self._read_all()
            targets = data.setdefault("targets", {})
            current = int(targets.get(key, {}).get("version", 0))
            if current != expected_version:
                raise StateConflictError(
                    f"baselines of {key!r} in {str(self.path)!r} are at version {current}; expected {expected_version}"
                )
            targets[key] = {"version": current + 1, "baselines": baselines.to_dict()}
            self._replace(data)
        return current + 1

    def claim(self, job: str, instance: str, *, owner: str, until_ms: int, now_ms: int) -> bool:
        """See :meth:`promwatch.state.StateStore.claim`."""
        key = target_key(job, instance)
        with self._locked(exclusive=True):
            data = self._read_all()
            claims = data.setdefault("claims", {})
            holder = claims.get(key)
            if isinstance(holder, dict) and holder.get("owner") != owner and int(holder.get("until_ms", 0)) >= now_ms:
                return False
            claims[key] = {"owner": owner, "until_ms": until_ms}
            self._replace(data)
        return True

    def release(self, job: str, instance: str, *, owner: str) -> None:
        """See :meth:`promwatch.state.StateStore.release`."""
        key = target_key(job, instance)
        with self._locked(exclusive=True):
            data = self._read_all()
            holder = data.get("claims", {}).get(key)
            if isinstance(holder, dict) and holder.get("owner") == owner:
                del data["claims"][key]
                self._replace(data)

    def _replace(self, data: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, separators=(",", ":"), allow_nan=False)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
