"""One chunk's series -> EMF documents, one per label set and period, as the live path groups them (pure).

Names, units, namespace, dimensions (``metric_declarations``, ``dimension_rollup_option``,
``log_only_labels``, escaping) come from the live translation's own
:class:`promwatch.emf.translator.Translator`, built for each target with the job's ``emf``
settings; the documents from the shared EMF writer (:func:`promwatch.emf.write`), which splits
them to fit CloudWatch's limits. Series sharing a label set and a period share a document.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from promwatch.emf import EmfSettings, metric_name_problem, write
from promwatch.emf.model import Distribution, Metric, MetricGroup
from promwatch.emf.target import TargetInfo
from promwatch.emf.translator import Translator
from promwatch.scrape.backfill.periods import (
    PeriodContext,
    TargetTimes,
    counter_periods,
    gauge_periods,
    histogram_periods,
)
from promwatch.scrape.backfill.series import Classified, classify
from promwatch.scrape.backfill.source import Series

__all__ = ["ChunkDocuments", "chunk_documents"]


@dataclass(slots=True)
class ChunkDocuments:
    """What one chunk makes: its documents, data points (metric values per period) and drops by reason."""

    documents: list[dict[str, Any]]
    points: int
    dropped: Counter[str] = field(default_factory=Counter)
    typed_by_names: set[str] = field(default_factory=set)


class _Targets:
    """A :class:`Translator` per target: what the live path would have used to name and dimension its series."""

    def __init__(self, settings: EmfSettings, job: str | None, now_ms: int) -> None:
        self.settings, self.job, self.now_ms = settings, job, now_ms
        self._by_target: dict[tuple[str, str], Translator] = {}

    def translator(self, labels: dict[str, str]) -> Translator:
        job = self.job or labels.get("job") or "prometheus"
        key = (job, labels.get("instance", ""))
        found = self._by_target.get(key)
        if found is None:
            target = TargetInfo(job=job, instance=key[1])
            found = self._by_target[key] = Translator(target, None, self.settings, self.now_ms)
        return found


def chunk_documents(
    series: Sequence[Series],
    types: dict[str, str],
    *,
    chunk_start_ms: int,
    step_ms: int,
    history_ms: int,
    settings: EmfSettings,
    job: str | None,
    now_ms: int,
) -> ChunkDocuments:
    """EMF documents of the periods of one chunk.

    Parameters
    ----------
    series
        Raw samples from ``chunk_start_ms - history_ms`` to the chunk's end (exclusive); the
        samples before ``chunk_start_ms`` only serve as previous scrapes.
    types
        Family name -> Prometheus type (``/api/v1/metadata``); families it lacks are typed by
        their names (:mod:`promwatch.scrape.backfill.series`).
    chunk_start_ms, step_ms, history_ms
        The chunk's first period, the period, and how far back a previous scrape is looked for.
    settings
        The job's ``emf:`` section (defaults when no job is named).
    job
        The job whose namespace and settings apply; None: each series' own ``job`` label names
        its default namespace.
    now_ms
        The caller's clock (the translator's reference for timestamps).
    """
    classified = classify(series, types)
    context = PeriodContext(chunk_start_ms, step_ms, history_ms, _target_times(classified))
    targets = _Targets(settings, job, now_ms)
    groups: dict[tuple[Any, ...], MetricGroup] = {}
    out = ChunkDocuments([], 0, Counter(), classified.by_names)
    out.dropped["malformed"] += classified.malformed

    def publish(name: str, labels: dict[str, str], values: dict[int, Any], cumulative: bool) -> None:
        if not values:
            return
        translator = targets.translator(labels)
        if metric_name_problem(name) is not None:
            out.dropped["invalid_metric_name"] += len(values)
            return
        label_set = translator.label_set_by_content(labels)
        sets = translator.dimension_sets(name, label_set)
        if isinstance(sets, str):
            out.dropped[sets] += len(values)
            return
        unit, resolution = translator.naming.unit_and_resolution(name, "", cumulative)
        for period, value in values.items():
            key = (translator.namespace, period, label_set, sets)
            group = groups.get(key)
            if group is None:
                group = groups[key] = MetricGroup(translator.namespace, period, label_set.values, sets)
            if any(metric.name == name for metric in group.metrics):
                out.dropped["duplicate_series"] += 1
                continue
            group.metrics.append(Metric(name, value, unit, resolution))
            out.points += 1

    for counter in classified.counters:
        sums, skipped = counter_periods(counter.samples, counter.labels, context)
        out.dropped["non_finite"] += skipped
        publish(counter.name, counter.labels, sums, True)
    for gauge in classified.gauges:
        sets: dict[int, Distribution]
        sets, skipped = gauge_periods(gauge.samples, context)
        out.dropped["non_finite"] += skipped
        publish(gauge.name, gauge.labels, sets, False)
    for histogram in classified.histograms:
        distributions, malformed = histogram_periods(histogram, context)
        out.dropped["malformed"] += malformed
        publish(histogram.name, histogram.labels, distributions, False)
    out.documents = write(sorted(groups.values(), key=lambda group: group.timestamp_ms))
    out.dropped = Counter({reason: n for reason, n in out.dropped.items() if n})
    return out


def _target_times(classified: Classified) -> TargetTimes:
    plain = [(s.labels, (t for t, _ in s.samples)) for s in (*classified.counters, *classified.gauges)]
    buckets = [(h.labels, h.times()) for h in classified.histograms]
    return TargetTimes([*plain, *buckets])
