"""DynamoDBStateStore against a moto server: round trip, optimistic concurrency, TTL, big targets.

The table is created as template.yaml's StateTable declares it: ``pk`` string hash key,
on-demand, TTL on ``expires_at``.
"""
from __future__ import annotations

import random
import string

import boto3
import pytest
from promwatch.emf import EmfSettings, TargetInfo, translate
from promwatch.exposition.model import Family, Sample
from promwatch.state import (
    CounterBaseline,
    DynamoDBStateStore,
    HistogramBaseline,
    StateConflictError,
    StateTooLargeError,
    TargetBaselines,
    update_with_retry,
)
from promwatch.state.dynamodb import MAX_PARTS, PART_BYTES

TABLE = "promwatch-state"
JOB, INSTANCE = "prod/task-service", "10.0.0.7:3000"



def _baselines(n: int = 3, t: int = 1_700_000_000_000) -> TargetBaselines:
    return TargetBaselines(
        t,
        {f'http_requests_total{{route="/r{i}"}}': CounterBaseline(float(i), 1.7e9) for i in range(n)},
        {'lat{route="/"}': HistogramBaseline((0.1, 1.0), (1.0, 2.0, 3.0), 4.5, 3.0)},
    )


def test_round_trip_and_versions(table: str) -> None:
    # given an empty table
    store = DynamoDBStateStore(table)
    # when a target's baselines are saved twice, each time from the loaded version
    assert store.load(JOB, INSTANCE).version == 0
    assert store.save(JOB, INSTANCE, _baselines(), expected_version=0) == 1
    loaded = store.load(JOB, INSTANCE)
    assert store.save(JOB, INSTANCE, _baselines(5), expected_version=loaded.version) == 2
    # then the latest baselines come back with their version, one item per target with a TTL
    again = store.load(JOB, INSTANCE)
    assert again.version == 2 and again.baselines == _baselines(5)
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": f"{JOB}#{INSTANCE}"}})["Item"]
    assert int(item["expires_at"]["N"]) > int(item["scraped_at"]["N"]) // 1000
    assert item["series"]["N"] == "6" and item["parts"]["N"] == "1"


def test_lost_race_raises_conflict(table: str) -> None:
    # given two invocations that loaded the same version
    store = DynamoDBStateStore(table)
    store.save(JOB, INSTANCE, _baselines(), expected_version=0)
    # when both save from version 1
    store.save(JOB, INSTANCE, _baselines(4), expected_version=1)
    # then the second loses
    with pytest.raises(StateConflictError, match="version 1"):
        store.save(JOB, INSTANCE, _baselines(7), expected_version=1)
    # and creating an item that exists loses too
    with pytest.raises(StateConflictError):
        store.save(JOB, INSTANCE, _baselines(7), expected_version=0)
    assert store.load(JOB, INSTANCE).baselines == _baselines(4)


def test_update_with_retry_recomputes_after_a_conflict(table: str) -> None:
    # given a computation that another writer overtakes once
    store = DynamoDBStateStore(table)
    store.save(JOB, INSTANCE, _baselines(1), expected_version=0)
    seen: list[int] = []

    def compute(previous: TargetBaselines | None) -> tuple[int, TargetBaselines]:
        assert previous is not None
        seen.append(len(previous.counters))
        if len(seen) == 1:
            DynamoDBStateStore(table).save(JOB, INSTANCE, _baselines(2), expected_version=1)
        return len(seen), _baselines(len(previous.counters) + 10)

    # when updated with retries
    result = update_with_retry(store, JOB, INSTANCE, compute)
    # then the second attempt saw the other writer's baselines and won
    assert seen == [1, 2] and result == 2
    assert store.load(JOB, INSTANCE).baselines == _baselines(12)


def test_expired_item_reads_as_absent_but_keeps_its_version(table: str) -> None:
    # given baselines saved with a 60 s TTL, read 2 minutes later (before DynamoDB deletes them)
    now = [1_800_000_000.0]
    store = DynamoDBStateStore(table, ttl_seconds=60, clock=lambda: now[0])
    store.save(JOB, INSTANCE, _baselines(), expected_version=0)
    now[0] += 120
    # when loaded
    loaded = store.load(JOB, INSTANCE)
    # then they count as absent (a first scrape) and the next save still succeeds
    assert loaded == (None, 1)
    assert store.save(JOB, INSTANCE, _baselines(), expected_version=loaded.version) == 2


def _random_baselines(n: int) -> TargetBaselines:
    rng = random.Random(7)
    counters = {
        "".join(rng.choices(string.ascii_letters, k=40)): CounterBaseline(rng.random()) for _ in range(n)
    }
    return TargetBaselines(1, counters)


