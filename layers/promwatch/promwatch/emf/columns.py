"""Warm scrapes column by column: a family laid out as on the previous scrape skips the per-sample loop.

A target's page repeats its layout from scrape to scrape: the same series in the same order,
only the values move. The translator's per-sample pass over a plain counter, gauge or classic
histogram family records the family's layout (:class:`FamilyLayout`: each sample's name, label
mapping, label set and baseline key; :class:`HistogramLayout`: where each series' buckets,
``_sum`` and ``_count`` are) when every sample took the usual path. On a later scrape, a
family with the same layout (compared by content; the parser hands out the same mappings, so
it is mostly an identity check) is translated by C-level passes over its columns -- values,
increases, the groups' members -- and, for histograms, each series' numbers taken by position
instead of being collected sample by sample.

These functions change nothing and answer None (or False) when anything in this scrape is
unusual -- a different layout, an exemplar, NaN or +-Inf, a group member or baseline already
taken -- and the per-sample pass then runs as it always does. The rules themselves (a
counter's increase, a group's members) have one home each, which both passes call. So the
output is the same either way (``tests/unit/test_emf_columns.py`` compares them through
:func:`promwatch.emf.translate` on pages built to hit each case and on random ones).
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from operator import contains, ge, is_, itemgetter, setitem
from typing import Any, NamedTuple, cast

from promwatch.emf.labels import LabelSet
from promwatch.exposition.model import Family, Sample
from promwatch.state.model import CounterBaseline

_name, _labels, _value, _exemplar = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(4)
_new_tuple = tuple.__new__
_NO_GROUP: dict[str, Any] = {}  # stands for a group not made yet; never written to


class FamilyLayout(NamedTuple):
    """One family's samples as the per-sample pass saw them, in order.

    Attributes
    ----------
    labels, names
        Each sample's label mapping and name.
    label_sets
        Each sample's :class:`LabelSet` (every one valid as a default dimension set).
    keys
        Each sample's baseline key (counters; empty for gauges).
    distinct_names
        The names, each once (their units are looked up once per scrape).
    distinct_sets
        Whether no two samples share a label set.
    """

    labels: list[Mapping[str, str]]
    names: list[str]
    label_sets: list[LabelSet]
    keys: list[str]
    distinct_names: tuple[str, ...]
    distinct_sets: bool


def family_layout(
    labels: list[Mapping[str, str]], names: list[str], label_sets: list[LabelSet], keys: list[str]
) -> FamilyLayout:
    """The :class:`FamilyLayout` of the samples the per-sample pass translated."""
    distinct_sets = len(set(label_sets)) == len(label_sets)
    return FamilyLayout(labels, names, label_sets, keys, tuple(dict.fromkeys(names)), distinct_sets)


HistogramSeriesLayout = tuple[LabelSet, Callable[[list[float]], tuple[float, ...]], tuple[float, ...], int, int]
"""A histogram series' label set, getter of its cumulative counts, finite bounds, _sum and _count positions."""


class HistogramLayout(NamedTuple):
    """A classic histogram family's samples as the per-sample pass saw them.

    Attributes
    ----------
    labels, names
        Each sample's label mapping and name, in order.
    series
        Per series, in order: its label set, a getter of its cumulative bucket counts (``+Inf``
        last) from the family's values, its finite bounds, and where its ``_sum`` and
        ``_count`` are among the values.
    """

    labels: list[Mapping[str, str]]
    names: list[str]
    series: list[HistogramSeriesLayout]


