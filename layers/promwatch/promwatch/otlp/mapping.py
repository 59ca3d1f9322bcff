"""One scrape of one target -> an OTLP ``ResourceMetrics`` (pure).

As the OpenTelemetry specification's "Prometheus and OpenMetrics Compatibility" describes it
(https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/):

- counter -> monotonic cumulative Sum; gauge and unknown -> Gauge; classic histogram ->
  explicit-bucket cumulative Histogram (bounds from ``le`` without ``+Inf``, counts
  de-cumulated; a series without ``_count`` is dropped, without ``_sum`` has no sum);
  summary -> Summary (sum 0 when ``_sum`` is missing); info and stateset -> non-monotonic
  cumulative Sum; gaugehistogram -> dropped (the spec drops it).
- Names, label names and values are kept as exposed (UTF-8); HELP is the description, the
  OpenMetrics unit the unit; ``prometheus.type`` goes in the metric's metadata.
- ``job`` / ``instance`` become the resource's ``service.name`` (``service.namespace`` the part
  before a ``/``) and ``service.instance.id``, with ``server.address``, ``server.port`` and
  ``url.scheme`` from the scraped URL; the labels of ``target_info`` are resource attributes
  too (the family itself is dropped). Other target labels stay data point attributes.
- ``otel_scope_name`` / ``otel_scope_version`` labels pick the instrumentation scope (the
  attributes of ``otel_scope_info`` go on it); other points are promwatch's scope.
- Exemplars keep their value and timestamp; ``trace_id`` / ``span_id`` labels (hex of 16 and 8
  bytes) become the ids, the other labels the filtered attributes.
- Start times: :mod:`promwatch.otlp.starts`.

Dropped and counted, never silently: NaN values (``otlp_nan``), staleness markers
(``otlp_stale``), points with more labels than :data:`~promwatch.limits.OTLP_MAX_LABELS_PER_DATA_POINT`
(``otlp_label_limit``), summaries without ``_count`` or with a count that is not a whole number,
histograms that break the rules the EMF output applies too (:mod:`promwatch.exposition.classic`:
``+Inf`` other than ``_count``, counts that are not whole or go down, ...): ``otlp_malformed``;
gauge histograms (``otlp_unsupported_type``).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.metrics.v1 import metrics_pb2 as pb

from promwatch.exposition.classic import HistogramProblem
from promwatch.exposition.model import Family, Sample
from promwatch.limits import OTLP_MAX_LABELS_PER_DATA_POINT
from promwatch.otlp.attributes import (
    ScrapeTarget,
    add_attributes,
    add_typed_attributes,
    fill_exemplar,
    is_stale,
    otel_unit,
    resource_attributes,
)
from promwatch.otlp.series import Series, bucket_counts, is_count
from promwatch.otlp.starts import StartTracker
from promwatch.state.model import StartTime

SCOPE_NAME = "promwatch"
"""The instrumentation scope of points that name none (the translator, as the spec asks)."""
CUMULATIVE = pb.AGGREGATION_TEMPORALITY_CUMULATIVE

_TARGET_INFO = ("target", "target_info")
_SCOPE_INFO = ("otel_scope", "otel_scope_info")
_INFO_LIKE = ("info", "gauge", "unknown")


def pop_scope(labels: dict[str, str]) -> tuple[str, str]:
    """The instrumentation scope (name, version) a series' ``otel_scope_name`` and
    ``otel_scope_version`` labels name, taken out of ``labels``; promwatch's without them."""
    return labels.pop("otel_scope_name", SCOPE_NAME), labels.pop("otel_scope_version", "")


@dataclass(slots=True)
class OtlpTranslation:
    """What :func:`to_resource_metrics` returns.

    Attributes
    ----------
    resource_metrics
        The target's resource, scopes and metrics.
    starts
        Start times to store (see :class:`promwatch.state.StartTime`).
    points
        Data points in ``resource_metrics``.
    dropped
        Samples dropped, per reason.
    created_after_time
        Points whose ``_created`` was later than their time: sent with the first-seen start
        instead (:mod:`promwatch.otlp.starts`).
    """

    resource_metrics: pb.ResourceMetrics
    starts: dict[str, StartTime]
    points: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    created_after_time: int = 0


