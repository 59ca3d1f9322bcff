"""Baselines serialization, the file store (across processes) and the memory store."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from promwatch.emf import EmfSettings, TargetInfo, translate
from promwatch.exposition.model import Family, Sample
from promwatch.state import (
    CounterBaseline,
    FileStateStore,
    HistogramBaseline,
    MemoryStateStore,
    StateConflictError,
    StateCorruptError,
    TargetBaselines,
    series_key,
    update_with_retry,
)

JOB, INSTANCE = "prod/task-service", "10.0.0.1:3000"


def sample_baselines(value: float = 1.0) -> TargetBaselines:
    return TargetBaselines(
        1_700_000_000_000,
        {'a_total{x="1"}': CounterBaseline(value, 1.7e9), "b_total": CounterBaseline(2.0, None, 1_699_999_000_000)},
        {"h": HistogramBaseline((0.1, 1.0), (1.0, 2.0, 3.0), 0.5, 3.0, None, None)},
    )


def test_json_round_trip_is_compact_and_exact() -> None:
    baselines = sample_baselines()
    text = baselines.to_json()
    assert TargetBaselines.from_json(text) == baselines
    # trailing nulls are left out and +Inf is implicit (the last bucket)
    assert json.loads(text)["c"]["a_total{x=\"1\"}"] == [1.0, 1.7e9]
    assert json.loads(text)["h"]["h"] == [[0.1, 1.0], [1.0, 2.0, 3.0], 0.5, 3.0]


@pytest.mark.parametrize("text, match", [
    ("not json", "not valid JSON"),
    ('{"v": 9}', "format 9"),
    ('{"v": 1, "t": 1, "c": {"k": []}}', "malformed"),
    ('{"v": 1, "t": 1, "h": {"k": [[1.0], [1.0], 0, 0]}}', "one more bucket"),
])
def test_corrupt_baselines_are_reported(text: str, match: str) -> None:
    with pytest.raises(StateCorruptError, match=match):
        TargetBaselines.from_json(text)


def test_series_key_is_canonical() -> None:
    assert series_key("m", {"b": "2", "a": "1"}) == 'm{a="1",b="2"}' and series_key("m", {}) == "m"


def test_memory_store_versions_and_conflicts() -> None:
    store = MemoryStateStore()
    assert store.load(JOB, INSTANCE) == (None, 0)
    assert store.save(JOB, INSTANCE, sample_baselines(), expected_version=0) == 1
    with pytest.raises(StateConflictError, match="version 1; expected 0"):
        store.save(JOB, INSTANCE, sample_baselines(), expected_version=0)
    assert store.load(JOB, INSTANCE) == (sample_baselines(), 1)


def test_file_store_round_trip_and_conflict(tmp_path: Path) -> None:
    # given a state file shared by two store objects (as two CLI runs would)
    path = tmp_path / "state" / "baselines.json"
    one, two = FileStateStore(path), FileStateStore(path)
    one.save(JOB, INSTANCE, sample_baselines(), expected_version=0)
    # when the other saves from a stale version
    loaded = two.load(JOB, INSTANCE)
    one.save(JOB, INSTANCE, sample_baselines(5.0), expected_version=loaded.version)
    # then it loses the race, and the file holds the winner
    with pytest.raises(StateConflictError):
        two.save(JOB, INSTANCE, sample_baselines(9.0), expected_version=loaded.version)
    assert two.load(JOB, INSTANCE) == (sample_baselines(5.0), 2)
    assert not list(path.parent.glob("*.tmp"))


def test_corrupt_state_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{oops")
    with pytest.raises(StateCorruptError, match=r"s\.json"):
        FileStateStore(path).load(JOB, INSTANCE)


@pytest.mark.parametrize(
    "content",
    [b"[" * 100_000, b'{"targets": ' + b"9" * 5000 + b"}", b'{"targets": {"\xff": 1}}'],
    ids=["deep", "huge-int", "not-utf8"],
)
def test_hostile_state_files_are_corrupt_not_crashes(tmp_path: Path, content: bytes) -> None:
    # Given a state file that made json raise RecursionError / ValueError / UnicodeDecodeError,
    # When loaded, Then it is reported as a corrupt state file naming it.
    path = tmp_path / "s.json"
    path.write_bytes(content)
    with pytest.raises(StateCorruptError, match=r"s\.json' is not valid JSON"):
        FileStateStore(path).load(JOB, INSTANCE)
    with pytest.raises(StateCorruptError, match="baselines are not valid JSON"):
        TargetBaselines.from_json(content)


def test_update_with_retry_stores_nothing_when_told_so() -> None:
    # given a target down on its first scrape (translate returns baselines None)
    store = MemoryStateStore()
    result = update_with_retry(store, JOB, INSTANCE, lambda prev: ("done", None))
    # then nothing is stored
    assert result == "done" and store.load(JOB, INSTANCE) == (None, 0)


def test_update_with_retry_gives_up_after_its_attempts() -> None:
    # given a store where someone always saves in between
    store = MemoryStateStore()

    def compute(previous: TargetBaselines | None) -> tuple[None, TargetBaselines]:
        version = store.load(JOB, INSTANCE).version
        store.save(JOB, INSTANCE, sample_baselines(), expected_version=version)
        return None, sample_baselines()

    with pytest.raises(StateConflictError):
        update_with_retry(store, JOB, INSTANCE, compute, attempts=2)


def test_memory_store_feeds_translate() -> None:
    # given two scrapes through a store
    store = MemoryStateStore()
    target, settings = TargetInfo(JOB, INSTANCE), EmfSettings()

    def scrape(value: float, now: int) -> list[dict[str, object]]:
        page = [Family("c", "counter", "", "", [Sample("c_total", {}, value)])]
        return update_with_retry(store, JOB, INSTANCE, lambda prev: (t := translate(
            page, target=target, previous=prev, settings=settings, now_ms=now), t.baselines)).documents

    assert scrape(3.0, 1) == []
    assert scrape(7.0, 2)[0]["c_total"] == 4
