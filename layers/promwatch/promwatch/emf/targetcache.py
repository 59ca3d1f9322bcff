"""What a target's series resolve to, kept across scrapes in a warm process (pure memoization).

The translation's output never depends on it: the parser hands out the same label mapping for
a series on every scrape, so a series' label set, baseline key and document members are worked
out once per series, and each family's layout once per layout (:mod:`promwatch.emf.columns`),
not once per scrape. Bounded: per target by label sets, and by the number of targets.
"""
from __future__ import annotations

from collections.abc import Mapping

from promwatch.emf.columns import FamilyLayout, HistogramLayout
from promwatch.emf.config import EmfSettings
from promwatch.emf.labels import LabelSet
from promwatch.emf.target import TargetInfo


class TargetCache:
    """What one target's label sets and families resolve to (see the module docstring)."""

    __slots__ = (
        "buckets", "by_content", "by_id", "histogram_layouts", "layouts", "members", "series_keys", "settings",
        "target_labels",
    )

    def __init__(self, settings: EmfSettings, target_labels: dict[str, str]) -> None:
        self.settings = settings
        self.target_labels = target_labels
        # id(mapping) -> (mapping, label set): the mapping is held, so its id stays its own.
        self.by_id: dict[int, tuple[Mapping[str, str], LabelSet]] = {}
        self.by_content: dict[frozenset[tuple[str, str]], LabelSet] = {}
        # a histogram bucket's mapping -> (mapping, label set of the others, le)
        self.buckets: dict[int, tuple[Mapping[str, str], LabelSet, float]] = {}
        # counter name -> id(mapping) -> (mapping, label set, baseline key): the key's hash is kept
        self.series_keys: dict[str, dict[int, tuple[Mapping[str, str], LabelSet, str]]] = {}
        # label set -> JSON of its members (',"k":"v"...'), for documents built as text
        self.members: dict[LabelSet, str] = {}
        # (family type, name) -> its layout on the scrape that recorded it
        self.layouts: dict[tuple[str, str], FamilyLayout] = {}
        self.histogram_layouts: dict[tuple[str, str], HistogramLayout] = {}


TARGET_CACHES: dict[tuple[str, str], TargetCache] = {}
_MAX_CACHED_TARGETS = 1_024
"""Targets a process keeps caches for (then it starts over): more than one invocation scrapes
(a fan-out batch: 10 messages of 50 targets), so a warm environment that meets a target again
still has it (about 140 KB a node_exporter target)."""
_MAX_CACHED_LABEL_SETS = 400_000
"""Per target: about the largest pages' series (beyond it the cache starts over, bounding memory)."""


def target_cache(target: TargetInfo, settings: EmfSettings, target_labels: dict[str, str]) -> TargetCache:
    """The cache of ``target``, started over when its settings or target labels changed or it grew too big."""
    key = (target.job, target.instance)
    cache = TARGET_CACHES.get(key)
    if (
        cache is None
        or cache.settings is not settings
        or cache.target_labels != target_labels
        or len(cache.by_id) + len(cache.by_content) + len(cache.buckets)
        + sum(map(len, cache.series_keys.values())) > _MAX_CACHED_LABEL_SETS
    ):
        if len(TARGET_CACHES) >= _MAX_CACHED_TARGETS:
            TARGET_CACHES.clear()
        cache = TARGET_CACHES[key] = TargetCache(settings, target_labels)
    return cache