def _value_problem(value: float) -> str | None:
    if math.isnan(value):
        return "otlp_stale" if is_stale(value) else "otlp_nan"
    return None


class _Scopes:
    """The resource's metrics by instrumentation scope and name, in the order first met, built
    in place inside ``out`` (a message appended elsewhere would be copied)."""

    def __init__(self, out: pb.ResourceMetrics) -> None:
        self.out = out
        self.scopes: dict[tuple[str, str], tuple[pb.ScopeMetrics, dict[str, pb.Metric]]] = {}

    def metric(self, scope: tuple[str, str], name: str, family: Family) -> pb.Metric:
        entry = self.scopes.get(scope)
        if entry is None:
            scope_metrics = self.out.scope_metrics.add()
            scope_metrics.scope.name, scope_metrics.scope.version = scope
            entry = self.scopes[scope] = (scope_metrics, {})
        metric = entry[1].get(name)
        if metric is None:
            metric = entry[1][name] = entry[0].metrics.add(name=name, description=family.help,
                                                           unit=otel_unit(family.unit))
            metric.metadata.add(key="prometheus.type").value.string_value = family.type
        return metric


class _Mapper:
    """The state of one target's translation (see :func:`to_resource_metrics`)."""

    def __init__(self, target: ScrapeTarget, now_ms: int, starts: StartTracker, extra_attributes: int,
                 out: pb.ResourceMetrics) -> None:
        self.target = target
        self.now_nanos = now_ms * 1_000_000
        self.starts = starts
        self.scopes = _Scopes(out)
        self.dropped: Counter[str] = Counter()
        self.points = 0
        self.label_budget = OTLP_MAX_LABELS_PER_DATA_POINT - extra_attributes
        self.resource_keys = {"job": target.job, "instance": target.instance}
        self.seen: set[tuple[Any, ...]] = set()

    def first(self, scope: tuple[str, str], name: str, attributes: Mapping[str, str], time: int,
              samples: int = 1) -> bool:
        """Whether this is the first point of the series at ``time``; a repeat (the page
        exposes the series twice) is counted as ``duplicate_series``, as EMF does, and not sent."""
        key = (scope, name, time, frozenset(attributes.items()))
        if key in self.seen:
            self.dropped["duplicate_series"] += samples
            return False
        self.seen.add(key)
        return True

    def labels(self, own: Mapping[str, str], *skip: str) -> tuple[tuple[str, str], dict[str, str]]:
        """The point's scope and attributes: its labels plus the target's, less job/instance
        (on the resource), the scope labels and ``skip``."""
        merged = {**self.target.labels, **own}
        scope = pop_scope(merged)
        for key, value in self.resource_keys.items():
            if merged.get(key) == value:
                del merged[key]
        for key in skip:
            merged.pop(key, None)
        return scope, merged

    def time_nanos(self, timestamp: float | None) -> int:
        if timestamp is not None and self.target.honor_timestamps:
            return int(timestamp * 1e9)
        return self.now_nanos

    def fits(self, attributes: Mapping[str, str], samples: int = 1) -> bool:
        if len(attributes) > self.label_budget:
            self.dropped["otlp_label_limit"] += samples
            return False
        return True

    def number_points(self, family: Family, samples: Iterable[Sample], kind: str,
                      created: Mapping[tuple[tuple[str, str], ...], float], *, page: bool = True) -> None:
        """Gauge (``kind`` "gauge"), monotonic Sum ("counter") or non-monotonic Sum ("updown");
        ``page`` False for the scrape's own gauges (checked against each other only)."""
        seen = self.seen if page else set()
        for sample in samples:
            problem = _value_problem(sample.value)
            if problem:
                self.dropped[problem] += 1
                continue
            scope, attributes = self.labels(sample.labels)
            if not self.fits(attributes):
                continue
            time = self.time_nanos(sample.timestamp)
            key = (scope, sample.name, time, frozenset(attributes.items()))  # as in first(), inlined: per sample
            if key in seen:
                self.dropped["duplicate_series"] += 1
                continue
            seen.add(key)
            metric = self.scopes.metric(scope, sample.name, family)
            if kind == "gauge":
                point = metric.gauge.data_points.add(as_double=sample.value, time_unix_nano=time)
            else:
                container = metric.sum
                container.aggregation_temporality = CUMULATIVE
                container.is_monotonic = kind == "counter"
                start = time if kind != "counter" else self.starts.start_nanos(
                    sample.name, attributes, sample.value, created.get(_key(sample.labels)), time)
                point = container.data_points.add(as_double=sample.value, time_unix_nano=time,
                                                  start_time_unix_nano=start)
                if sample.exemplar is not None and kind == "counter":
                    fill_exemplar(point.exemplars.add(), sample.exemplar, time)
            add_attributes(point.attributes, attributes)
            self.points += 1

    def series_points(self, family: Family, created: Mapping[tuple[tuple[str, str], ...], float], split: str,
                      point: Callable[[Family, Series, float | None], None]) -> None:
        """A histogram's (``split`` "le") or summary's ("quantile") samples, grouped into series by
        their labels less ``split``, each mapped by ``point``."""
        series: dict[tuple[tuple[str, str], ...], Series] = {}
        for sample in family.samples:
            key = _key(sample.labels, split)
            entry = series.get(key)
            if entry is None:
                entry = series[key] = Series(sample.labels)
            entry.add(family.name, sample, split)
        for key, entry in series.items():
            entry.drop_repeated_buckets()
            if entry.duplicates:
                self.dropped["duplicate_series"] += entry.duplicates
            point(family, entry, created.get(key))

    def histogram_point(self, family: Family, entry: Series, created: float | None) -> None:
        samples = entry.samples
        problems = [p for p in map(_value_problem, entry.values()) if p]
        if problems:
            self.dropped[problems[0]] += samples
            return
        shape = bucket_counts(entry)
        if isinstance(shape, HistogramProblem):  # non_finite here is +-Inf (NaN was counted above)
            self.dropped["otlp_malformed"] += samples
            return
        finite, counts, count = shape
        scope, attributes = self.labels(entry.labels, "le")
        if not self.fits(attributes, samples):
            return
        time = self.time_nanos(entry.timestamp)
        if not self.first(scope, family.name, attributes, time, samples):
            return
        start = self.starts.start_nanos(family.name, attributes, count,
                                        entry.created if entry.created is not None else created, time)
        metric = self.scopes.metric(scope, family.name, family)
        metric.histogram.aggregation_temporality = CUMULATIVE
        point = metric.histogram.data_points.add(
            count=count, time_unix_nano=time, start_time_unix_nano=start,
            explicit_bounds=finite, bucket_counts=counts)
        if entry.sum is not None:
            point.sum = entry.sum
        add_attributes(point.attributes, attributes)
        for exemplar in entry.exemplars:
            fill_exemplar(point.exemplars.add(), exemplar, time)
        self.points += 1

    def summary_point(self, family: Family, entry: Series, created: float | None) -> None:
        if entry.count is None or (not math.isnan(entry.count) and not is_count(entry.count)):
            self.dropped["otlp_malformed"] += entry.samples
            return
        problem = _value_problem(entry.count) or (_value_problem(entry.sum) if entry.sum is not None else None)
        if problem:
            self.dropped[problem] += entry.samples
            return
        scope, attributes = self.labels(entry.labels, "quantile")
        if not self.fits(attributes, entry.samples):
            return
        time = self.time_nanos(entry.timestamp)
        if not self.first(scope, family.name, attributes, time, entry.samples):
            return
        start = self.starts.start_nanos(family.name, attributes, entry.count,
                                        entry.created if entry.created is not None else created, time)
        point = self.scopes.metric(scope, family.name, family).summary.data_points.add(
            count=int(entry.count), sum=entry.sum or 0.0, time_unix_nano=time, start_time_unix_nano=start)
        for quantile, value in sorted(entry.buckets):
            problem = _value_problem(value)
            if problem:
                self.dropped[problem] += 1  # no observations in the window: that quantile only
                continue
            point.quantile_values.add(quantile=quantile, value=value)
        add_attributes(point.attributes, attributes)
        self.points += 1


