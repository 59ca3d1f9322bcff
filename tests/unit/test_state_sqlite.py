"""SqliteStateStore (``--state-file``) beyond the StateStore contract: its file, expiry, threads,
errors, and the import of an earlier promwatch's JSON state file.

Processes sharing one file: tests/integration/test_state_sqlite.py.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest
from promwatch.state import (
    CounterBaseline,
    HistogramBaseline,
    StateConflictError,
    StateCorruptError,
    StateError,
    TargetBaselines,
    target_key,
    update_with_retry,
)
from promwatch_tools.statefile import SqliteStateStore
from promwatch_tools.statefile import sqlite as sqlite_store

from tests.unit.test_state_stores import HOSTILE_JSON

JOB, INSTANCE = "prod/task-service", "10.0.0.1:3000"
T0 = 1_800_000_000.0


def baselines(value: float = 1.0, t: int = 1_700_000_000_000) -> TargetBaselines:
    return TargetBaselines(
        t,
        {'a_total{x="1"}': CounterBaseline(value, 1.7e9), "b_total": CounterBaseline(2.0, None, 1_699_999_000_000)},
        {"h": HistogramBaseline((0.1, 1.0), (1.0, 2.0, 3.0), 0.5, 3.0, None, None)},
    )


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(sql).fetchall()


def execute(path: Path, sql: str) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        connection.execute(sql)


def test_two_stores_on_one_file_see_each_others_saves(tmp_path: Path) -> None:
    # given one file opened by two stores (as two `promwatch scrape` runs would)
    path = tmp_path / "state" / "baselines.db"
    with SqliteStateStore(path) as one, SqliteStateStore(path) as two:
        one.save(JOB, INSTANCE, baselines(), expected_version=0)
        loaded = two.load(JOB, INSTANCE)
        # when one saves after the other loaded
        one.save(JOB, INSTANCE, baselines(5.0), expected_version=loaded.version)
        # then the other loses the race, naming the file, and reads the winner
        with pytest.raises(StateConflictError, match=r"in state file '.*baselines\.db' are at version 2; expected 1"):
            two.save(JOB, INSTANCE, baselines(9.0), expected_version=loaded.version)
        assert two.load(JOB, INSTANCE) == (baselines(5.0), 2)
    # and the baselines outlive the stores, one row per target
    with SqliteStateStore(path) as again:
        assert again.load(JOB, INSTANCE) == (baselines(5.0), 2)
    assert rows(path, "SELECT key, version, series FROM baselines") == [(target_key(JOB, INSTANCE), 2, 3)]


def test_expired_baselines_read_as_absent_but_keep_their_version(tmp_path: Path) -> None:
    # given baselines saved with a 60 s TTL, read 2 minutes later
    now = [T0]
    store = SqliteStateStore(tmp_path / "s.db", ttl_seconds=60, clock=lambda: now[0])
    store.save(JOB, INSTANCE, baselines(), expected_version=0)
    now[0] += 120
    # when loaded, then they count as absent (a first scrape) and the next save still succeeds
    loaded = store.load(JOB, INSTANCE)
    assert loaded == (None, 1)
    assert store.save(JOB, INSTANCE, baselines(3.0), expected_version=loaded.version) == 2
    assert store.load(JOB, INSTANCE) == (baselines(3.0), 2)
    store.close()


def test_opening_deletes_expired_baselines_and_lapsed_claims_but_not_claimed_targets(tmp_path: Path) -> None:
    # given two targets saved with a 60 s TTL, one of them claimed until well after they expire,
    # and a claim of a third target that lapses
    path, now = tmp_path / "s.db", [T0]
    with SqliteStateStore(path, ttl_seconds=60, clock=lambda: now[0]) as store:
        store.save(JOB, "gone:1", baselines(), expected_version=0)
        store.save(JOB, "held:1", baselines(), expected_version=0)
        store.claim(JOB, "held:1", owner="cycle", until_ms=int((T0 + 600) * 1000), now_ms=int(T0 * 1000))
        store.claim(JOB, "other:1", owner="cycle", until_ms=int((T0 + 10) * 1000), now_ms=int(T0 * 1000))
    # when the file is opened again 2 minutes later
    now[0] += 120
    with SqliteStateStore(path, ttl_seconds=60, clock=lambda: now[0]) as store:
        # then the unclaimed expired target is gone (it starts again at version 0), the claimed
        # one is kept for its claimant to save, and the lapsed claim is gone
        assert store.load(JOB, "gone:1") == (None, 0)
        assert store.save(JOB, "held:1", baselines(), expected_version=store.load(JOB, "held:1").version) == 2
    assert rows(path, "SELECT key FROM claims") == [(target_key(JOB, "held:1"),)]


def test_threads_sharing_a_store_never_lose_an_update(tmp_path: Path) -> None:
    # given 16 threads (as a scrape cycle's workers) incrementing one target through one store,
    # and 16 more each working through a claim, load, save and release of targets of their own
    store = SqliteStateStore(tmp_path / "s.db")
    errors: list[BaseException] = []

    def bump(previous: TargetBaselines | None) -> tuple[None, TargetBaselines]:
        n = previous.counters["n"].value if previous else 0.0
        return None, TargetBaselines(1, {"n": CounterBaseline(n + 1)})

    def shared() -> None:
        try:
            for _ in range(5):
                update_with_retry(store, "j", "shared", bump, attempts=1_000)
        except BaseException as exc:
            errors.append(exc)

    def own(index: int) -> None:
        try:
            for round_ in range(5):
                instance = f"own:{index}"
                assert store.claim("j", instance, owner=f"t{index}", until_ms=10, now_ms=0)
                previous, version = store.load("j", instance)
                store.save("j", instance, bump(previous)[1], expected_version=version)
                store.release("j", instance, owner=f"t{index}")
                assert version == round_
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=shared) for _ in range(16)]
    threads += [threading.Thread(target=own, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then every increment is there exactly once
    assert errors == []
    assert store.load("j", "shared") == (TargetBaselines(1, {"n": CounterBaseline(80.0)}), 80)
    assert all(store.load("j", f"own:{i}") == (TargetBaselines(1, {"n": CounterBaseline(5.0)}), 5) for i in range(16))
    store.close()


def _newer_promwatch(path: Path) -> None:
    SqliteStateStore(path).close()
    execute(path, "PRAGMA user_version = 2")


FOREIGN_FILES = {
    "not-json": (lambda p: p.write_bytes(b"{oops"), "is neither a promwatch state database.*not valid JSON"),
    "text": (lambda p: p.write_text("hello\n"), "is neither a promwatch state database"),
    "json-not-state": (lambda p: p.write_text('{"version": 1}'), 'JSON without a "targets" object'),
    **{f"hostile-json-{i}": (lambda p, c=c: p.write_bytes(c), "is neither a promwatch state database")
       for i, c in enumerate(HOSTILE_JSON)},
    "other-sqlite": (lambda p: execute(p, "CREATE TABLE songs (title TEXT)"), "is a SQLite database but not promwatch's .*tables: songs"),
    "damaged-sqlite": (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000), "is damaged"),
    "newer-layout": (_newer_promwatch, "has layout version 2; this promwatch reads version 1"),
}


@pytest.mark.parametrize("name", sorted(FOREIGN_FILES))
def test_a_file_promwatch_did_not_write_is_refused_and_left_alone(tmp_path: Path, name: str) -> None:
    # given a --state-file that is not a promwatch state database nor an old JSON state file
    write, match = FOREIGN_FILES[name]
    path = tmp_path / "my-file"
    write(path)
    before = path.read_bytes()
    # when opened, then a StateCorruptError names the file and what was expected
    with pytest.raises(StateCorruptError, match=match) as raised:
        SqliteStateStore(path)
    assert f"state file {str(path)!r}" in str(raised.value)
    # and the file is as it was, with nothing made beside it
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-file"]


def test_a_directory_is_refused(tmp_path: Path) -> None:
    # given a directory as the state file, when opened, then it is refused naming the path
    with pytest.raises(StateError, match=f"could not open state file {str(tmp_path)!r}: Is a directory"):
        SqliteStateStore(tmp_path)


def test_a_damaged_row_is_corrupt_state_naming_target_and_file(tmp_path: Path) -> None:
    # given a target whose stored data was overwritten
    path = tmp_path / "s.db"
    with SqliteStateStore(path) as store:
        store.save(JOB, INSTANCE, baselines(), expected_version=0)
        execute(path, "UPDATE baselines SET data = x'00ff'")
        # when loaded, then the error names the target and the file
        with pytest.raises(StateCorruptError, match=r"baselines of 'prod/task-service#10.0.0.1:3000' in state file '.*s\.db'"):
            store.load(JOB, INSTANCE)


def test_sqlite_errors_are_state_errors_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a store whose writes wait at most 50 ms, and another connection holding the write lock
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_SECONDS", 0.05)
    path = tmp_path / "s.db"
    store = SqliteStateStore(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        # when saving, claiming and releasing, then each fails with a StateError naming file and target
        for attempt in (lambda: store.save(JOB, INSTANCE, baselines(), expected_version=0),
                        lambda: store.claim(JOB, INSTANCE, owner="a", until_ms=1, now_ms=0),
                        lambda: store.release(JOB, INSTANCE, owner="a")):
            with pytest.raises(StateError, match=r"in state file '.*s\.db': database is locked \(SQLITE_BUSY\)") as raised:
                attempt()
            assert target_key(JOB, INSTANCE) in str(raised.value)
            assert not isinstance(raised.value, StateConflictError)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # and once the lock is gone, the same store works
    assert store.save(JOB, INSTANCE, baselines(), expected_version=0) == 1
    store.close()


def legacy_state(targets: dict[str, object], claims: dict[str, object] | None = None) -> bytes:
    """A state file as promwatch's JSON store (before the SQLite one) wrote it."""
    return json.dumps({"targets": targets, "claims": claims or {}}, separators=(",", ":")).encode()