def histogram_layout(
    family: Family,
    bucket_cache: Mapping[int, tuple[Mapping[str, str], LabelSet, float]],
    label_set_of: Callable[[Mapping[str, str]], LabelSet],
) -> HistogramLayout | None:
    """The layout of a classic histogram family the per-sample pass has just collected, when
    every series has two or more buckets in ascending order (``+Inf`` last, no ``-Inf``), then
    a ``_sum`` and a ``_count``, and the family has no other sample (no ``_created``); None
    otherwise. ``bucket_cache`` and ``label_set_of`` are the translator's
    (a bucket's mapping -> its series' label set and bound; a mapping -> its label set)."""
    name = family.name
    bucket_name, sum_name, count_name = name + "_bucket", name + "_sum", name + "_count"
    positions: dict[LabelSet, list[Any]] = {}  # label set -> [bucket positions, bounds, _sum at, _count at]
    for at, (sample_name, labels, *_) in enumerate(family.samples):
        if sample_name == bucket_name:
            found = bucket_cache.get(id(labels))
            if found is None or found[0] is not labels:
                return None
            slot = positions.get(found[1])
            if slot is None:
                slot = positions[found[1]] = [[], [], None, None]
            slot[0].append(at)
            slot[1].append(found[2])
        else:
            field = 2 if sample_name == sum_name else 3 if sample_name == count_name else 0
            slot = positions.get(label_set_of(labels)) if field else None
            if slot is None:  # another sample, or a _sum/_count ahead of its buckets
                return None
            slot[field] = at  # a repeated one: the last counts, as in the per-sample pass
    laid_out: list[HistogramSeriesLayout] = []
    for label_set, (buckets_at, bounds, sum_at, count_at) in positions.items():
        finite = tuple(bounds[:-1])
        if (
            sum_at is None or count_at is None or len(bounds) < 2 or bounds[-1] != math.inf
            or finite[0] == -math.inf or any(map(ge, finite, finite[1:]))
        ):
            return None
        buckets_of = cast(Callable[[list[float]], tuple[float, ...]], itemgetter(*buckets_at))  # 2+: a tuple
        laid_out.append((label_set, buckets_of, finite, sum_at, count_at))
    return HistogramLayout(list(map(_labels, family.samples)), list(map(_name, family.samples)), laid_out)


def laid_out_values(samples: Sequence[Sample], layout: FamilyLayout | HistogramLayout) -> list[float] | None:
    """The samples' values when they are laid out as ``layout`` says, carry no exemplar and
    are all finite; None otherwise."""
    if len(samples) != len(layout.labels):
        return None
    if list(map(_labels, samples)) != layout.labels or list(map(_name, samples)) != layout.names:
        return None
    if any(map(_exemplar, samples)):
        return None
    values = list(map(_value, samples))
    total = sum(values)
    if total - total != 0.0:  # a NaN or +-Inf among them (or a sum overflowing: the per-sample pass decides)
        return None
    return values


def record_baselines(counters: dict[str, CounterBaseline], keys: list[str], values: list[float]) -> None:
    """Record ``values`` as the baselines (without ``_created``) under ``keys``, none of them
    taken (the caller checked)."""
    baselines = map(_new_tuple, repeat(CounterBaseline), zip(values, repeat(None), repeat(None), strict=False))
    counters.update(zip(keys, baselines, strict=True))


def group_members(groups: dict[Any, dict[str, Any]], label_sets: list[LabelSet], names: list[str]) -> list[Any] | None:
    """Each sample's group (a placeholder where none is made yet), or None when a group has the
    sample's name already (a duplicate series: the per-sample pass reports it)."""
    members = list(map(groups.get, label_sets, repeat(_NO_GROUP)))
    if any(map(contains, members, names)):
        return None
    return members


def fill_groups(groups: dict[Any, dict[str, Any]], members: list[Any], layout: FamilyLayout, values: Sequence[Any]) -> None:
    """Put each value in its group (``members``, from :func:`group_members`) under its name,
    making the groups not made yet in sample order, as the per-sample pass does."""
    label_sets, names = layout.label_sets, layout.names
    if layout.distinct_sets and all(map(is_, members, repeat(_NO_GROUP))):
        # the family's first in each group (a page's first family of its label sets)
        singles = map(dict, zip(zip(names, values, strict=True), strict=True))  # {name: value} each
        groups.update(zip(label_sets, singles, strict=True))
        return
    if any(map(is_, members, repeat(_NO_GROUP))):
        for at, group in enumerate(members):
            if group is _NO_GROUP:
                label_set = label_sets[at]
                group = groups.get(label_set)  # made for an earlier sample of this family
                if group is None:
                    group = groups[label_set] = {}
                members[at] = group
    deque(map(setitem, members, names, values), maxlen=0)
