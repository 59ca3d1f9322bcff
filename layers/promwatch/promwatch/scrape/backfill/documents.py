"""One chunk's series -> EMF documents, one per label set and period, as the live path groups them (pure).

Names, units, namespace, dimensions (``metric_declarations``, ``dimension_rollup_option``,
``log_only_labels``, escaping) and the documents themselves come from the live translation's
own :class:`promwatch.emf.translator.Translator`, one per target with the job's ``emf``
settings: each period's values go into its groups as a metric with its own timestamp would
(label set, timestamp, dimension sets), and :meth:`Translator.documents` writes them -- a label
named like a metric renamed ``<label>_label``, metric names CloudWatch refuses and groups too
large even alone dropped and counted, documents split to fit CloudWatch's limits. Series
sharing a label set and a period share a document.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from promwatch.emf import EmfSettings
from promwatch.emf.model import Distribution
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

    def all(self) -> list[Translator]:
        """Every translator made, one per target."""
        return list(self._by_target.values())


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
    out = ChunkDocuments([], 0, Counter(), classified.by_names)
    out.dropped["malformed"] += classified.malformed
    out.dropped["native_histogram"] += sum(t >= chunk_start_ms for entry in series for t in entry.native)

    def publish(name: str, labels: dict[str, str], values: Mapping[int, float | Distribution], cumulative: bool) -> None:
        """Into the target translator's groups, one per (label set, period, dimension sets), as
        :meth:`Translator.custom_group` keys them: :meth:`Translator.documents` then writes them."""
        if not values:
            return
        translator = targets.translator(labels)
        label_set = translator.label_set_by_content(labels)
        sets = translator.dimension_sets(name, label_set)
        if isinstance(sets, str):
            out.dropped[sets] += len(values)
            return
        if name not in translator.units:
            translator.units[name] = translator.naming.unit_and_resolution(name, "", cumulative)
        for period, value in values.items():
            key = (label_set, period, sets)
            metrics = translator.groups.get(key)
            if metrics is None:
                metrics = translator.groups[key] = {}
                translator.shapes[key] = (label_set, period, sets)
            elif name in metrics:
                out.dropped["duplicate_series"] += 1
                continue
            metrics[name] = value

    for counter in classified.counters:
        sums, skipped = counter_periods(counter.samples, counter.labels, context)
        out.dropped["non_finite"] += skipped
        publish(counter.name, counter.labels, sums, True)
    for gauge in classified.gauges:
        sets, skipped = gauge_periods(gauge.samples, context)
        out.dropped["non_finite"] += skipped
        publish(gauge.name, gauge.labels, sets, False)
    for histogram in classified.histograms:
        distributions, malformed = histogram_periods(histogram, context)
        out.dropped["malformed"] += malformed
        publish(histogram.name, histogram.labels, distributions, False)
    documents: list[dict[str, Any]] = []
    for translator in targets.all():
        documents += translator.documents()  # invalid metric names and too-large groups dropped there
        too_large = sum(1 for drop in translator.dropped if drop.reason == "too_large")
        out.points += sum(len(metrics) for metrics in translator.groups.values()) - too_large
        out.dropped.update(drop.reason for drop in translator.dropped)
    out.documents = sorted(documents, key=lambda document: int(document["_aws"]["Timestamp"]))
    out.dropped = Counter({reason: n for reason, n in out.dropped.items() if n})
    return out


def _target_times(classified: Classified) -> TargetTimes:
    plain = [(s.labels, (t for t, _ in s.samples)) for s in (*classified.counters, *classified.gauges)]
    buckets = [(h.labels, h.times()) for h in classified.histograms]
    return TargetTimes([*plain, *buckets])