def test_large_target_is_split_over_items_and_read_back(table: str) -> None:
    # given baselines whose compressed form exceeds one item (random keys barely compress)
    big = _random_baselines(20_000)
    store = DynamoDBStateStore(table)
    # when saved and loaded
    store.save(JOB, INSTANCE, big, expected_version=0)
    loaded = store.load(JOB, INSTANCE)
    # then they span several items, each under 400 KB, and come back whole
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": f"{JOB}#{INSTANCE}"}})["Item"]
    assert int(item["parts"]["N"]) > 1
    assert len(item["data"]["B"]) <= PART_BYTES
    assert loaded.baselines == big
    # and a later smaller save is read without the stale parts
    store.save(JOB, INSTANCE, _baselines(), expected_version=1)
    assert store.load(JOB, INSTANCE).baselines == _baselines()


def test_too_large_target_is_reported_clearly(table: str) -> None:
    # given baselines larger than a transaction can write, even compressed
    huge = _random_baselines(int(MAX_PARTS * PART_BYTES / 30))
    # when saved, then the error names the target and the size
    with pytest.raises(StateTooLargeError, match=r"prod/task-service#10\.0\.0\.7:3000.*bytes compressed"):
        DynamoDBStateStore(table).save(JOB, INSTANCE, huge, expected_version=0)


def test_counter_baseline_survives_a_cold_start(table: str) -> None:
    # given a first scrape in one "execution environment" storing its baselines in DynamoDB
    target = TargetInfo(JOB, INSTANCE)
    settings = EmfSettings()

    def page(value: float) -> list[Family]:
        return [Family("requests", "counter", "", "", [Sample("requests_total", {"route": "/"}, value)])]

    first = DynamoDBStateStore(table)
    update_with_retry(first, JOB, INSTANCE, lambda prev: (None, translate(
        page(100.0), target=target, previous=prev, settings=settings, now_ms=1_700_000_000_000).baselines))
    # when a new environment (new client, new store) scrapes again
    second = DynamoDBStateStore(table, client=boto3.client("dynamodb"))
    result = update_with_retry(second, JOB, INSTANCE, lambda prev: (t := translate(
        page(130.0), target=target, previous=prev, settings=settings, now_ms=1_700_000_060_000), t.baselines))
    # then the increase is relative to the first scrape's value
    assert result.documents[0]["requests_total"] == 30


def test_a_warm_store_reuses_what_it_saved_until_someone_else_saves(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a store that saved a big target's baselines (split over parts), and another
    # store (another execution environment) on the same table
    mine, theirs = DynamoDBStateStore(table), DynamoDBStateStore(table)
    saved = _random_baselines(20_000)
    mine.save(JOB, INSTANCE, saved, expected_version=0)
    decoded: list[str] = []
    from promwatch.state import dynamodb

    original_decode = dynamodb.decompress_baselines
    monkeypatch.setattr(dynamodb, "decompress_baselines",
                        lambda blob, what: decoded.append(what) or original_decode(blob, what))
    # when the first store loads it: the very baselines it saved come back, not decoded again
    loaded = mine.load(JOB, INSTANCE)
    assert loaded.version == 1 and loaded.baselines is saved and decoded == []
    # when the other store saves newer baselines, the first one reads and decodes them
    newer = _baselines(7, t=1_700_000_060_000)
    theirs.save(JOB, INSTANCE, newer, expected_version=theirs.load(JOB, INSTANCE).version)
    reloaded = mine.load(JOB, INSTANCE)
    assert reloaded.version == 2 and reloaded.baselines == newer and len(decoded) == 2  # theirs' load, mine's
    # and then it keeps those: loading again decodes nothing more
    assert mine.load(JOB, INSTANCE).baselines is reloaded.baselines and len(decoded) == 2


def test_a_record_recreated_at_the_same_version_is_read_again(table: str) -> None:
    # given a store that saved version 1, then the item was deleted (its TTL) and another
    # environment created it again at version 1 from a later scrape
    mine, theirs = DynamoDBStateStore(table), DynamoDBStateStore(table)
    mine.save(JOB, INSTANCE, _baselines(3), expected_version=0)
    boto3.client("dynamodb").delete_item(TableName=table, Key={"pk": {"S": f"{JOB}#{INSTANCE}"}})
    later = _baselines(4, t=1_700_000_120_000)
    theirs.save(JOB, INSTANCE, later, expected_version=0)
    # when the first store loads
    loaded = mine.load(JOB, INSTANCE)
    # then it gets the new record's baselines, not the ones it remembered at version 1
    assert loaded.version == 1 and loaded.baselines == later


def test_start_times_of_otlp_series_round_trip_beside_the_baselines(table: str) -> None:
    from promwatch.state import StartTime

    # given baselines carrying OTLP start times
    store = DynamoDBStateStore(table)
    baselines = _baselines()
    baselines.starts = {'http_requests_total{route="/r1"}': StartTime(1_700_000_000_000, 5.0)}
    # when saved and loaded
    store.save(JOB, INSTANCE, baselines, expected_version=0)
    # then they come back as they were
    assert store.load(JOB, INSTANCE).baselines == baselines
