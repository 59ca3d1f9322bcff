"""Gauge-like families: gauges and unknowns (plain families inline, or column by column), statesets."""
from __future__ import annotations

from collections.abc import Mapping

from promwatch.emf.columns import FamilyLayout, family_layout, fill_groups, group_members, laid_out_values
from promwatch.emf.labels import LabelSet
from promwatch.emf.translator import Translator
from promwatch.exposition.model import Family


def plain_gauges(translator: Translator, family: Family) -> None:
    """:meth:`Translator.gauge` and :meth:`Translator.emit` of a gauge family's samples, inline, for the usual
    case: default dimensions, scrape-time timestamps (anything else goes through them).
    A family laid out as on the previous scrape goes column by column."""
    layout_key = ("gauge", family.name)
    layout = translator.cache.layouts.get(layout_key)
    if layout is not None and laid_out_gauges(translator, family, layout):
        return
    by_id, groups, units = translator.by_id, translator.groups, translator.units
    seen_labels: list[Mapping[str, str]] = []
    seen_names: list[str] = []
    seen_sets: list[LabelSet] = []
    usual = True
    for sample in family.samples:
        name, labels, value, _, exemplar = sample
        if exemplar is not None or value - value != 0.0:
            usual = False
            translator.gauge(sample, family)
            continue
        found = by_id.get(id(labels))
        label_set = found[1] if found is not None and found[0] is labels else translator.label_set(labels)
        seen_labels.append(labels)
        seen_names.append(name)
        seen_sets.append(label_set)
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
            units[name] = translator.naming.unit_and_resolution(name, family.unit, False)
        metrics[name] = value
    if usual:
        translator.cache.layouts[layout_key] = family_layout(seen_labels, seen_names, seen_sets, [])


def laid_out_gauges(translator: Translator, family: Family, layout: FamilyLayout) -> bool:
    """:func:`plain_gauges` column by column; False (nothing done) when this scrape's
    family is not laid out as ``layout`` or has anything unusual."""
    values = laid_out_values(family.samples, layout)
    if values is None:
        return False
    members = group_members(translator.groups, layout.label_sets, layout.names)
    if members is None:
        return False
    fill_groups(translator.groups, members, layout, values)
    translator.note_units(layout.distinct_names, family.unit, False)
    return True


def stateset_family(translator: Translator, family: Family) -> None:
    for sample in family.samples:
        labels = sample.labels
        if family.name in labels and "state" not in labels:
            labels = {("state" if k == family.name else k): v for k, v in labels.items()}
        translator.gauge(sample, family, labels)
