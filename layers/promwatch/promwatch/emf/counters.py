"""Counter and summary families: the increases of their cumulative samples.

A plain counter family (no ``_created``, default dimensions, scrape-time timestamps) goes
column by column (:mod:`promwatch.emf.columns`): with the layout its previous scrape recorded
when it is laid out alike, else with the layout read now. Any other family, or one with
anything unusual (NaN, an exemplar, a series repeated, a label that cannot be a dimension, a
metric or baseline already taken), goes sample by sample (:func:`cumulative_samples`). Both
take the increases from one call of :func:`promwatch.emf.increase.increases` per family.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import cast

from promwatch.emf.columns import (
    FamilyLayout,
    family_layout,
    fill_groups,
    group_members,
    laid_out_values,
    record_baselines,
)
from promwatch.emf.increase import increases
from promwatch.emf.labels import LabelSet
from promwatch.emf.translator import Translator
from promwatch.exposition.model import Family, Sample
from promwatch.state.model import CounterBaseline

_new_tuple = tuple.__new__
_value = itemgetter(2)


def counter_family(translator: Translator, family: Family, external: dict[LabelSet, float]) -> None:
    """Translate a counter family; ``external`` holds its series' ``_created`` from a separate family."""
    base = family.name[:-6] if family.name.endswith("_total") else family.name
    created_name = base + "_created"
    created = {**external, **translator.created_values(family.samples, created_name)}
    if (
        not created and not translator.custom_sets and not translator.honor_timestamps
        and plain_counters(translator, family, created_name)
    ):
        return
    cumulative_samples(translator, family, None, created_name, created)


def summary_family(translator: Translator, family: Family, external: dict[LabelSet, float]) -> None:
    """Translate a summary family: ``_sum`` and ``_count`` as increases, quantiles as gauges."""
    name = family.name
    created_name = name + "_created"
    created = {**external, **translator.created_values(family.samples, created_name)}
    cumulative_samples(translator, family, (name + "_sum", name + "_count"), created_name, created)


def cumulative_samples(
    translator: Translator,
    family: Family,
    cumulative_names: tuple[str, ...] | None,
    created_name: str,
    created: dict[LabelSet, float],
) -> None:
    """A family sample by sample: the baselines of its cumulative samples (``cumulative_names``;
    None: every one but ``created_name``) recorded and their increases emitted in order, any
    other sample but ``created_name`` emitted as a gauge at its place; NaN or +-Inf and
    repeated series dropped. ``created`` holds each series' ``_created``."""
    counters, previous, label_set_of = translator.counters, translator.prev_counters, translator.label_set
    values: list[float] = []
    baselines: list[CounterBaseline | None] = []
    created_at: list[float | None] = []
    # per sample: its label set (an increase), None (a gauge), why it is dropped, or "" (skipped)
    steps: list[LabelSet | str | None] = []
    for sample in family.samples:
        name = sample.name
        if name == created_name:
            steps.append("")
        elif cumulative_names is not None and name not in cumulative_names:
            steps.append(None)
        else:
            value = sample.value
            label_set = label_set_of(sample.labels)
            key = name + label_set.key
            if value - value != 0.0:  # NaN or +-Inf
                steps.append("non_finite")
            elif key in counters:
                steps.append("duplicate_series")
            else:
                at = created.get(label_set) if created else None
                counters[key] = _new_tuple(CounterBaseline, (value, at, None))  # CounterBaseline(...), no Python call
                values.append(value)
                baselines.append(previous.get(key))
                created_at.append(at)
                steps.append(label_set)
    exposes_created = created_at.count(None) < len(created_at)
    deltas = increases(values, baselines, translator.window, created_at if exposes_created else None)
    if None in deltas:
        translator.silent_baselines = True
    next_delta = iter(deltas).__next__
    for sample, step in zip(family.samples, steps, strict=True):
        if step.__class__ is LabelSet:
            delta = next_delta()
            if delta is not None:
                exemplars = ((sample.name, sample.exemplar),) if sample.exemplar is not None else ()
                translator.emit(sample.name, delta, cast(LabelSet, step), sample, family, True, exemplars)
        elif step is None:
            translator.gauge(sample, family)
        elif step:
            detail = f"value {sample.value}" if step == "non_finite" else ""
            translator.drop(cast(str, step), sample.name, sample.labels, detail)


def plain_counters(translator: Translator, family: Family, skipped_name: str) -> bool:
    """A plain counter family column by column; False (nothing done) when anything is unusual
    (``skipped_name``, its ``_created``, is: it is not published)."""
    layout_key = ("counter", family.name)
    layouts = translator.cache.layouts
    layout = layouts.get(layout_key)
    values = laid_out_values(family.samples, layout) if layout is not None else None
    if layout is not None and values is not None:
        return laid_out_counters(translator, family, layout, values)
    layout = counter_layout(translator, family.samples, skipped_name)
    if layout is None:
        return False
    values = list(map(_value, family.samples))  # finite, without exemplars: counter_layout checked
    if not laid_out_counters(translator, family, layout, values):
        return False
    layouts[layout_key] = layout
    return True


def counter_layout(translator: Translator, samples: Sequence[Sample], skipped_name: str) -> FamilyLayout | None:
    """The layout of a counter family's samples, or None when one is unusual: ``skipped_name``,
    an exemplar, NaN or +-Inf, a label set that cannot be the dimensions, a series repeated."""
    series_keys = translator.cache.series_keys
    keys: dict[int, tuple[Mapping[str, str], LabelSet, str]] = {}
    keys_name = ""
    seen_labels: list[Mapping[str, str]] = []
    seen_names: list[str] = []
    seen_sets: list[LabelSet] = []
    seen_keys: list[str] = []
    for name, labels, value, _, exemplar in samples:
        if name == skipped_name or exemplar is not None or value - value != 0.0:
            return None
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
        if label_set.invalid:
            return None
        seen_labels.append(labels)
        seen_names.append(name)
        seen_sets.append(label_set)
        seen_keys.append(key)
    layout = family_layout(seen_labels, seen_names, seen_sets, seen_keys)
    # a key is a name and a label set: series of distinct label sets share no key
    if not layout.distinct_sets and len(set(seen_keys)) != len(seen_keys):
        return None
    return layout


def laid_out_counters(translator: Translator, family: Family, layout: FamilyLayout, values: list[float]) -> bool:
    """Baselines and increases of a counter family laid out as ``layout`` (``values`` in its
    order), column by column; False (nothing done) when a series' metric or baseline is taken."""
    counters, keys = translator.counters, layout.keys
    deltas = increases(values, list(map(translator.prev_counters.get, keys)), translator.window)
    # A series taken by an earlier family is in its group, where group_members finds it, unless
    # only its baseline was recorded: then the keys must be looked up.
    if translator.silent_baselines and not counters.keys().isdisjoint(keys):
        return False
    if deltas and deltas[0] is None:  # without _created, a first scrape: every series only records its baseline
        if deltas.count(None) != len(deltas):
            return False
        record_baselines(counters, keys, values)
        translator.silent_baselines = True
        return True
    members = group_members(translator.groups, layout.label_sets, layout.names)
    if members is None:
        return False
    record_baselines(counters, keys, values)
    fill_groups(translator.groups, members, layout, deltas)
    translator.note_units(layout.distinct_names, family.unit, True)
    return True