def test_an_earlier_json_state_file_is_imported_and_kept_as_a_backup(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # given the JSON state file of an earlier promwatch: two good targets, one it cannot read,
    # a claim, and the lock file its writers used
    path = tmp_path / ".state.json"
    raw = legacy_state(
        {target_key(JOB, INSTANCE): {"version": 7, "baselines": baselines(4.0).to_dict()},
         target_key("a#b", "c"): {"version": 1, "baselines": baselines(1.0).to_dict()},
         target_key(JOB, "bad:1"): {"version": 2, "baselines": {"v": 9}}},
        {target_key(JOB, INSTANCE): {"owner": "old-cycle", "until_ms": 9_999_999_999_999}},
    )
    path.write_bytes(raw)
    os.chmod(path, 0o640)
    path.with_name(".state.json.lock").touch()
    # when opened as a state file
    with caplog.at_level(logging.WARNING, logger="promwatch.state"), SqliteStateStore(path) as store:
        # then the readable targets come back at their versions, and saving carries on from there
        assert store.load(JOB, INSTANCE) == (baselines(4.0), 7)
        assert store.load("a#b", "c") == (baselines(1.0), 1)
        assert store.save(JOB, INSTANCE, baselines(6.0), expected_version=7) == 8
        # the unreadable one starts afresh, and the old claim is gone
        assert store.load(JOB, "bad:1") == (None, 0)
        assert store.claim(JOB, INSTANCE, owner="new-cycle", until_ms=1, now_ms=0)
    # and the JSON file is kept, byte for byte, with its mode; the lock file is gone
    backup = tmp_path / ".state.json.bak"
    assert backup.read_bytes() == raw and path.read_bytes().startswith(b"SQLite format 3\x00")
    assert oct(os.stat(path).st_mode & 0o777) == oct(os.stat(backup).st_mode & 0o777) == "0o640"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".state.json", ".state.json.bak"]
    # and the log says what happened, naming the target left out
    messages = [r.getMessage() for r in caplog.records]
    assert any("imported the baselines of 2 targets" in m and str(backup) in m for m in messages), messages
    assert any("'prod/task-service#bad:1' was left out" in m and 'expected an object with "v": 1' in m for m in messages)


def test_the_import_never_overwrites_a_backup(tmp_path: Path) -> None:
    # given a JSON state file and a file already at its backup's name
    path = tmp_path / "state.json"
    path.write_bytes(legacy_state({target_key(JOB, INSTANCE): {"version": 1, "baselines": baselines().to_dict()}}))
    (tmp_path / "state.json.bak").write_text("mine")
    # when opened, then the backup goes to the next free name
    SqliteStateStore(path).close()
    assert (tmp_path / "state.json.bak").read_text() == "mine"
    assert json.loads((tmp_path / "state.json.bak.1").read_bytes())["targets"]
    # and opening again finds the database: nothing more is imported or backed up
    with SqliteStateStore(path) as store:
        assert store.load(JOB, INSTANCE) == (baselines(), 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.bak", "state.json.bak.1"]
