"""Events -> per (rule, group, period) distributions -> EMF metric groups (pure: no logging,
no process state; what it drops it hands back, for the shell to report).

Every metric of a rule becomes, for each group and period, the exact distribution of its
values over that group's events in that period: distinct values with their counts
(``Values``/``Counts``), identical values merged. CloudWatch's Sum, Average, Minimum,
Maximum, SampleCount and percentiles over the period then equal those statistics over the
events, and documents of separate batches for the same period add up exactly (CloudWatch
merges Values/Counts). The EMF timestamp is the period start, so a period's data lands in
that period whichever batch carried it.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from promwatch.emf import Distribution, Metric, MetricGroup, write
from promwatch.emf.identifiers import dimension_value_problem, escape_value
from promwatch.insights.model import PerformanceEvent
from promwatch.insights.rules import ROLLUP_RULE_MEMBER, CompiledRule

__all__ = ["DroppedGroup", "GroupKey", "Rollup", "rollup_documents"]

GroupKey = tuple[int, tuple[str, ...], int]
"""(rule index, dimension values, period start in epoch ms)."""
_new_tuple = tuple.__new__
_RULE_PERIOD_GROUP = itemgetter(0, 2, 1)  # output order of the groups: rule, period, values


class DroppedGroup(NamedTuple):
    """A group no document carries: one of its values is no CloudWatch dimension value."""

    rule: str
    values: tuple[str, ...]
    reason: str


def _published(values: tuple[str, ...]) -> tuple[str, ...] | str:
    """A group's dimension values as published (escaped as label values are, by
    :func:`promwatch.emf.identifiers.escape_value`), or why one of them cannot be."""
    published = tuple(map(escape_value, values))
    for value in published:
        problem = dimension_value_problem(value)
        if problem is not None:
            return problem
    return published


@dataclass
class Rollup:
    """Accumulates events into distributions; merge two with :meth:`merge`.

    Parameters
    ----------
    rules
        Compiled rules (:func:`promwatch.insights.rules.compile_rules`).

    Attributes
    ----------
    buckets
        ``GroupKey -> metric -> value -> count``.
    events
        Events added.
    unmatched
        Events whose Type no rule reads.
    """

    rules: tuple[CompiledRule, ...]
    buckets: dict[GroupKey, dict[str, dict[float, int]]] = field(default_factory=dict)
    events: int = 0
    unmatched: int = 0
    _by_type: dict[str, tuple[tuple[int, CompiledRule], ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        types = {name for rule in self.rules for name in rule.types}
        self._by_type = {
            name: tuple((index, rule) for index, rule in enumerate(self.rules) if name in rule.types)
            for name in types
        }

    def add(self, event: PerformanceEvent) -> None:
        """Count ``event`` into every rule that reads its Type."""
        self.events += 1
        matching = self._by_type.get(event.type)
        if not matching:
            self.unmatched += 1
            return
        fields = event.fields
        timestamp = event.timestamp_ms
        buckets = self.buckets
        for index, rule in matching:
            group: list[str] = []
            for reader in rule.readers:
                value = reader(event) or rule.missing_value
                if value is None:
                    break  # the event has no value for this dimension: not part of this rule
                group.append(value)
            else:
                key = (index, tuple(group), timestamp - timestamp % rule.period_ms)
                bucket = buckets.get(key)
                if bucket is None:
                    bucket = buckets[key] = {}
                for name, evaluate in rule.metrics:
                    number = evaluate(fields)
                    try:
                        if number is None or not math.isfinite(number):
                            continue
                    except OverflowError:  # a JSON integer beyond the float range is no value either
                        continue
                    counts = bucket.get(name)
                    if counts is None:
                        counts = bucket[name] = {}
                    counts[number] = counts.get(number, 0) + 1

    def add_all(self, events: Iterable[PerformanceEvent]) -> Rollup:
        """:meth:`add` every event; returns self."""
        for event in events:
            self.add(event)
        return self

    def merge(self, other: Rollup) -> Rollup:
        """Add ``other``'s distributions (same rules) into this one; returns self."""
        for key, metrics in other.buckets.items():
            bucket = self.buckets.setdefault(key, {})
            for name, counts in metrics.items():
                mine = bucket.setdefault(name, {})
                for value, count in counts.items():
                    mine[value] = mine.get(value, 0) + count
        self.events += other.events
        self.unmatched += other.unmatched
        return self

    def metric_groups(self) -> tuple[list[MetricGroup], list[DroppedGroup]]:
        """The EMF metric groups, in a deterministic order, and the groups dropped.

        Dimension values are escaped as label values are (a control or non-ASCII character
        as a backslash escape, :mod:`promwatch.emf.identifiers`); a group is dropped (and
        handed back, with the reason) when one is still no dimension value (only whitespace,
        or longer than 1024 characters once escaped).
        """
        groups: list[MetricGroup] = []
        dropped: list[DroppedGroup] = []
        published: dict[tuple[str, ...], tuple[str, ...] | str] = {}  # a group's values recur period after period
        # per rule, what its groups share (read-only): dimension sets, properties
        shared = [([list(rule.dimensions)], {ROLLUP_RULE_MEMBER: rule.name}) for rule in self.rules]
        new = _new_tuple
        for key in sorted(self.buckets, key=_RULE_PERIOD_GROUP):
            index, values, period_start = key
            metrics = self.buckets[key]
            if not any(metrics.values()):
                continue
            rule = self.rules[index]
            dimension_values = published.get(values)
            if dimension_values is None:
                dimension_values = published[values] = _published(values)
            if isinstance(dimension_values, str):
                dropped.append(DroppedGroup(rule.name, values, dimension_values))
                continue
            dimension_sets, properties = shared[index]
            units = rule.units
            groups.append(
                MetricGroup(
                    namespace=rule.namespace,
                    timestamp_ms=period_start,
                    dimensions=dict(zip(rule.dimensions, dimension_values, strict=True)),
                    dimension_sets=dimension_sets,
                    # Metric(name, distribution, unit) without its Python-level __new__
                    metrics=[
                        new(Metric, (name, _distribution(metrics[name]), units.get(name, "None"), 60))
                        for name, _ in rule.metrics
                        if metrics.get(name)
                    ],
                    properties=properties,
                )
            )
        return groups, dropped

    def documents(self) -> tuple[list[dict[str, Any]], list[DroppedGroup]]:
        """EMF documents of every group (split by the shared writer) and the groups dropped.

        The shell (:func:`promwatch.insights.pipeline.rollup_output`) calls it with the garbage
        collector paused, a performance measure: the many small objects made here are not
        walked over and over.
        """
        groups, dropped = self.metric_groups()
        return write(groups), dropped


def _distribution(counts: dict[float, int]) -> Distribution:
    values = sorted(counts)
    counted = tuple(map(float, map(counts.__getitem__, values)))
    return _new_tuple(Distribution, (tuple(values), counted, None, None, None))  # Distribution(values, counted)


def rollup_documents(events: Iterable[PerformanceEvent], rules: tuple[CompiledRule, ...]) -> list[dict[str, Any]]:
    """The EMF documents for ``events`` under ``rules`` (the pure core in one call; the groups
    it drops are left out, unreported)."""
    documents, _ = Rollup(rules).add_all(events).documents()
    return documents
