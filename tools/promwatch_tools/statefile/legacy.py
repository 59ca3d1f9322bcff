"""The JSON state file of earlier promwatch versions, imported into the SQLite store when first opened.

Before :class:`~promwatch_tools.statefile.SqliteStateStore`, ``--state-file`` named one JSON file, read
and rewritten whole for every load, save, claim and release (so a cycle cost O(targets²))::

    {"targets": {"<target key>": {"version": 3, "baselines": {...TargetBaselines.to_dict()...}}},
     "claims": {"<target key>": {"owner": "...", "until_ms": 1795000000000}}}

Its writers held an exclusive ``fcntl`` lock on ``PATH.lock``. :func:`import_legacy_file` takes
that lock too, so it never interleaves with a promwatch of the old version still running;
reads the targets (keyed by :func:`~promwatch.state.record.target_key` already, as in the
database); has the caller write them into a new database beside the file; keeps the JSON file's bytes as
``PATH.bak`` (or ``PATH.bak.1``, ... whichever is free: nothing is overwritten); and renames
the database over ``PATH``, so a reader finds either the JSON file or the database, never
neither. Claims are not imported: they are leases held by cycles of the old version, which
cannot save into a database anyway.
"""
from __future__ import annotations

import fcntl
import logging
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from promwatch.safeload import DocumentError, load_json
from promwatch.state.errors import StateCorruptError, StateError
from promwatch.state.model import TargetBaselines

log = logging.getLogger("promwatch.state")

SQLITE_MAGIC = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""
_MAX_BACKUPS = 100


class LegacyTarget(NamedTuple):
    """One target of a JSON state file."""

    key: str
    version: int
    baselines: TargetBaselines


def _not_a_state_file(path: Path, detail: str) -> StateCorruptError:
    """The error for a ``--state-file`` that promwatch did not write."""
    return StateCorruptError(
        f"state file {str(path)!r} is neither a promwatch state database (SQLite) nor the JSON state file "
        f"of an earlier promwatch ({detail}); expected a file written by `promwatch scrape --state-file`: "
        "give another path, or move this file away"
    )


def read_legacy_targets(path: Path, raw: bytes) -> tuple[list[LegacyTarget], list[tuple[str, str]]]:
    """The targets of a JSON state file, and the keys of those that could not be read, with why.

    Raises
    ------
    StateCorruptError
        When ``raw`` is not a JSON state file at all (not JSON, or no ``"targets"`` object).
    """
    try:
        data = load_json(raw)
    except DocumentError as exc:
        raise _not_a_state_file(path, str(exc)) from exc
    targets = data.get("targets") if isinstance(data, dict) else None
    if not isinstance(targets, dict):
        raise _not_a_state_file(path, 'JSON without a "targets" object')
    found: list[LegacyTarget] = []
    skipped: list[tuple[str, str]] = []
    for key, record in targets.items():
        try:
            version = record.get("version") if isinstance(record, dict) else None
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise StateCorruptError(f"version {version!r}; expected a positive integer")
            found.append(LegacyTarget(key, version, TargetBaselines.from_dict(record.get("baselines"))))
        except StateCorruptError as exc:
            skipped.append((key, str(exc)))
    return found, skipped


def import_legacy_file(path: Path, write_database: Callable[[Path, list[LegacyTarget]], None]) -> None:
    """Replace the JSON state file at ``path`` by a database of its targets (see the module docstring).

    ``write_database(tmp, targets)`` creates the database at ``tmp`` (an empty file in the same
    directory). Nothing is done when ``path`` has become a database meanwhile (another process
    imported it first).

    Raises
    ------
    StateCorruptError
        When ``path`` is not a JSON state file (it is left as it was).
    StateError
        When the files cannot be read or written (``path`` is left as it was).
    """
    if _read_unless_database(path) is None:  # a file that is no state file is refused before a lock file is made
        return
    with _locked(path):
        found = _read_unless_database(path)
        if found is None:
            # Imported by another process meanwhile. Who made a lock file removes it (that one
            # may have been removed and made again since): none is left behind.
            _lock_path(path).unlink(missing_ok=True)
            return
        raw, (targets, skipped) = found
        fd, name = tempfile.mkstemp(prefix=path.name + ".", suffix=".import", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
            write_database(tmp, targets)
            os.chmod(tmp, mode)
            backup = _keep_backup(path, raw, mode)
            os.replace(tmp, path)
        except OSError as exc:
            raise StateError(f"could not import JSON state file {str(path)!r}: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
        # Only processes reading a JSON file take this lock: it serves no purpose any more.
        _lock_path(path).unlink(missing_ok=True)
    log.warning("state file %s was the JSON state file of an earlier promwatch: imported the baselines of %d "
                "targets into a SQLite database in its place; the JSON file is kept as %s",
                path, len(targets), backup)
    for key, reason in skipped:
        log.warning("state file %s: target %r was left out of the import (its next scrape records anew): %s",
                    path, key, reason)


def _read_unless_database(path: Path) -> tuple[bytes, tuple[list[LegacyTarget], list[tuple[str, str]]]] | None:
    """The bytes and the targets of a JSON state file; None when ``path`` is a database by now."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StateError(f"could not read state file {str(path)!r}: {exc.strerror or exc}") from exc
    return None if raw.startswith(SQLITE_MAGIC) else (raw, read_legacy_targets(path, raw))


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    try:
        lock = open(_lock_path(path), "a")  # noqa: SIM115 - held across the yield
    except OSError as exc:
        raise StateError(f"could not lock state file {str(path)!r} for its import: {exc}") from exc
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _keep_backup(path: Path, raw: bytes, mode: int) -> Path:
    """Write ``raw`` to the first of ``PATH.bak``, ``PATH.bak.1``, ... that does not exist."""
    for index in range(_MAX_BACKUPS):
        backup = path.with_name(path.name + (".bak" if index == 0 else f".bak.{index}"))
        try:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        return backup
    raise StateError(
        f"could not import JSON state file {str(path)!r}: {path.name}.bak to {path.name}.bak.{_MAX_BACKUPS - 1} "
        "all exist; expected a free name for its backup (remove old backups)"
    )
