"""What a warm process remembers between translations: :class:`TranslationMemory`.

Per target (:class:`TargetCache`): what its series resolve to -- a series' label set, baseline
key and document members -- and each family's layout (:mod:`promwatch.emf.columns`), worked out
once per series and layout, not once per scrape. Per job's settings: each metric name's unit and
storage resolution (:class:`~promwatch.emf.naming.MetricNaming`). The memory belongs to whoever
runs the translations (the scrape runtime keeps one for its execution environment, a CLI tool
one for its run) and is passed to :func:`~promwatch.emf.translate.translate`; a translation
without one starts from an empty target cache and keeps nothing, and its output is the same
either way (memoization only).

Identity contract (what the ``id()``-keyed caches here, in :mod:`promwatch.emf.translator`,
:mod:`promwatch.emf.counters`, :mod:`promwatch.emf.histogram_families` and
:mod:`promwatch.emf.columns` rely on): a sample's ``labels`` mapping is treated as read-only
and is looked up by identity -- ``id(labels)``, confirmed by ``is`` on the mapping stored with
the entry. The parser hands out one dict per distinct series (and per canonical label set), the
same object on every page while its :class:`~promwatch.exposition.memory.ParserMemory` holds it;
relabelling hands out one dict per distinct relabelled label set
(:func:`promwatch.scrape.process.process_page`). So a warm target's lookups hit, and a mapping
seen for the first time (a cold parser, a rebuilt dict) only costs a miss. Every entry keyed by
``id(labels)`` keeps the mapping itself: while the entry lives the object lives, and its id
cannot be handed to another object. A mapping that is built for one call and dropped (a label
set rebuilt by the translation itself) never enters an id-keyed cache.

Bounded: :data:`MAX_CACHED_LABEL_SETS` entries per target, then its cache starts over;
:data:`MAX_CACHED_TARGETS` targets and :data:`MAX_CACHED_NAMINGS` settings per memory, then
that table starts over (emptied). A target's cache also starts over when its settings object or
target labels change.
"""
from __future__ import annotations

from collections.abc import Mapping

from promwatch.emf.columns import FamilyLayout, HistogramLayout
from promwatch.emf.config import EmfSettings
from promwatch.emf.labels import LabelSet
from promwatch.emf.naming import MetricNaming
from promwatch.emf.target import TargetInfo

MAX_CACHED_TARGETS = 1_024
"""Targets a memory keeps caches for (then it starts over): more than one invocation scrapes
(a fan-out batch: 10 messages of 50 targets), so a warm environment that meets a target again
still has it (about 140 KB a node_exporter target)."""
MAX_CACHED_LABEL_SETS = 400_000
"""Per target: about the largest pages' series (beyond it the cache starts over, bounding memory)."""
MAX_CACHED_NAMINGS = 64
"""Settings objects (a job's ``emf:`` section each) a memory keeps metric namings for."""


class TargetCache:
    """What one target's label sets and families resolve to (see the module docstring for the
    identity contract of the ``id()``-keyed tables)."""

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


class TranslationMemory:
    """Target caches and metric namings kept across translations (see the module docstring).

    Not locked: the scrape cycle's worker threads share one memory, each translating its own
    target; each table operation is one dict operation (atomic under the GIL).
    """

    __slots__ = ("namings", "targets")

    def __init__(self) -> None:
        self.targets: dict[tuple[str, str], TargetCache] = {}
        # id(settings) -> (settings, naming): the settings are held, so their id stays theirs
        self.namings: dict[int, tuple[EmfSettings, MetricNaming]] = {}

    def target_cache(self, target: TargetInfo, settings: EmfSettings, target_labels: dict[str, str]) -> TargetCache:
        """The cache of ``target``, started over when its settings or target labels changed or it grew too big."""
        key = (target.job, target.instance)
        cache = self.targets.get(key)
        if (
            cache is None
            or cache.settings is not settings
            or cache.target_labels != target_labels
            or len(cache.by_id) + len(cache.by_content) + len(cache.buckets)
            + sum(map(len, cache.series_keys.values())) > MAX_CACHED_LABEL_SETS
        ):
            if len(self.targets) >= MAX_CACHED_TARGETS:
                self.targets.clear()
            cache = self.targets[key] = TargetCache(settings, target_labels)
        return cache

    def naming(self, settings: EmfSettings) -> MetricNaming:
        """The :class:`MetricNaming` of ``settings``, shared by every translation made with them:
        a job's metric names get their units worked out once, not once per target and scrape (a
        node_exporter page has ~300 names; at 1,000 targets a cycle that was ~0.4 ms a target)."""
        known = self.namings.get(id(settings))
        if known is None or known[0] is not settings:
            if len(self.namings) >= MAX_CACHED_NAMINGS:
                self.namings.clear()
            known = self.namings[id(settings)] = (settings, MetricNaming(settings))
        return known[1]
