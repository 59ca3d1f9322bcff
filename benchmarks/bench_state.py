"""The local state store's cost per target: SqliteStateStore vs the JSON file store it replaced.

A warm scrape cycle, for each target: claim -> load -> (translate) -> save -> release. The
state file already holds N targets (100, 1,000, 5,000) whose baselines are those of a real
node_exporter page (``benchmarks/data/node_exporter.prom`` through parse and translate: 507
samples, 145 cumulative series, 8 KB of JSON, about 1 KB compressed; each target's counter
values differ). Each store runs the four calls on a sample of its targets, one after another
(CPU time counts every thread alike, so one thread tells the cost), and the rows give the CPU
seconds this costs per 1,000 targets, split into load+save and claim+release, with the wall
time (it adds the fsyncs) and the size of the file.

Subjects:

* ``SqliteStateStore``: every target (a sample is as good: the cost does not depend on N).
* the previous store (``--state-file`` until this one): one JSON file read whole for every
  call and rewritten whole (fsync, atomic rename) for every save, claim and release, kept
  below as it was (``_PreviousJsonFileStore``). Its cost per target grows with N, so only a
  few targets are sampled at the larger sizes; the file is written in one go beforehand, as
  a run of it would take hours at 5,000 targets.
* floor: ``MemoryStateStore`` (baselines serialized to JSON in a dict): the cost of the
  baselines' serialization alone, without a file.
"""
from __future__ import annotations

import fcntl
import gc
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from promwatch.safeload import DocumentError, load_json
from promwatch.state import (
    CounterBaseline,
    Loaded,
    MemoryStateStore,
    StateConflictError,
    StateCorruptError,
    StateStore,
    TargetBaselines,
    target_key,
)
from promwatch_tools.statefile import SqliteStateStore

DATA = Path(__file__).resolve().parent / "data"
JOB = "node"
T0 = 1_800_000_000_000


class _PreviousJsonFileStore:
    """The previous ``--state-file`` store (promwatch.state.file.FileStateStore before the SQLite
    store replaced it), as it was apart from docstrings: the peer of this benchmark only."""

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
            raise StateCorruptError(f"state file {str(self.path)!r} is not valid JSON ({exc})") from exc
        targets = data.get("targets") if isinstance(data, dict) else None
        if not isinstance(targets, dict) or not isinstance(data.get("claims", {}), dict):
            raise StateCorruptError(f"state file {str(self.path)!r} has no \"targets\" object")
        return {"targets": targets, "claims": data.get("claims", {})}

    def load(self, job: str, instance: str) -> Loaded:
        with self._locked(exclusive=False):
            record = self._read().get(target_key(job, instance))
        if record is None:
            return Loaded(None, 0)
        return Loaded(TargetBaselines.from_dict(record.get("baselines")), int(record.get("version", 0)))

    def save(self, job: str, instance: str, baselines: TargetBaselines, *, expected_version: int) -> int:
        key = target_key(job, instance)
        with self._locked(exclusive=True):
            data = self._read_all()
            targets = data.setdefault("targets", {})
            current = int(targets.get(key, {}).get("version", 0))
            if current != expected_version:
                raise StateConflictError(f"baselines of {key!r} are at version {current}; expected {expected_version}")
            targets[key] = {"version": current + 1, "baselines": baselines.to_dict()}
            self._replace(data)
        return current + 1

    def claim(self, job: str, instance: str, *, owner: str, until_ms: int, now_ms: int) -> bool:
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


def node_exporter_baselines() -> TargetBaselines:
    """The baselines a scrape of the saved node_exporter page leaves."""
    from promwatch.emf import EmfSettings, TargetInfo, translate
    from promwatch.exposition import parse

    text = (DATA / "node_exporter.prom").read_text()
    baselines = translate(parse(text), target=TargetInfo(JOB, "host:9100"), previous=None,
                          settings=EmfSettings(), now_ms=T0).baselines
    assert baselines is not None
    return baselines


def _of_target(template: TargetBaselines, index: int, scraped_at_ms: int) -> TargetBaselines:
    """``template`` with counter values of their own (hosts differ), as compressible as real ones."""
    counters = {k: CounterBaseline(b.value + index * 17.0, *b[1:]) for k, b in template.counters.items()}
    return TargetBaselines(scraped_at_ms, counters, dict(template.histograms))


