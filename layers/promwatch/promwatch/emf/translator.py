"""The state of one scrape's translation, and what every family kind does with its samples.

:class:`Translator` holds the scrape's context (target, settings, window, the target's cache),
what the translation makes (groups of metrics, baselines, drops) and the per-sample steps every
family kind shares: a sample's label set, its dimension sets and timestamp, and :meth:`emit`
(a metric into its group, or a drop) -- the one home of that rule for a single metric (a family
laid out column by column fills its groups with :func:`promwatch.emf.columns.fill_groups`). The family kinds are translated by
:mod:`promwatch.emf.counters`, :mod:`promwatch.emf.gauges` and
:mod:`promwatch.emf.histogram_families`; :mod:`promwatch.emf.translate` runs them.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from promwatch.emf.config import EmfSettings
from promwatch.emf.documents import (
    DimensionSets,
    GroupDocuments,
    GroupKey,
    Metrics,
    drop_invalid_names,
    scrape_documents,
)
from promwatch.emf.increase import Window
from promwatch.emf.labels import LabelSet, LabelSets, exposed_values, invalid_dimension
from promwatch.emf.model import Distribution
from promwatch.emf.naming import MetricNaming, namespace_for
from promwatch.emf.target import Drop, ScrapeStats, TargetInfo
from promwatch.emf.targetcache import TargetCache, TranslationMemory
from promwatch.exposition.model import Exemplar, Family, Sample
from promwatch.limits import EMF_MAX_FUTURE_AGE_SECONDS, EMF_MAX_PAST_AGE_SECONDS
from promwatch.state.model import CounterBaseline, HistogramBaseline, TargetBaselines


def finite(value: float) -> bool:
    """Whether ``value`` is neither NaN nor +-Inf (cheaper than a call to math.isfinite)."""
    return value - value == 0.0


class Translator:
    """One scrape of one target being translated: its context, what it has made so far (groups,
    baselines, drops) and the per-sample steps every family kind shares. Its target cache and
    metric naming come from ``memory`` (fresh ones when None)."""

    def __init__(
        self, target: TargetInfo, previous: TargetBaselines | None, settings: EmfSettings, now_ms: int,
        memory: TranslationMemory | None = None,
    ) -> None:
        self.target = target
        self.previous = previous
        self.settings = settings
        self.now_ms = now_ms
        self.namespace = namespace_for(settings, target.job)
        self.target_labels = {**target.labels, "job": target.job, "instance": target.instance}
        interval = target.scrape_interval_seconds
        self.window = Window(
            first_scrape=previous is None,
            previous_ms=previous.scraped_at_ms if previous is not None else 0,
            now_ms=now_ms,
            interval_ms=interval * 1000.0 if interval is not None else None,
        )
        self.prev_counters = previous.counters if previous is not None else {}
        self.prev_histograms = previous.histograms if previous is not None else {}
        self.counters: dict[str, CounterBaseline] = {}
        # whether a baseline was recorded without its increase being emitted (see counters.laid_out_counters)
        self.silent_baselines = False
        self.histograms: dict[str, HistogramBaseline] = {}
        # The metrics of each future document, keyed by the LabelSet alone for the common
        # case (scrape time, default dimensions), by (LabelSet, timestamp, dimension sets)
        # otherwise (their (labels, timestamp, sets) in `shapes`); one dict keeps document
        # order. Exemplars of a group, when it has any, in `exemplars`.
        self.groups: dict[GroupKey, Metrics] = {}
        self.shapes: dict[GroupKey, tuple[LabelSet, int, DimensionSets]] = {}
        self.exemplars: dict[GroupKey, list[dict[str, Any]]] = {}
        self.dropped: list[Drop] = []
        self.naming = MetricNaming(settings) if memory is None else memory.naming(settings)
        self.units: dict[str, tuple[str, int]] = {}  # metric name -> (unit, storage resolution)
        self.layouts: dict[tuple[float, ...], tuple[float, ...]] = {}  # see bucket_shape
        self.cache = (TargetCache(settings, self.target_labels) if memory is None
                      else memory.target_cache(target, settings, self.target_labels))
        self.by_id = self.cache.by_id
        self.by_content = self.cache.by_content
        self.declared = bool(settings.metric_declarations)
        self.rollup = settings.dimension_rollup_option
        self.rollup_base = frozenset(settings.rollup_base_dimensions)
        self.custom_sets = self.declared or self.rollup != "NoDimensionRollup"
        self.honor_timestamps = target.honor_timestamps
        self.label_sets = LabelSets(self.target_labels, settings.log_only_pattern)
        self.exposed: dict[LabelSet, Mapping[str, str]] = {}  # see dimension_sets

    def label_set(self, labels: Mapping[str, str]) -> LabelSet:
        # By identity: the contract is in promwatch.emf.targetcache's docstring.
        found = self.by_id.get(id(labels))
        if found is None or found[0] is not labels:
            label_set = self.label_set_by_content(labels)
            self.by_id[id(labels)] = (labels, label_set)
            return label_set
        return found[1]

    def label_set_by_content(self, labels: Mapping[str, str]) -> LabelSet:
        key = frozenset(labels.items())
        found = self.by_content.get(key)
        if found is None:
            found = self.by_content[key] = self.label_sets.build(labels)
        return found

    def dimension_sets(self, name: str, labels: LabelSet) -> DimensionSets | str:
        """The metric's dimension sets, or why it cannot be published (a drop reason)."""
        sets: list[tuple[str, ...]] = []
        if self.declared:
            # label_matchers see the values as exposed, as the awsemfexporter's do (not escaped)
            exposed = self.exposed.get(labels)
            if exposed is None:
                exposed = self.exposed[labels] = exposed_values(labels.values)
            for declaration in self.settings.metric_declarations:
                if declaration.selects(name, exposed):
                    sets.extend(tuple(d) for d in declaration.dimensions if all(k in labels.values for k in d))
            if not sets:
                return "not_declared"
            for keys in sets:
                for key in keys:
                    if invalid_dimension(key, labels.values[key]):
                        return "invalid_dimension"
        else:
            if labels.invalid:
                return "invalid_dimension"
            sets.append(labels.dimension_keys)
        if self.rollup != "NoDimensionRollup":
            keys = labels.dimension_keys
            if labels.invalid:  # declared sets left out a label that cannot be a dimension: so does the roll-up
                keys = tuple(k for k in keys if not invalid_dimension(k, labels.values[k]))
            base = self.rollup_base
            if not base:
                if self.rollup == "ZeroAndSingleDimensionRollup":
                    sets.append(())
                sets.extend((k,) for k in keys)
            else:
                # Each rolled-up set in the order of `keys`, so that a series whose only other
                # label is `k` gets its full set once, not twice in two orders.
                if self.rollup == "ZeroAndSingleDimensionRollup":
                    sets.append(tuple(k for k in keys if k in base))
                sets.extend(tuple(b for b in keys if b in base or b == k) for k in keys if k not in base)
        return tuple(dict.fromkeys(sets))

    def timestamp_ms(self, sample: Sample) -> int | str:
        """The honoured timestamp of ``sample`` (which has one), or why it is dropped."""
        ts = round((sample.timestamp or 0.0) * 1000)
        if self.now_ms - ts > EMF_MAX_PAST_AGE_SECONDS * 1000:
            return "timestamp_too_old"
        if ts - self.now_ms > EMF_MAX_FUTURE_AGE_SECONDS * 1000:
            return "timestamp_in_future"
        return ts

    def drop(self, reason: str, name: str, labels: Mapping[str, str], detail: str = "") -> None:
        self.dropped.append(Drop(reason, name, labels, detail))

    def emit(
        self,
        name: str,
        value: float | Distribution,
        labels: LabelSet,
        sample: Sample,
        family: Family,
        cumulative: bool,
        exemplars: Sequence[tuple[str, Exemplar]] = (),
    ) -> None:
        key: GroupKey
        if not self.custom_sets and (not self.honor_timestamps or sample.timestamp is None):
            key = labels
            metrics = self.groups.get(labels)
            if metrics is None:
                if labels.invalid:
                    self.drop("invalid_dimension", name, sample.labels, labels.invalid)
                    return
                metrics = self.groups[labels] = {}
            elif name in metrics:
                self.drop("duplicate_series", name, sample.labels)
                return
        else:
            found = self.custom_group(name, labels, sample)
            if found is None:
                return
            key = found
            metrics = self.groups[key]
        if name not in self.units:
            self.units[name] = self.naming.unit_and_resolution(name, family.unit, cumulative)
        metrics[name] = value
        if not exemplars:
            return
        entries = self.exemplars.setdefault(key, [])
        for metric_name, exemplar in exemplars:
            entry: dict[str, Any] = {"metric": metric_name, **exemplar.labels, "value": exemplar.value}
            if exemplar.timestamp is not None:
                entry["timestamp"] = exemplar.timestamp
            entries.append(entry)

    def custom_group(self, name: str, labels: LabelSet, sample: Sample) -> GroupKey | None:
        """The group key of a metric with an honoured timestamp or configured dimension sets
        (None: dropped); its group is made on first use."""
        if self.honor_timestamps and sample.timestamp is not None:
            honored = self.timestamp_ms(sample)
            if isinstance(honored, str):
                self.drop(honored, name, sample.labels, f"timestamp {sample.timestamp}")
                return None
            timestamp = honored
        else:
            timestamp = self.now_ms
        sets: DimensionSets | None = None
        if self.custom_sets:
            chosen = self.dimension_sets(name, labels)
            if isinstance(chosen, str):
                self.drop(chosen, name, sample.labels)
                return None
            sets = chosen
        elif labels.invalid:
            self.drop("invalid_dimension", name, sample.labels, labels.invalid)
            return None
        group_key = (labels, timestamp, sets)
        metrics = self.groups.get(group_key)
        if metrics is None:
            self.groups[group_key] = {}
            self.shapes[group_key] = (labels, timestamp, sets or (labels.dimension_keys,))
        elif name in metrics:
            self.drop("duplicate_series", name, sample.labels)
            return None
        return group_key

    def gauge(self, sample: Sample, family: Family, labels: Mapping[str, str] | None = None) -> None:
        value = sample.value
        if value - value != 0.0:  # NaN or +-Inf
            self.drop("non_finite", sample.name, sample.labels, f"value {sample.value}")
            return
        # A rebuilt mapping dies with this call, so it must not enter the id cache.
        label_set = self.label_set(sample.labels) if labels is None else self.label_set_by_content(labels)
        exemplars = ((sample.name, sample.exemplar),) if sample.exemplar is not None else ()
        self.emit(sample.name, value, label_set, sample, family, False, exemplars)

    def created_values(self, samples: Sequence[Sample], name: str) -> dict[LabelSet, float]:
        return {
            self.label_set(s.labels): s.value for s in samples if s.name == name and finite(s.value)
        }

    def note_units(self, names: Sequence[str], unit: str, cumulative: bool) -> None:
        units = self.units
        for name in names:
            if name not in units:
                units[name] = self.naming.unit_and_resolution(name, unit, cumulative)

    def retained_baselines(self) -> TargetBaselines:
        """This scrape's baselines plus those of recently missing series."""
        previous = self.previous
        if previous is not None:
            horizon = self.now_ms - self.settings.series_retention_seconds * 1000
            for key, counter in previous.counters.items():
                if key not in self.counters:
                    seen = counter.seen_ms if counter.seen_ms is not None else previous.scraped_at_ms
                    if seen >= horizon:
                        self.counters[key] = counter._replace(seen_ms=seen)
            for key, histogram in previous.histograms.items():
                if key not in self.histograms:
                    seen = histogram.seen_ms if histogram.seen_ms is not None else previous.scraped_at_ms
                    if seen >= horizon:
                        self.histograms[key] = histogram._replace(seen_ms=seen)
        return TargetBaselines(self.now_ms, self.counters, self.histograms)

    def documents(self) -> list[dict[str, Any]]:
        drop_invalid_names(self.groups, self.shapes, self.exemplars, self.units, self.dropped)
        writer = GroupDocuments(self.namespace, self.units, self.cache.members, self.dropped)
        return writer.documents(self.groups, self.shapes, self.exemplars, self.now_ms)

    def scrape_documents(self, scrape: ScrapeStats) -> list[dict[str, Any]]:
        return scrape_documents(scrape, self.target_labels, self.namespace, self.now_ms, self.naming)
