"""Baselines in a SQLite database file (``promwatch scrape --state-file PATH``), the local
stand-in for the DynamoDB table.

One indexed row per target, so a load or save costs the same with 10 targets or 10,000 (the
JSON file this replaces was rewritten whole for each; see :mod:`promwatch_tools.statefile.legacy`, which
imports such a file when it is first opened)::

    baselines   key TEXT PRIMARY KEY    target_key(job, instance)
                version INTEGER         grows by one per save; saves are conditional on it
                expires_at INTEGER      epoch seconds: reads as absent after, deleted on a later open
                scraped_at INTEGER      epoch milliseconds of the scrape the baselines describe
                series INTEGER          number of series (for people reading the table)
                data BLOB               zlib-compressed TargetBaselines.to_json(), as in DynamoDB
    claims      key TEXT PRIMARY KEY, owner TEXT, until_ms INTEGER

The file carries ``PRAGMA application_id`` :data:`APPLICATION_ID` and ``user_version``
:data:`SCHEMA_VERSION`: any other file is refused, naming what was found. It is in WAL mode,
so readers never wait for the writer; ``PATH-wal`` and ``PATH-shm`` sit beside it while it is
open. Every write is one statement (a compare-and-swap on the version, an upsert of a claim),
atomic whichever process or thread runs it; writers queue for up to
:data:`BUSY_TIMEOUT_SECONDS`. Commits are durable when promwatch is killed; with
``synchronous=NORMAL`` a power loss may undo the last ones (the next scrape then counts their
interval again), which spares an fsync per target.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from promwatch.state.errors import StateConflictError, StateCorruptError, StateError
from promwatch.state.model import TargetBaselines
from promwatch.state.record import DEFAULT_TTL_SECONDS, compress_baselines, decompress_baselines, target_key
from promwatch.state.store import Loaded

from promwatch_tools.statefile.legacy import SQLITE_MAGIC, LegacyTarget, import_legacy_file

APPLICATION_ID = 0x50574D53
"""``PRAGMA application_id`` of a promwatch state database ("PWMS")."""
SCHEMA_VERSION = 1
"""``PRAGMA user_version``: the layout in the module docstring."""
BUSY_TIMEOUT_SECONDS = 30.0
"""How long a write waits for another connection's (each write holds the lock for about a millisecond)."""

_SCHEMA = (
    "CREATE TABLE baselines (key TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " scraped_at INTEGER NOT NULL, series INTEGER NOT NULL, data BLOB NOT NULL)",
    "CREATE INDEX baselines_by_expiry ON baselines (expires_at)",
    "CREATE TABLE claims (key TEXT PRIMARY KEY NOT NULL, owner TEXT NOT NULL, until_ms INTEGER NOT NULL) WITHOUT ROWID",
    f"PRAGMA application_id = {APPLICATION_ID}",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)
_INSERT = ("INSERT INTO baselines (key, version, expires_at, scraped_at, series, data) VALUES (?, ?, ?, ?, ?, ?)"
           " ON CONFLICT (key) DO NOTHING")
_UPDATE = ("UPDATE baselines SET version = version + 1, expires_at = ?, scraped_at = ?, series = ?, data = ?"
           " WHERE key = ? AND version = ?")
_CLAIM = ("INSERT INTO claims (key, owner, until_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE"
          " SET owner = excluded.owner, until_ms = excluded.until_ms"
          " WHERE claims.owner = excluded.owner OR claims.until_ms < ?")


