"""One scrape's families + the previous baselines -> EMF documents + new baselines + drops.

Per family type (decisions documented here for users):

* ``gauge``, ``unknown``: every sample passes through as a metric named as exposed.
* ``info``: the ``<name>_info`` sample (value 1) passes through as a gauge; its labels are
  dimensions like any other series' labels (so each distinct info is its own metric, as in
  Prometheus; list a label in ``log_only_labels`` to keep it out of the dimensions).
* ``stateset``: one gauge per state (0/1) named as the family, its state label published as
  the dimension ``state``.
* ``counter``: the increase since the previous scrape (:mod:`promwatch.emf.increase`),
  named as exposed (``_total`` kept).
* ``histogram``: a distribution of the observations between the two scrapes under the
  family name (:mod:`promwatch.emf.histograms`), Sum = ``_sum`` increase, Count =
  ``_count`` increase. An interval without observations publishes no data point (a
  distribution cannot be empty).
* ``gaugehistogram``: a distribution of the current bucket counts (Sum = ``_gsum``), plus
  ``_gsum`` and ``_gcount`` as gauges.
* ``summary``: quantiles as gauges with their ``quantile`` dimension; ``_sum``/``_count`` as
  increases.
* ``_created`` samples (inside an OpenMetrics family, or the text format's separate
  ``<name>_created`` gauge family next to a counter, histogram or summary) refine resets and
  new series; they are not published themselves.
* Exemplars: their labels (trace ids) and value go to the log-only property ``exemplars``
  (a list of ``{"metric": name, <labels>, "value": v}``).
* Series sharing a label set (and timestamp and dimension sets) share one document.
* ``up``, ``scrape_duration_seconds``, ``scrape_samples_scraped`` and
  ``scrape_samples_post_metric_relabeling`` are always published (not subject to
  ``metric_declarations``), dimensioned by the target labels, so ``up`` alarms always work.
* Timestamps: the scrape time, or with ``honor_timestamps`` the exposed one; exposed
  timestamps more than 14 days old or 2 hours ahead are dropped (CloudWatch would).
* Drops (each counted in :attr:`Translation.dropped`): NaN/+-Inf values, invalid
  dimensions, metric names CloudWatch refuses (:mod:`promwatch.emf.identifiers`: a control
  character, blank, too long), duplicate series, undeclared metrics, out-of-range
  timestamps, events too large even alone, malformed histograms. Baselines are kept for
  every counted series even when its metric is not published, so a later change of
  configuration does not count old history as new.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import sub
from typing import Any

from promwatch.emf.buckets import HistogramSeries, bucket_bound, bucket_shape
from promwatch.emf.columns import (
    FamilyLayout,
    HistogramLayout,
    counter_increases,
    family_layout,
    fill_groups,
    group_members,
    histogram_layout,
    laid_out_values,
    record_baselines,
)
from promwatch.emf.config import EmfSettings
from promwatch.emf.documents import (
    DimensionSets,
    GroupDocuments,
    GroupKey,
    Metrics,
    drop_invalid_names,
    scrape_documents,
)
from promwatch.emf.histograms import bucket_distribution
from promwatch.emf.increase import Window, increase, is_new_in_window, is_reset, tidy
from promwatch.emf.labels import LabelSet, LabelSets, exposed_values, invalid_dimension
from promwatch.emf.model import Distribution
from promwatch.emf.naming import metric_naming, namespace_for
from promwatch.emf.target import Drop, ScrapeStats, TargetInfo, Translation
from promwatch.emf.targetcache import target_cache
from promwatch.exposition.model import Exemplar, Family, Sample
from promwatch.gcpause import collector_paused
from promwatch.limits import EMF_MAX_FUTURE_AGE_SECONDS, EMF_MAX_PAST_AGE_SECONDS
from promwatch.state.model import CounterBaseline, HistogramBaseline, TargetBaselines

_new_tuple = tuple.__new__
_CUMULATIVE_TYPES = ("counter", "histogram", "summary")


def _finite(value: float) -> bool:
    return value - value == 0.0  # False for NaN and +-Inf, faster than a call to math.isfinite



class _Translator:
    def __init__(
        self, target: TargetInfo, previous: TargetBaselines | None, settings: EmfSettings, now_ms: int
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
        self.histograms: dict[str, HistogramBaseline] = {}
        # The metrics of each future document, keyed by the LabelSet alone for the common
        # case (scrape time, default dimensions), by (LabelSet, timestamp, dimension sets)
        # otherwise (their (labels, timestamp, sets) in `shapes`); one dict keeps document
        # order. Exemplars of a group, when it has any, in `exemplars`.
        self.groups: dict[GroupKey, Metrics] = {}
        self.shapes: dict[GroupKey, tuple[LabelSet, int, DimensionSets]] = {}
        self.exemplars: dict[GroupKey, list[dict[str, Any]]] = {}
        self.dropped: list[Drop] = []
        self.naming = metric_naming(settings)
        self.units: dict[str, tuple[str, int]] = {}
        self.layouts: dict[tuple[float, ...], tuple[float, ...]] = {}  # see _bucket_shape  # metric name -> (unit, storage resolution)
        self.cache = target_cache(target, settings, self.target_labels)
        self.by_id = self.cache.by_id
        self.by_content = self.cache.by_content
        self.declared = bool(settings.metric_declarations)
        self.rollup = settings.dimension_rollup_option
        self.custom_sets = self.declared or self.rollup != "NoDimensionRollup"
        self.honor_timestamps = target.honor_timestamps
        self.label_sets = LabelSets(self.target_labels, settings.log_only_pattern)
        self.exposed: dict[LabelSet, Mapping[str, str]] = {}  # see dimension_sets

    # --- label sets ---------------------------------------------------------------------
    def label_set(self, labels: Mapping[str, str]) -> LabelSet:
        # The parser hands out one dict per distinct series text, the same on every scrape
        # while its cache holds it; the target cache keeps the dict, so its id stays its own.
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
            if self.rollup == "ZeroAndSingleDimensionRollup":
                sets.append(())
            keys = labels.dimension_keys
            if labels.invalid:  # declared sets left out a label that cannot be a dimension: so does the roll-up
                keys = tuple(k for k in keys if not invalid_dimension(k, labels.values[k]))
            sets.extend((k,) for k in keys)
        return tuple(dict.fromkeys(sets))

    # --- emitting -----------------------------------------------------------------------
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

    def cumulative(self, sample: Sample, family: Family, label_set: LabelSet, created: float | None) -> None:
        value = sample.value
        if value - value != 0.0:  # NaN or +-Inf
            self.drop("non_finite", sample.name, sample.labels, f"value {value}")
            return
        key = sample.name + label_set.key
        counters = self.counters
        if key in counters:
            self.drop("duplicate_series", sample.name, sample.labels)
            return
        counters[key] = CounterBaseline(value, created)
        prev = self.prev_counters.get(key)
        if prev is None:
            delta = increase(value, created, None, None, self.window)
        else:
            delta = increase(value, created, prev.value, prev.created, self.window)
            if delta is not None and delta != value and delta % 1.0 != 0.0:
                delta = tidy(delta)
        if delta is not None:
            exemplars = ((sample.name, sample.exemplar),) if sample.exemplar is not None else ()
            self.emit(sample.name, delta, label_set, sample, family, True, exemplars)

    # --- families -----------------------------------------------------------------------
    def created_values(self, samples: Sequence[Sample], name: str) -> dict[LabelSet, float]:
        return {
            self.label_set(s.labels): s.value for s in samples if s.name == name and _finite(s.value)
        }

    def counter_family(self, family: Family, external: dict[LabelSet, float]) -> None:
        base = family.name[:-6] if family.name.endswith("_total") else family.name
        created_name = base + "_created"
        created = {**external, **self.created_values(family.samples, created_name)}
        if not created and not self.custom_sets and not self.honor_timestamps:
            self.plain_counters(family, created_name)
            return
        for sample in family.samples:
            if sample.name != created_name:
                label_set = self.label_set(sample.labels)
                self.cumulative(sample, family, label_set, created.get(label_set) if created else None)

    def plain_counters(self, family: Family, skipped_name: str) -> None:
        """:meth:`cumulative` and :meth:`emit` of a counter family's samples, inline, for the
        usual case: no ``_created``, default dimensions, scrape-time timestamps. A family laid
        out as on the previous scrape goes column by column (:mod:`promwatch.emf.columns`)."""
        layout_key = ("counter", family.name)
        layout = self.cache.layouts.get(layout_key)
        if layout is not None and self.laid_out_counters(family, layout):
            return
        counters, prev_counters = self.counters, self.prev_counters
        groups, units = self.groups, self.units
        first_scrape = self.window.first_scrape
        series_keys = self.cache.series_keys
        keys: dict[int, tuple[Mapping[str, str], LabelSet, str]] = {}
        keys_name = ""
        # the layout, kept when every sample takes the usual path
        seen_labels: list[Mapping[str, str]] = []
        seen_names: list[str] = []
        seen_sets: list[LabelSet] = []
        seen_keys: list[str] = []
        usual = True
        for sample in family.samples:
            name, labels, value, _, exemplar = sample
            if name == skipped_name:
                usual = False
                continue
            if name != keys_name:
                keys_name = name
                keys = series_keys.setdefault(name, {})
            found = keys.get(id(labels))
            if found is not None and found[0] is labels:
                _, label_set, key = found
            else:
                label_set = self.label_set(labels)
                key = name + label_set.key
                keys[id(labels)] = (labels, label_set, key)
            seen_labels.append(labels)
            seen_names.append(name)
            seen_sets.append(label_set)
            seen_keys.append(key)
            if exemplar is not None:
                usual = False
                self.cumulative(sample, family, label_set, None)
                continue
            if value - value != 0.0:  # NaN or +-Inf
                usual = False
                self.drop("non_finite", name, labels, f"value {value}")
                continue
            if key in counters:
                usual = False
                self.drop("duplicate_series", name, labels)
                continue
            counters[key] = _new_tuple(CounterBaseline, (value, None, None))  # CounterBaseline(value), no Python call
            prev = prev_counters.get(key)
            if prev is None:
                if first_scrape:  # increase(): a first scrape only records baselines
                    if label_set.invalid:  # a layout holds publishable sets only: the next scrape drops it
                        usual = False
                    continue
                delta = value  # a new series counts from zero
            elif value < prev.value:
                delta = value  # a reset
            else:
                delta = value - prev.value
                if delta % 1.0 != 0.0 and delta != value:
                    delta = tidy(delta)
            metrics = groups.get(label_set)
            if metrics is None:
                if label_set.invalid:
                    usual = False
                    self.drop("invalid_dimension", name, labels, label_set.invalid)
                    continue
                metrics = groups[label_set] = {}
            elif name in metrics:
                usual = False
                self.drop("duplicate_series", name, labels)
                continue
            if name not in units:
                units[name] = self.naming.unit_and_resolution(name, family.unit, True)
            metrics[name] = delta
        if usual:
            self.cache.layouts[layout_key] = family_layout(seen_labels, seen_names, seen_sets, seen_keys)

    def laid_out_counters(self, family: Family, layout: FamilyLayout) -> bool:
        """:meth:`plain_counters` column by column; False (nothing done) when this scrape's
        family is not laid out as ``layout`` or has anything unusual."""
        values = laid_out_values(family.samples, layout)
        if values is None:
            return False
        increases = counter_increases(values, layout.keys, self.prev_counters)
        if increases is None:
            return False
        members = group_members(self.groups, layout.label_sets, layout.names)
        if members is None:
            return False
        record_baselines(self.counters, layout.keys, values)
        fill_groups(self.groups, members, layout, increases)
        self.note_units(layout.distinct_names, family.unit, True)
        return True

    def note_units(self, names: Sequence[str], unit: str, cumulative: bool) -> None:
        units = self.units
        for name in names:
            if name not in units:
                units[name] = self.naming.unit_and_resolution(name, unit, cumulative)

    def plain_gauges(self, family: Family) -> None:
        """:meth:`gauge` and :meth:`emit` of a gauge family's samples, inline, for the usual
        case: default dimensions, scrape-time timestamps (anything else goes through them).
        A family laid out as on the previous scrape goes column by column."""
        layout_key = ("gauge", family.name)
        layout = self.cache.layouts.get(layout_key)
        if layout is not None and self.laid_out_gauges(family, layout):
            return
        by_id, groups, units = self.by_id, self.groups, self.units
        seen_labels: list[Mapping[str, str]] = []
        seen_names: list[str] = []
        seen_sets: list[LabelSet] = []
        usual = True
        for sample in family.samples:
            name, labels, value, _, exemplar = sample
            if exemplar is not None or value - value != 0.0:
                usual = False
                self.gauge(sample, family)
                continue
            found = by_id.get(id(labels))
            label_set = found[1] if found is not None and found[0] is labels else self.label_set(labels)
            seen_labels.append(labels)
            seen_names.append(name)
            seen_sets.append(label_set)
            metrics = groups.get(label_set)
            if metrics is None:
                if label_set.invalid:
                    usual = False
                    self.drop("invalid_dimension", name, labels, label_set.invalid)
                    continue
                metrics = groups[label_set] = {}
            elif name in metrics:
                usual = False
                self.drop("duplicate_series", name, labels)
                continue
            if name not in units:
                units[name] = self.naming.unit_and_resolution(name, family.unit, False)
            metrics[name] = value
        if usual:
            self.cache.layouts[layout_key] = family_layout(seen_labels, seen_names, seen_sets, [])

    def laid_out_gauges(self, family: Family, layout: FamilyLayout) -> bool:
        """:meth:`plain_gauges` column by column; False (nothing done) when this scrape's
        family is not laid out as ``layout`` or has anything unusual."""
        values = laid_out_values(family.samples, layout)
        if values is None:
            return False
        members = group_members(self.groups, layout.label_sets, layout.names)
        if members is None:
            return False
        fill_groups(self.groups, members, layout, values)
        self.note_units(layout.distinct_names, family.unit, False)
        return True

    def summary_family(self, family: Family, external: dict[LabelSet, float]) -> None:
        name = family.name
        created_name = name + "_created"
        created = {**external, **self.created_values(family.samples, created_name)}
        cumulative_names = (name + "_sum", name + "_count")
        for sample in family.samples:
            if sample.name in cumulative_names:
                label_set = self.label_set(sample.labels)
                self.cumulative(sample, family, label_set, created.get(label_set) if created else None)
            elif sample.name != created_name:
                self.gauge(sample, family)

    def collect_histograms(self, family: Family, gauge: bool) -> dict[LabelSet, HistogramSeries]:
        name = family.name
        bucket_name, sum_name, count_name = (
            (name + "_bucket", name + "_gsum", name + "_gcount") if gauge
            else (name + "_bucket", name + "_sum", name + "_count")
        )
        created_name = name + "_created"
        series: dict[LabelSet, HistogramSeries] = {}
        # bucket label mapping -> (mapping, label set without le, le), across scrapes
        buckets = self.cache.buckets
        le_cache: dict[str, float] = {}
        le = 0.0
        entry: HistogramSeries | None = None
        for sample in family.samples:
            sample_name, labels, value, timestamp, exemplar = sample
            if sample_name == bucket_name:
                found = buckets.get(id(labels))
                if found is not None and found[0] is labels:
                    _, label_set, le = found
                else:
                    bound = bucket_bound(labels.get("le"), le_cache)
                    if bound is None:
                        self.drop("malformed", sample_name, labels, f"bucket bound le={labels.get('le')!r}")
                        continue
                    le = bound
                    own = dict(labels)
                    del own["le"]
                    label_set = self.label_set_by_content(own)
                    buckets[id(labels)] = (labels, label_set, le)
                # a series' buckets come one after the other: the previous entry is usually it
                if entry is None or entry.labels is not label_set:
                    entry = series.get(label_set)
                    if entry is None:
                        entry = series[label_set] = HistogramSeries(label_set)
                entry.buckets[le] = value
                if exemplar is not None:
                    entry.exemplars.append((name, exemplar))
            elif sample_name in (sum_name, count_name, created_name):
                label_set = self.label_set(labels)
                if entry is None or entry.labels is not label_set:
                    entry = series.get(label_set)
                    if entry is None:
                        entry = series[label_set] = HistogramSeries(label_set)
                if sample_name == sum_name:
                    entry.sum = value
                elif sample_name == count_name:
                    entry.count = value
                else:
                    entry.created = value
            else:
                self.gauge(sample, family)
                continue
            if timestamp is not None and entry.timestamp is None:
                entry.timestamp = timestamp
        return series

    def histogram_family(self, family: Family, external: dict[LabelSet, float]) -> None:
        layout_key = ("histogram", family.name)
        plain = not external and not self.honor_timestamps
        if plain:
            layout = self.cache.histogram_layouts.get(layout_key)
            if layout is not None:
                values = laid_out_values(family.samples, layout)
                if values is not None:
                    self.laid_out_histograms(family, layout, values)
                    return
        series = self.collect_histograms(family, gauge=False)
        for label_set, entry in series.items():
            self.histogram_series(family, entry, external.get(label_set))
        if plain:
            layout = histogram_layout(family, self.cache.buckets, self.label_set)
            if layout is not None:
                self.cache.histogram_layouts[layout_key] = layout

    def laid_out_histograms(self, family: Family, layout: HistogramLayout, values: list[float]) -> None:
        """:meth:`histogram_family` of a family laid out as on the previous scrape: each series'
        numbers taken from the values by position (:mod:`promwatch.emf.columns`)."""
        for label_set, buckets_of, bounds, sum_at, count_at in layout.series:
            self.histogram_point(family, label_set, bounds, buckets_of(values), values[count_at], values[sum_at],
                                 None, None, ())

    def histogram_series(self, family: Family, entry: HistogramSeries, external_created: float | None) -> None:
        shape = bucket_shape(entry, self.layouts)
        if isinstance(shape, str):
            self.drop("non_finite" if "finite" in shape else "malformed", family.name, entry.labels.values, shape)
            return
        bounds, cumulative, count = shape
        created = entry.created if entry.created is not None else external_created
        self.histogram_point(family, entry.labels, bounds, cumulative, count, entry.sum, created, entry.timestamp,
                             entry.exemplars)

    def histogram_point(
        self, family: Family, labels: LabelSet, bounds: tuple[float, ...], cumulative: tuple[float, ...],
        count: float, exposed_sum: float | None, created: float | None, timestamp: float | None,
        exemplars: Sequence[tuple[str, Exemplar]],
    ) -> None:
        """The baseline and the distribution of one histogram series (buckets checked finite)."""
        name = family.name
        total = exposed_sum if exposed_sum is not None and _finite(exposed_sum) else None
        baseline_key = name + labels.key
        if baseline_key in self.histograms:
            self.drop("duplicate_series", name, labels.values)
            return
        self.histograms[baseline_key] = _new_tuple(  # HistogramBaseline(...), without a Python call
            HistogramBaseline, (bounds, cumulative, total or 0.0, count, created, None)
        )
        if exposed_sum is not None and total is None:
            self.drop("non_finite", name + "_sum", labels.values, f"value {exposed_sum}; Sum taken from the buckets")
        prev = self.prev_histograms.get(baseline_key)
        if prev is None:
            if not is_new_in_window(created, self.window):
                return
            delta, delta_sum, delta_count = cumulative, total, count
        elif prev.bounds != bounds:
            delta, delta_sum, delta_count = cumulative, total, count
        else:
            delta = tuple(map(sub, cumulative, prev.buckets))  # same bounds: same lengths
            delta_count = count - prev.obs_count
            if delta_count < 0 or is_reset(delta, created, prev.created):
                delta, delta_sum, delta_count = cumulative, total, count
            else:
                delta_sum = tidy(total - prev.obs_sum) if total is not None else None
        per_bucket = [d if d > 0.0 else 0.0 for d in map(sub, delta, (0.0, *delta[:-1]))]
        distribution = bucket_distribution(bounds, per_bucket, delta_sum)
        if distribution is None:
            if delta_count <= 0:
                return
            mean = delta_sum / delta_count if delta_sum is not None else 0.0
            distribution = Distribution((mean,), (delta_count,), delta_sum, mean, mean)
        sample = _new_tuple(Sample, (name, labels.values, delta_count, timestamp, None))  # Sample(...)
        self.emit(name, distribution, labels, sample, family, False, exemplars)

    def gaugehistogram_family(self, family: Family) -> None:
        name = family.name
        for entry in self.collect_histograms(family, gauge=True).values():
            labels = entry.labels
            shape = bucket_shape(entry)
            if isinstance(shape, str):
                self.drop("non_finite" if "finite" in shape else "malformed", name, labels.values, shape)
                continue
            bounds, cumulative, _ = shape
            total = entry.sum if entry.sum is not None and _finite(entry.sum) else None
            per_bucket = [max(0.0, c - p) for c, p in zip(cumulative, (0.0, *cumulative[:-1]), strict=True)]
            distribution = bucket_distribution(bounds, per_bucket, total)
            sample = Sample(name, labels.values, 0.0, entry.timestamp)
            if distribution is not None:
                self.emit(name, distribution, labels, sample, family, False, entry.exemplars)
            for suffix, value in (("_gsum", entry.sum), ("_gcount", entry.count)):
                if value is None:
                    continue
                if _finite(value):
                    self.emit(name + suffix, value, labels, sample, family, False)
                else:
                    self.drop("non_finite", name + suffix, labels.values, f"value {value}")

    def stateset_family(self, family: Family) -> None:
        for sample in family.samples:
            labels = sample.labels
            if family.name in labels and "state" not in labels:
                labels = {("state" if k == family.name else k): v for k, v in labels.items()}
            self.gauge(sample, family, labels)

    def translate(self, families: Sequence[Family]) -> None:
        cumulative_names = {f.name for f in families if f.type in _CUMULATIVE_TYPES}
        cumulative_names.update(f.name[:-6] for f in families if f.type == "counter" and f.name.endswith("_total"))
        external: dict[str, dict[LabelSet, float]] = {}
        for family in families:
            if (
                family.type in ("gauge", "unknown")
                and family.name.endswith("_created")
                and family.name[:-8] in cumulative_names
            ):
                external[family.name[:-8]] = self.created_values(family.samples, family.name)
        for family in families:
            kind = family.type
            if kind == "counter":
                base = family.name[:-6] if family.name.endswith("_total") else family.name
                self.counter_family(family, external.get(base, {}))
            elif kind == "histogram":
                self.histogram_family(family, external.get(family.name, {}))
            elif kind == "summary":
                self.summary_family(family, external.get(family.name, {}))
            elif kind == "gaugehistogram":
                self.gaugehistogram_family(family)
            elif kind == "stateset":
                self.stateset_family(family)
            elif family.name.endswith("_created") and family.name[:-8] in external:
                continue
            elif not self.custom_sets and not self.honor_timestamps:
                self.plain_gauges(family)
            else:
                for sample in family.samples:
                    self.gauge(sample, family)

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

    # --- documents ----------------------------------------------------------------------
    def documents(self) -> list[dict[str, Any]]:
        drop_invalid_names(self.groups, self.shapes, self.exemplars, self.units, self.dropped)
        writer = GroupDocuments(self.namespace, self.units, self.cache.members, self.dropped)
        return writer.documents(self.groups, self.shapes, self.exemplars, self.now_ms)

    def scrape_documents(self, scrape: ScrapeStats) -> list[dict[str, Any]]:
        return scrape_documents(scrape, self.target_labels, self.namespace, self.now_ms, self.naming)


def translate(
    families: Sequence[Family],
    *,
    target: TargetInfo,
    previous: TargetBaselines | None,
    settings: EmfSettings,
    now_ms: int,
    scrape: ScrapeStats | None = None,
) -> Translation:
    """Translate one scrape of one target into EMF documents (pure).

    Parameters
    ----------
    families
        The parsed (and relabelled) exposition; ``[]`` when the target is down.
    target
        The target: job, instance, target labels, ``honor_timestamps``, interval.
    previous
        The baselines the previous successful scrape stored; None for the first scrape.
    settings
        The job's ``emf:`` section.
    now_ms
        Scrape time, epoch milliseconds (EMF Timestamp unless timestamps are honoured).
    scrape
        What the scrape measured, for ``up`` and the other per-target metrics; None to
        publish none of them.

    Returns
    -------
    Translation
        Valid EMF documents, the baselines to store (``previous`` when the target is down),
        and every dropped sample with its reason.
    """
    translator = _Translator(target, previous, settings, now_ms)
    documents = translator.scrape_documents(scrape) if scrape is not None else []
    if scrape is not None and not scrape.up:
        return Translation(documents, previous, [])
    with collector_paused():
        translator.translate(families)
        documents.extend(translator.documents())
        baselines = translator.retained_baselines()
        dropped = translator.dropped
        del translator  # freed while the collector still sleeps: it then walks only the results
    return Translation(documents, baselines, dropped)
