"""SqliteStateStore (``--state-file``) shared by separate processes: increases stay right, no
update is lost, an earlier promwatch's JSON state file is imported once, claims hold across processes.

Each child is a fresh interpreter, as each ``promwatch scrape`` run is.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from promwatch.state import CounterBaseline, TargetBaselines, target_key
from promwatch_tools.statefile import SqliteStateStore

_SCRAPE = """
import sys
from promwatch.emf import EmfSettings, TargetInfo, translate
from promwatch.exposition.model import Family, Sample
from promwatch.state import update_with_retry
from promwatch_tools.statefile import SqliteStateStore
path, value, now = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
page = [Family("jobs", "counter", "", "", [Sample("jobs_total", {}, value)])]
with SqliteStateStore(path) as store:
    result = update_with_retry(store, "j", "i", lambda prev: (t := translate(
        page, target=TargetInfo("j", "i"), previous=prev, settings=EmfSettings(), now_ms=now), t.baselines))
print(sum(d.get("jobs_total", 0) for d in result.documents))
"""

_BUMP = """
import sys, threading
from promwatch.state import CounterBaseline, TargetBaselines, update_with_retry
from promwatch_tools.statefile import SqliteStateStore
def bump(prev):
    n = prev.counters["n"].value if prev else 0.0
    return None, TargetBaselines(1, {"n": CounterBaseline(n + 1)})
path, threads, times = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with SqliteStateStore(path) as store:
    def work():
        for _ in range(times):
            update_with_retry(store, "j", "i", bump, attempts=10_000)
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers: w.start()
    for w in workers: w.join()
"""


def _children(script: str, *args: str, count: int) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", script, *args]) for _ in range(count)]
    assert [p.wait(timeout=240) for p in procs] == [0] * count


def test_counter_increase_is_right_across_separate_processes(tmp_path: Path) -> None:
    # given a counter scraped by three separate processes sharing --state-file
    path = str(tmp_path / "state.db")
    outputs = [
        subprocess.run(
            [sys.executable, "-c", _SCRAPE, path, str(value), str(1_700_000_000_000 + i * 60_000)],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        for i, value in enumerate([100.0, 130.0, 5.0])
    ]
    # then the first only records, the second sees +30, the third (after a restart) +5
    assert outputs == ["0", "30", "5"]


def test_concurrent_processes_and_threads_never_lose_an_update(tmp_path: Path) -> None:
    # given 6 processes of 4 threads each, creating one new file at once and incrementing one
    # target 5 times per thread through update_with_retry
    path = tmp_path / "new" / "state.db"
    _children(_BUMP, str(path), "4", "5", count=6)
    # then every increment is there exactly once
    with SqliteStateStore(path) as store:
        assert store.load("j", "i") == (TargetBaselines(1, {"n": CounterBaseline(120.0)}), 120)


def test_processes_opening_a_json_state_file_at_once_import_it_once(tmp_path: Path) -> None:
    # given the JSON state file of an earlier promwatch, at n=100 (version 3)
    path = tmp_path / "state.json"
    raw = json.dumps({"targets": {target_key("j", "i"): {
        "version": 3, "baselines": TargetBaselines(1, {"n": CounterBaseline(100.0)}).to_dict()}}, "claims": {}})
    path.write_text(raw)
    # when 6 processes open it at once and each increments the target twice
    _children(_BUMP, str(path), "2", "1", count=6)
    # then one of them imported it (one backup, the original bytes) and no increment was lost
    # (SQLite's -wal/-shm companions may outlive the processes: the last to close removes them
    # only when it can take the lock, which a busy machine can deny)
    files = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm")))
    assert files == ["state.json", "state.json.bak"]
    assert (tmp_path / "state.json.bak").read_text() == raw
    with SqliteStateStore(path) as store:
        assert store.load("j", "i") == (TargetBaselines(1, {"n": CounterBaseline(112.0)}), 15)


def test_a_claim_outlives_the_process_that_took_it_until_it_lapses(tmp_path: Path) -> None:
    # given a process that claimed a target for the next 10 minutes and exited without releasing it
    # (both processes' stores on the test's clock: opening a store drops the claims lapsed by then)
    path = str(tmp_path / "state.db")
    now_ms = 1_700_000_000_000
    until_ms = now_ms + 600_000
    subprocess.run([sys.executable, "-c", (
        "import sys\nfrom promwatch_tools.statefile import SqliteStateStore\n"
        f"with SqliteStateStore(sys.argv[1], clock=lambda: {now_ms / 1000}) as s:\n"
        f"    assert s.claim('j', 'i', owner='gone', until_ms={until_ms}, now_ms={now_ms})\n"), path], check=True)
    # then another process cannot take it before it lapses, and can after
    with SqliteStateStore(path, clock=lambda: now_ms / 1000) as store:
        assert not store.claim("j", "i", owner="next", until_ms=until_ms + 60_000, now_ms=until_ms)
        assert store.claim("j", "i", owner="next", until_ms=until_ms + 60_000, now_ms=until_ms + 1)