class SqliteStateStore:
    """Target baselines in a SQLite database file, shared by threads and processes.

    Parameters
    ----------
    path
        The database file; created (with its directory) when missing. A JSON state file of an
        earlier promwatch is imported in its place (:mod:`promwatch_tools.statefile.legacy`).
    ttl_seconds
        ``expires_at`` is set this far after each save.
    clock
        Seconds since the epoch (injectable for tests).

    The file is opened and checked here, and baselines expired (and claims lapsed) are deleted.
    Each thread running an operation uses a connection of its own (kept for the next
    operation of any thread); :meth:`close` closes them.

    Raises
    ------
    StateCorruptError
        When ``path`` is neither a promwatch state database nor a JSON state file.
    StateError
        When it cannot be opened or created.
    """

    def __init__(
        self, path: str | Path, *, ttl_seconds: int = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._idle: list[sqlite3.Connection] = []
        self._idle_lock = threading.Lock()
        self._open()

    def __enter__(self) -> SqliteStateStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the idle connections (an operation run afterwards opens a new one)."""
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def load(self, job: str, instance: str) -> Loaded:
        """See :meth:`promwatch.state.StateStore.load`.

        Raises
        ------
        StateError
            When the database cannot be read.
        StateCorruptError
            When the file or the target's row is damaged.
        """
        key = target_key(job, instance)
        with self._connection() as connection, self._errors(f"load the baselines of {key!r}"):
            row = connection.execute("SELECT version, expires_at, data FROM baselines WHERE key = ?", (key,)).fetchone()
        if row is None:
            return Loaded(None, 0)
        version, expires_at, data = row
        if expires_at < self._clock():
            return Loaded(None, version)
        return Loaded(decompress_baselines(data, f"{key!r} in state file {str(self.path)!r}"), version)

    def save(self, job: str, instance: str, baselines: TargetBaselines, *, expected_version: int) -> int:
        """See :meth:`promwatch.state.StateStore.save`.

        Raises
        ------
        StateConflictError
            When the row is not at ``expected_version`` any more.
        StateError
            When the database cannot be written (read-only, disk full, locked too long).
        """
        key = target_key(job, instance)
        columns = (int(self._clock()) + self.ttl_seconds, baselines.scraped_at_ms, len(baselines),
                   compress_baselines(baselines))
        with self._connection() as connection, self._errors(f"save the baselines of {key!r}"):
            if expected_version == 0:
                saved = connection.execute(_INSERT, (key, 1, *columns)).rowcount
            else:
                saved = connection.execute(_UPDATE, (*columns, key, expected_version)).rowcount
            if saved == 1:
                return expected_version + 1
            row = connection.execute("SELECT version FROM baselines WHERE key = ?", (key,)).fetchone()
        raise StateConflictError(
            f"baselines of {key!r} in state file {str(self.path)!r} are at version {row[0] if row else 0}; "
            f"expected {expected_version}"
        )

    def claim(self, job: str, instance: str, *, owner: str, until_ms: int, now_ms: int) -> bool:
        """See :meth:`promwatch.state.StateStore.claim`.

        Raises
        ------
        StateError
            When the database cannot be written.
        """
        key = target_key(job, instance)
        with self._connection() as connection, self._errors(f"claim {key!r}"):
            return connection.execute(_CLAIM, (key, owner, until_ms, now_ms)).rowcount == 1

    def release(self, job: str, instance: str, *, owner: str) -> None:
        """See :meth:`promwatch.state.StateStore.release`.

        Raises
        ------
        StateError
            When the database cannot be written (the claim then lapses at its ``until_ms``).
        """
        key = target_key(job, instance)
        with self._connection() as connection, self._errors(f"release {key!r}"):
            connection.execute("DELETE FROM claims WHERE key = ? AND owner = ?", (key, owner))

    # -- opening -------------------------------------------------------------------------------

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "rb") as file:
                header = file.read(len(SQLITE_MAGIC))
        except FileNotFoundError:
            header = b""
        except OSError as exc:
            raise StateError(f"could not open state file {str(self.path)!r}: {exc.strerror or exc}; "
                             "expected a file promwatch can read and write") from exc
        if header and not header.startswith(SQLITE_MAGIC):
            import_legacy_file(self.path, self._write_imported)
        connection = self._connect()
        try:
            self._prepare(connection)
            with self._errors("delete expired baselines and lapsed claims"):
                now = self._clock()
                connection.execute("DELETE FROM claims WHERE until_ms < ?", (int(now * 1000),))
                connection.execute("DELETE FROM baselines WHERE expires_at < ? AND key NOT IN (SELECT key FROM claims)",
                                   (int(now),))
        except BaseException:
            connection.close()
            raise
        self._idle.append(connection)

    def _connect(self) -> sqlite3.Connection:
        with self._errors("open the database"):
            # Autocommit (isolation_level None): every statement is its own transaction.
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                                         check_same_thread=False)
            try:
                connection.execute("PRAGMA synchronous = NORMAL")  # this connection's: the file is not changed
            except BaseException:
                connection.close()
                raise
        return connection

    def _prepare(self, connection: sqlite3.Connection) -> None:
        """Create the tables in a new (empty) database; refuse a database that is not ours, unchanged;
        put ours in WAL mode (kept in the file)."""
        with self._errors("read the database's layout"):
            found = _layout(connection)
            if found == (0, 0, []):
                _use_wal(connection)
                connection.execute("BEGIN IMMEDIATE")  # two processes creating one new file: one creates
                try:
                    if _layout(connection) == (0, 0, []):
                        for statement in _SCHEMA:
                            connection.execute(statement)
                    connection.execute("COMMIT")
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                found = _layout(connection)
        application_id, version, tables = found
        if application_id == APPLICATION_ID and version == SCHEMA_VERSION:
            with self._errors("put the database in WAL mode"):
                _use_wal(connection)
            return
        if application_id == APPLICATION_ID:
            raise StateCorruptError(
                f"state file {str(self.path)!r} has layout version {version}; this promwatch reads version "
                f"{SCHEMA_VERSION} (written by a newer promwatch? upgrade, or give another path)"
            )
        raise StateCorruptError(
            f"state file {str(self.path)!r} is a SQLite database but not promwatch's (application_id {application_id}, "
            f"tables: {', '.join(tables) or 'none'}); expected a promwatch state database: give another path"
        )

    def _write_imported(self, path: Path, targets: list[LegacyTarget]) -> None:
        """Create a database at ``path`` holding ``targets`` (the import of a JSON state file)."""
        expires_at = int(self._clock()) + self.ttl_seconds
        rows = [(t.key, t.version, expires_at, t.baselines.scraped_at_ms, len(t.baselines),
                 compress_baselines(t.baselines)) for t in targets]
        with self._errors(f"import into {str(path)!r}"):
            # synchronous=FULL (the default): durable before it is renamed into place. Closing the
            # only connection folds the WAL into the file, which stays in WAL mode.
            connection = sqlite3.connect(path, isolation_level=None)
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA:
                    connection.execute(statement)
                connection.executemany(_INSERT, rows)
                connection.execute("COMMIT")
            finally:
                connection.close()

    # -- connections and errors ------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._idle_lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = self._connect()
        try:
            yield connection
        finally:
            with self._idle_lock:
                self._idle.append(connection)

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """sqlite3's errors as StateErrors naming the file and what was being done."""
        try:
            yield
        except sqlite3.Error as exc:
            name = getattr(exc, "sqlite_errorname", "") or type(exc).__name__
            if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
                raise StateCorruptError(
                    f"state file {str(self.path)!r} is damaged: could not {action}: {exc} ({name}); expected a "
                    "promwatch state database (move it away: the next scrape starts afresh)"
                ) from exc
            waited = f" (waited {BUSY_TIMEOUT_SECONDS:g} s for another writer)" if name.startswith("SQLITE_BUSY") else ""
            raise StateError(f"could not {action} in state file {str(self.path)!r}: {exc} ({name}){waited}") from exc


def _use_wal(connection: sqlite3.Connection) -> None:
    """Put the database in WAL mode (kept in the file) unless it is already.

    Leaving rollback mode needs the file to itself, and SQLite answers SQLITE_BUSY at once
    (without waiting) when other connections opening it hold it too: try again for a while.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            connection.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if not getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY") or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _layout(connection: sqlite3.Connection) -> tuple[int, int, list[str]]:
    """``application_id``, ``user_version`` and the table names of a database, read together (one
    snapshot: another process may be creating the tables)."""
    snapshot = not connection.in_transaction
    if snapshot:
        connection.execute("BEGIN")
    try:
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    finally:
        if snapshot:
            connection.execute("COMMIT")
    return application_id, version, tables
