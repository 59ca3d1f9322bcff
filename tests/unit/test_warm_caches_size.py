"""A warm environment keeps what it worked out per target for more targets than one
invocation scrapes (a fan-out batch is 10 messages of 50 targets): a fleet of 1,000."""
from __future__ import annotations

from typing import Any

import pytest
from promwatch.emf import EmfSettings, TargetInfo, TranslationMemory
from promwatch.state import CounterBaseline, DynamoDBStateStore, TargetBaselines
from promwatch.state import dynamodb as dynamodb_store

FLEET = 1_000


def _instance(index: int) -> str:
    return f"10.0.{index // 250}.{index % 250}:9100"


def test_the_translation_caches_of_a_fleet_of_1000_targets_are_kept() -> None:
    # Given the caches of 1,000 targets of one job, looked up in a cycle,
    memory = TranslationMemory()
    settings = EmfSettings()
    first = memory.target_cache(TargetInfo("node", _instance(0)), settings, {})
    for index in range(1, FLEET):
        memory.target_cache(TargetInfo("node", _instance(index)), settings, {})
    # when the next cycle comes back to the first target, then its cache is still there.
    assert memory.target_cache(TargetInfo("node", _instance(0)), settings, {}) is first


class _Table:
    """A DynamoDB client holding items by ``pk`` (conditions not checked: one writer)."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def put_item(self, *, TableName: str, Item: dict[str, Any], **condition: Any) -> dict[str, Any]:
        self.items[Item["pk"]["S"]] = Item
        return {}

    def get_item(self, *, TableName: str, Key: dict[str, Any], ConsistentRead: bool) -> dict[str, Any]:
        item = self.items.get(Key["pk"]["S"])
        return {"Item": item} if item is not None else {}


def test_the_dynamodb_store_remembers_the_baselines_of_a_fleet_of_1000_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a store that saved the baselines of 1,000 targets,
    store = DynamoDBStateStore("state", _Table(), clock=lambda: 1_800_000_000.0)  # type: ignore[arg-type]
    saved = {}
    for index in range(FLEET):
        saved[index] = TargetBaselines(1_800_000_000_000, {"up_total": CounterBaseline(float(index), None)}, {})
        store.save("node", _instance(index), saved[index], expected_version=0)
    decoded: list[str] = []
    monkeypatch.setattr(dynamodb_store, "decompress_baselines", lambda data, name: decoded.append(name))
    # when the first target is loaded again (the item still at the version it wrote),
    loaded = store.load("node", _instance(0))
    # then its baselines come back as they were kept, without decoding the item.
    assert loaded.baselines is saved[0] and loaded.version == 1
    assert decoded == []