def _instance(index: int) -> str:
    return f"10.0.{index // 250}.{index % 250}:9100"


def _prefill(store: StateStore, template: TargetBaselines, targets: int) -> None:
    """Give the store ``targets`` targets at version 1 (the previous store's file in one write)."""
    if isinstance(store, _PreviousJsonFileStore):
        records = {target_key(JOB, _instance(i)): {"version": 1, "baselines": _of_target(template, i, T0).to_dict()}
                   for i in range(targets)}
        store._replace({"targets": records, "claims": {}})
        return
    for i in range(targets):
        store.save(JOB, _instance(i), _of_target(template, i, T0), expected_version=0)


def _warm_cycle(store: StateStore, template: TargetBaselines, sample: list[int]) -> dict[str, float]:
    """CPU (and wall) seconds of claim+release and load+save over the targets of ``sample``."""
    now_ms = T0 + 60_000
    cpu = {"claim+release": 0.0, "load+save": 0.0}
    wall = 0.0
    following = {i: _of_target(template, i + 1, now_ms) for i in sample}
    gc.collect()
    for i in sample:
        instance = _instance(i)
        wall_started, started = time.perf_counter(), time.process_time()
        assert store.claim(JOB, instance, owner="bench", until_ms=now_ms + 60_000, now_ms=now_ms)
        claimed = time.process_time()
        loaded = store.load(JOB, instance)
        assert loaded.baselines is not None
        store.save(JOB, instance, following[i], expected_version=loaded.version)
        saved = time.process_time()
        store.release(JOB, instance, owner="bench")
        released = time.process_time()
        wall += time.perf_counter() - wall_started
        cpu["claim+release"] += (claimed - started) + (released - saved)
        cpu["load+save"] += saved - claimed
    return {**cpu, "wall": wall}


def _sample_size(subject: str, targets: int, quick: bool) -> int:
    if subject != "previous":
        return targets
    # about 25 s of the previous store's time per size (each of its calls reads and writes all N)
    return max(3, min(targets, (2_000 if quick else 20_000) // targets))


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Each store at 100, 1,000 and 5,000 targets (``quick``: 100 and 1,000, fewer samples)."""
    template = node_exporter_baselines()
    sizes = (100, 1_000) if quick else (100, 1_000, 5_000)
    rows: list[dict[str, Any]] = []
    for targets in sizes:
        per_1k: dict[str, float] = {}
        for subject in ("sqlite", "previous", "memory"):
            with tempfile.TemporaryDirectory(prefix="bench-state-") as tmp:
                path = Path(tmp, "state")
                store: Any = (SqliteStateStore(path) if subject == "sqlite" else _PreviousJsonFileStore(path)
                              if subject == "previous" else MemoryStateStore())
                _prefill(store, template, targets)
                if subject == "sqlite":
                    store.close()
                    store = SqliteStateStore(path)  # a new run opens the file
                size = _sample_size(subject, targets, quick)
                sample = list(range(0, targets, targets // size))[:size]
                measured = _warm_cycle(store, template, sample)
                if subject == "sqlite":
                    store.close()
                file_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
            scale = 1_000 / len(sample)
            total = (measured["load+save"] + measured["claim+release"]) * scale
            per_1k[subject] = total
            rows.append({
                "benchmark": "state store: warm cycle, per 1,000 targets",
                "subject": {"sqlite": "SqliteStateStore", "previous": "previous JSON file store",
                            "memory": "floor: MemoryStateStore"}[subject],
                "targets": targets,
                "sampled": len(sample),
                "load+save CPU s": round(measured["load+save"] * scale, 3),
                "claim+release CPU s": round(measured["claim+release"] * scale, 3),
                "CPU s": round(total, 3),
                "wall s": round(measured["wall"] * scale, 3),
                "file MB": round(file_mb, 1) if subject != "memory" else "",
            })
        for row in rows[-3:]:
            row["x previous"] = round(per_1k["previous"] / row["CPU s"], 1) if row["CPU s"] else ""
    return rows


if __name__ == "__main__":
    import sys

    for row in run(quick="--quick" in sys.argv):
        print(row)