def _key(labels: Mapping[str, str], *skip: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k not in skip))


def _created_values(samples: Sequence[Sample], name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {_key(s.labels): s.value for s in samples if s.name == name and math.isfinite(s.value)}


def to_resource_metrics(
    families: Sequence[Family],
    *,
    target: ScrapeTarget,
    now_ms: int,
    previous_starts: Mapping[str, StartTime],
    scrape_gauges: Mapping[str, float] | None = None,
) -> OtlpTranslation:
    """Translate one scrape of one target (pure).

    Parameters
    ----------
    families
        The page's families after relabelling (``[]`` when the target is down).
    target
        Where the page came from.
    now_ms
        Scrape time (epoch ms): the points' time, unless timestamps are honoured.
    previous_starts
        The start times the last delivered scrape stored.
    scrape_gauges
        ``up`` and the other per-scrape metrics, sent as gauges.

    Returns
    -------
    OtlpTranslation
        The resource metrics, the start times to store, and what was dropped.
    """
    target_info = {k: v for f in families if f.name in _TARGET_INFO and f.type in _INFO_LIKE
                   for s in f.samples for k, v in s.labels.items()}
    resource = resource_attributes(target, target_info)
    starts = StartTracker(previous_starts, now_ms)
    out = pb.ResourceMetrics()
    add_typed_attributes(out.resource.attributes, resource)
    mapper = _Mapper(target, now_ms, starts, extra_attributes=len(resource), out=out)
    scope_attributes: dict[tuple[str, str], dict[str, str]] = {}
    cumulative = {f.name for f in families if f.type in ("histogram", "summary")}
    cumulative.update(f.name.removesuffix("_total") for f in families if f.type == "counter")
    external = {f.name[:-8]: _created_values(f.samples, f.name) for f in families
                if f.type in ("gauge", "unknown") and f.name.endswith("_created") and f.name[:-8] in cumulative}
    for family in families:
        kind = family.type
        if family.name in _TARGET_INFO and kind in _INFO_LIKE:
            continue
        if family.name in _SCOPE_INFO and kind in _INFO_LIKE:
            for sample in family.samples:
                labels = dict(sample.labels)
                scope = pop_scope(labels)
                scope_attributes.setdefault(scope, {}).update(labels)
            continue
        if kind == "counter":
            base = family.name.removesuffix("_total")
            created = {**external.get(base, {}), **_created_values(family.samples, base + "_created")}
            samples = [s for s in family.samples if s.name != base + "_created"]
            mapper.number_points(family, samples, "counter", created)
        elif kind == "histogram":
            mapper.series_points(family, external.get(family.name, {}), "le", mapper.histogram_point)
        elif kind == "summary":
            mapper.series_points(family, external.get(family.name, {}), "quantile", mapper.summary_point)
        elif kind in ("info", "stateset"):
            mapper.number_points(family, family.samples, "updown", {})
        elif kind == "gaugehistogram":
            mapper.dropped["otlp_unsupported_type"] += len(family.samples)
        elif family.name.endswith("_created") and family.name[:-8] in external:
            continue
        else:
            mapper.number_points(family, family.samples, "gauge", {})
    if scrape_gauges:
        scrape_family = Family("", "gauge", "", "", [])
        for name, value in scrape_gauges.items():
            mapper.number_points(scrape_family._replace(name=name), [Sample(name, {}, value)], "gauge", {},
                                 page=False)
    for scope, (scope_metrics, _) in mapper.scopes.scopes.items():
        add_attributes(scope_metrics.scope.attributes, scope_attributes.get(scope, {}))
    return OtlpTranslation(out, starts.stored(), mapper.points, mapper.dropped, starts.created_after_time)
