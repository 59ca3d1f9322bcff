"""Gauge-like families: gauges and unknowns, statesets.

A plain gauge family (default dimensions, scrape-time timestamps) goes column by column
(:mod:`promwatch.emf.columns`): with the layout its previous scrape recorded when it is laid
out alike, else with the layout read now. Any other family, or one with anything unusual
(NaN, an exemplar, a series repeated, a label that cannot be a dimension, a metric already in
its group), goes sample by sample through :meth:`Translator.gauge`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter

from promwatch.emf.columns import FamilyLayout, family_layout, fill_groups, group_members, laid_out_values
from promwatch.emf.labels import LabelSet
from promwatch.emf.translator import Translator
from promwatch.exposition.model import Family, Sample

_value = itemgetter(2)


def plain_gauges(translator: Translator, family: Family) -> None:
    """Translate a gauge family with default dimensions and scrape-time timestamps."""
    layout_key = ("gauge", family.name)
    layouts = translator.cache.layouts
    layout = layouts.get(layout_key)
    values = laid_out_values(family.samples, layout) if layout is not None else None
    if layout is not None and values is not None and laid_out_gauges(translator, family, layout, values):
        return
    layout = gauge_layout(translator, family.samples)
    if layout is not None:
        values = list(map(_value, family.samples))  # finite, without exemplars: gauge_layout checked
        if laid_out_gauges(translator, family, layout, values):
            layouts[layout_key] = layout
            return
    for sample in family.samples:
        translator.gauge(sample, family)


def gauge_layout(translator: Translator, samples: Sequence[Sample]) -> FamilyLayout | None:
    """The layout of a gauge family's samples, or None when one is unusual: an exemplar, NaN
    or +-Inf, a label set that cannot be the dimensions, a series repeated."""
    by_id = translator.by_id
    seen_labels: list[Mapping[str, str]] = []
    seen_names: list[str] = []
    seen_sets: list[LabelSet] = []
    for name, labels, value, _, exemplar in samples:
        if exemplar is not None or value - value != 0.0:
            return None
        found = by_id.get(id(labels))
        label_set = found[1] if found is not None and found[0] is labels else translator.label_set(labels)
        if label_set.invalid:
            return None
        seen_labels.append(labels)
        seen_names.append(name)
        seen_sets.append(label_set)
    layout = family_layout(seen_labels, seen_names, seen_sets, [])
    if not layout.distinct_sets and len(set(zip(seen_names, seen_sets, strict=True))) != len(seen_names):
        return None
    return layout


def laid_out_gauges(translator: Translator, family: Family, layout: FamilyLayout, values: list[float]) -> bool:
    """A gauge family laid out as ``layout`` (``values`` in its order), column by column;
    False (nothing done) when a series' metric is taken in its group."""
    members = group_members(translator.groups, layout.label_sets, layout.names)
    if members is None:
        return False
    fill_groups(translator.groups, members, layout, values)
    translator.note_units(layout.distinct_names, family.unit, False)
    return True


def stateset_family(translator: Translator, family: Family) -> None:
    """Translate a stateset family: one gauge per state, its state label as ``state``."""
    for sample in family.samples:
        labels = sample.labels
        if family.name in labels and "state" not in labels:
            labels = {("state" if k == family.name else k): v for k, v in labels.items()}
        translator.gauge(sample, family, labels)
