"""FileStateStore (``--state-file``) shared by separate processes: increases stay right, no update is lost."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from promwatch.state import FileStateStore

_CHILD = """
import sys
from promwatch.emf import EmfSettings, TargetInfo, translate
from promwatch.exposition.model import Family, Sample
from promwatch.state import FileStateStore, update_with_retry
path, value, now = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
page = [Family("jobs", "counter", "", "", [Sample("jobs_total", {}, value)])]
result = update_with_retry(FileStateStore(path), "j", "i", lambda prev: (t := translate(
    page, target=TargetInfo("j", "i"), previous=prev, settings=EmfSettings(), now_ms=now), t.baselines))
print(sum(d.get("jobs_total", 0) for d in result.documents))
"""


def test_counter_increase_is_right_across_separate_processes(tmp_path: Path) -> None:
    # given a counter scraped by three separate processes sharing --state-file
    path = str(tmp_path / "state.json")
    outputs = [
        subprocess.run(
            [sys.executable, "-c", _CHILD, path, str(value), str(1_700_000_000_000 + i * 60_000)],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        for i, value in enumerate([100.0, 130.0, 5.0])
    ]
    # then the first only records, the second sees +30, the third (after a restart) +5
    assert outputs == ["0", "30", "5"]


def test_concurrent_processes_never_lose_an_update(tmp_path: Path) -> None:
    # given 6 processes saving the same target at once through update_with_retry
    path = str(tmp_path / "state.json")
    script = """
import sys
from promwatch.state import FileStateStore, TargetBaselines, CounterBaseline, update_with_retry
def bump(prev):
    n = prev.counters["n"].value if prev else 0.0
    return None, TargetBaselines(1, {"n": CounterBaseline(n + 1)})
update_with_retry(FileStateStore(sys.argv[1]), "j", "i", bump, attempts=50)
"""
    procs = [subprocess.Popen([sys.executable, "-c", script, path]) for _ in range(6)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 6
    # then every increment is there exactly once
    loaded = FileStateStore(path).load("j", "i")
    assert loaded.baselines is not None and loaded.baselines.counters["n"].value == 6 and loaded.version == 6
