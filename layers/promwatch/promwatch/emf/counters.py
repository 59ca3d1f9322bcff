"""Counter and summary families: increases of their cumulative samples (plain families inline, or column by column)."""
from __future__ import annotations

from collections.abc import Mapping

from promwatch.emf.columns import (
    FamilyLayout,
    counter_increases,
    family_layout,
    fill_groups,
    group_members,
    laid_out_values,
    record_baselines,
)
from promwatch.emf.increase import tidy
from promwatch.emf.labels import LabelSet
from promwatch.emf.translator import Translator
from promwatch.exposition.model import Family
from promwatch.state.model import CounterBaseline

_new_tuple = tuple.__new__

def counter_family(translator: Translator, family: Family, external: dict[LabelSet, float]) -> None:
    base = family.name[:-6] if family.name.endswith("_total") else family.name
    created_name = base + "_created"
    created = {**external, **translator.created_values(family.samples, created_name)}
    if not created and not translator.custom_sets and not translator.honor_timestamps:
        plain_counters(translator, family, created_name)
        return
    for sample in family.samples:
        if sample.name != created_name:
            label_set = translator.label_set(sample.labels)
            translator.cumulative(sample, family, label_set, created.get(label_set) if created else None)


def plain_counters(translator: Translator, family: Family, skipped_name: str) -> None:
    """:meth:`Translator.cumulative` and :meth:`Translator.emit` of a counter family's samples, inline, for the
    usual case: no ``_created``, default dimensions, scrape-time timestamps. A family laid
    out as on the previous scrape goes column by column (:mod:`promwatch.emf.columns`)."""
    layout_key = ("counter", family.name)
    layout = translator.cache.layouts.get(layout_key)
    if layout is not None and laid_out_counters(translator, family, layout):
        return
    counters, prev_counters = translator.counters, translator.prev_counters
    groups, units = translator.groups, translator.units
    first_scrape = translator.window.first_scrape
    series_keys = translator.cache.series_keys
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
            label_set = translator.label_set(labels)
            key = name + label_set.key
            keys[id(labels)] = (labels, label_set, key)
        seen_labels.append(labels)
        seen_names.append(name)
        seen_sets.append(label_set)
        seen_keys.append(key)
        if exemplar is not None:
            usual = False
            translator.cumulative(sample, family, label_set, None)
            continue
        if value - value != 0.0:  # NaN or +-Inf
            usual = False
            translator.drop("non_finite", name, labels, f"value {value}")
            continue
        if key in counters:
            usual = False
            translator.drop("duplicate_series", name, labels)
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
                translator.drop("invalid_dimension", name, labels, label_set.invalid)
                continue
            metrics = groups[label_set] = {}
        elif name in metrics:
            usual = False
            translator.drop("duplicate_series", name, labels)
            continue
        if name not in units:
            units[name] = translator.naming.unit_and_resolution(name, family.unit, True)
        metrics[name] = delta
    if usual:
        translator.cache.layouts[layout_key] = family_layout(seen_labels, seen_names, seen_sets, seen_keys)


def laid_out_counters(translator: Translator, family: Family, layout: FamilyLayout) -> bool:
    """:func:`plain_counters` column by column; False (nothing done) when this scrape's
    family is not laid out as ``layout`` or has anything unusual."""
    values = laid_out_values(family.samples, layout)
    if values is None:
        return False
    increases = counter_increases(values, layout.keys, translator.prev_counters)
    if increases is None:
        return False
    members = group_members(translator.groups, layout.label_sets, layout.names)
    if members is None:
        return False
    record_baselines(translator.counters, layout.keys, values)
    fill_groups(translator.groups, members, layout, increases)
    translator.note_units(layout.distinct_names, family.unit, True)
    return True


def summary_family(translator: Translator, family: Family, external: dict[LabelSet, float]) -> None:
    name = family.name
    created_name = name + "_created"
    created = {**external, **translator.created_values(family.samples, created_name)}
    cumulative_names = (name + "_sum", name + "_count")
    for sample in family.samples:
        if sample.name in cumulative_names:
            label_set = translator.label_set(sample.labels)
            translator.cumulative(sample, family, label_set, created.get(label_set) if created else None)
        elif sample.name != created_name:
            translator.gauge(sample, family)
