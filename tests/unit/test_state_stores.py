"""Baselines serialization, and the StateStore contract every local store keeps (memory, SQLite).

The SQLite store's own matters (its file, expiry, threads, the JSON import): test_state_sqlite.py."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from promwatch.emf import EmfSettings, TargetInfo, translate
from promwatch.exposition.model import Family, Sample
from promwatch.state import (
    CounterBaseline,
    HistogramBaseline,
    MemoryStateStore,
    StateConflictError,
    StateCorruptError,
    StateStore,
    TargetBaselines,
    series_key,
    update_with_retry,
)
from promwatch_tools.statefile import SqliteStateStore

JOB, INSTANCE = "prod/task-service", "10.0.0.1:3000"


def sample_baselines(value: float = 1.0) -> TargetBaselines:
    return TargetBaselines(
        1_700_000_000_000,
        {'a_total{x="1"}': CounterBaseline(value, 1.7e9), "b_total": CounterBaseline(2.0, None, 1_699_999_000_000)},
        {"h": HistogramBaseline((0.1, 1.0), (1.0, 2.0, 3.0), 0.5, 3.0, None, None)},
    )


def test_json_round_trip_is_compact_and_exact() -> None:
    # given target baselines with a counter and a histogram
    baselines = sample_baselines()
    # when written as JSON and read back
    text = baselines.to_json()
    # then they are equal
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
    # given baselines text that is not JSON, of another format, or malformed, when read, then it is reported corrupt
    with pytest.raises(StateCorruptError, match=match):
        TargetBaselines.from_json(text)


HOSTILE_JSON = [b"[" * 100_000, b'{"targets": ' + b"9" * 5000 + b"}", b'{"targets": {"\xff": 1}}']
"""Documents that made json raise RecursionError / ValueError / UnicodeDecodeError."""


@pytest.mark.parametrize("content", HOSTILE_JSON, ids=["deep", "huge-int", "not-utf8"])
def test_hostile_baselines_are_corrupt_not_crashes(content: bytes) -> None:
    # given hostile JSON (deeply nested, a huge integer, not UTF-8), when read, then it is corrupt and does not crash
    with pytest.raises(StateCorruptError, match="baselines are not valid JSON"):
        TargetBaselines.from_json(content)


def test_series_key_is_canonical() -> None:
    # given labels in any order, when made into a series key, then it is sorted, and without labels it is the name
    assert series_key("m", {"b": "2", "a": "1"}) == 'm{a="1",b="2"}' and series_key("m", {}) == "m"


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """Each store that must keep the StateStore contract (DynamoDB's: tests/integration)."""
    if request.param == "memory":
        yield MemoryStateStore()
    else:
        with SqliteStateStore(tmp_path / "state" / "baselines.db") as sqlite_store:
            yield sqlite_store


def test_versions_and_conflicts(store: StateStore) -> None:
    # given nothing stored
    assert store.load(JOB, INSTANCE) == (None, 0)
    # when saved from version 0, then it is at version 1
    assert store.save(JOB, INSTANCE, sample_baselines(), expected_version=0) == 1
    # and a second create loses, naming both versions
    with pytest.raises(StateConflictError, match="version 1; expected 0"):
        store.save(JOB, INSTANCE, sample_baselines(9.0), expected_version=0)
    # when saved from version 1, then 2; a stale save from 1 loses and changes nothing
    assert store.save(JOB, INSTANCE, sample_baselines(5.0), expected_version=1) == 2
    with pytest.raises(StateConflictError, match="version 2; expected 1"):
        store.save(JOB, INSTANCE, sample_baselines(9.0), expected_version=1)
    assert store.load(JOB, INSTANCE) == (sample_baselines(5.0), 2)


def test_targets_are_kept_apart(store: StateStore) -> None:
    # given two targets whose job and instance joined with "#" would read alike
    store.save("a#b", "c", sample_baselines(1.0), expected_version=0)
    store.save("a", "b#c", sample_baselines(2.0), expected_version=0)
    # then each has its own record
    assert store.load("a#b", "c") == (sample_baselines(1.0), 1)
    assert store.load("a", "b#c") == (sample_baselines(2.0), 1)
    assert store.load("a", "b") == (None, 0)


def test_loaded_baselines_are_not_the_stored_ones(store: StateStore) -> None:
    # given stored baselines, loaded and then changed by the caller
    store.save(JOB, INSTANCE, sample_baselines(), expected_version=0)
    loaded = store.load(JOB, INSTANCE).baselines
    assert loaded is not None
    loaded.counters.clear()
    # then what is stored is unchanged
    assert store.load(JOB, INSTANCE) == (sample_baselines(), 1)


def test_claims_exclude_other_owners_until_they_lapse(store: StateStore) -> None:
    # given a target claimed by "a" until t=100
    assert store.claim(JOB, INSTANCE, owner="a", until_ms=100, now_ms=50)
    # then "b" cannot take it before it lapses (t=100 included)
    assert not store.claim(JOB, INSTANCE, owner="b", until_ms=200, now_ms=60)
    assert not store.claim(JOB, INSTANCE, owner="b", until_ms=200, now_ms=100)
    # and "a" may claim again, extending its claim to t=300
    assert store.claim(JOB, INSTANCE, owner="a", until_ms=300, now_ms=70)
    assert not store.claim(JOB, INSTANCE, owner="b", until_ms=400, now_ms=250)
    # when it lapses, then "b" takes it, and "a" no longer can
    assert store.claim(JOB, INSTANCE, owner="b", until_ms=500, now_ms=301)
    assert not store.claim(JOB, INSTANCE, owner="a", until_ms=600, now_ms=302)
    # and another target is free all along
    assert store.claim(JOB, "other:1", owner="a", until_ms=600, now_ms=302)


def test_release_gives_back_only_the_owners_claim(store: StateStore) -> None:
    # given a claim of "a"
    store.claim(JOB, INSTANCE, owner="a", until_ms=1_000, now_ms=0)
    # when "b" releases, then nothing happens
    store.release(JOB, INSTANCE, owner="b")
    assert not store.claim(JOB, INSTANCE, owner="b", until_ms=1_000, now_ms=1)
    # when "a" releases, then "b" can claim at once; releasing what nobody holds is fine
    store.release(JOB, INSTANCE, owner="a")
    assert store.claim(JOB, INSTANCE, owner="b", until_ms=1_000, now_ms=2)
    store.release(JOB, "nobody:1", owner="a")


def test_update_with_retry_recomputes_after_a_conflict(store: StateStore) -> None:
    # given a computation that another writer overtakes once
    store.save(JOB, INSTANCE, sample_baselines(1.0), expected_version=0)
    seen: list[float] = []

    def compute(previous: TargetBaselines | None) -> tuple[int, TargetBaselines]:
        assert previous is not None
        seen.append(previous.counters['a_total{x="1"}'].value)
        if len(seen) == 1:
            store.save(JOB, INSTANCE, sample_baselines(2.0), expected_version=1)
        return len(seen), sample_baselines(seen[-1] + 10)

    # when updated with retries, then the second attempt saw the other writer's baselines and won
    assert update_with_retry(store, JOB, INSTANCE, compute) == 2
    assert seen == [1.0, 2.0] and store.load(JOB, INSTANCE) == (sample_baselines(12.0), 3)


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
