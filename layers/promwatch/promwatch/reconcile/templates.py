"""Generated dashboards and alarms: per scrape job, packs, Container Insights, promwatch's health (pure).

Each function returns spec models, so generated resources are validated, rendered, planned and
owned exactly like written ones. A job's metrics live in the namespace of its ``job_name``
with the series' labels plus ``job`` and ``instance`` as dimensions; since the full dimension
set of a series is not known in advance, graphs search by namespace and metric name
(``match: any``).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from promwatch.emf.identifiers import escape_value
from promwatch.limits import DASHBOARD_MAX_WIDGETS
from promwatch.reconcile import templates_promql as promql
from promwatch.reconcile.spec import Actions, AlarmSpec, DashboardSpec, MetricSpec, WidgetSpec
from promwatch.selfmetrics import SELF_NAMESPACE

__all__ = [
    "QueryLanguage",
    "dashboard_for_families",
    "health_dashboard",
    "insights_dashboard",
    "node_exporter_dashboard",
    "nodejs_dashboard",
    "series_budget_alarm",
    "slug",
    "up_alarm",
]

QueryLanguage = Literal["metrics", "promql"]
"""How a job pack reads the job: ``metrics`` (classic CloudWatch metrics written as EMF, in the
job's namespace) or ``promql`` (OpenTelemetry metrics sent over OTLP, queried with PromQL)."""

PERCENTILES = ("p50", "p90", "p99")
SERIES_BUDGET_ALARM_RATIO = 0.8
"""The series budget alarm fires when a target of the job publishes this share of ``max_series``."""
SERIES_BUDGET_ALARM_PERIOD = 300
"""Seconds: long enough to hold a scrape of a job scraped every 5 minutes."""


def slug(text: str) -> str:
    """``prod/task-service`` -> ``prod-task-service`` (a valid part of a resource name)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "job"


def _metric(namespace: str, name: str, stat: str, label: str | None = None, **dims: str) -> MetricSpec:
    return MetricSpec(namespace=namespace, name=name, stat=stat, label=label, dimensions=dims, match="any")


def _graph(title: str, metrics: Sequence[MetricSpec], **options: Any) -> WidgetSpec:
    return WidgetSpec(title=title, metrics=list(metrics), **options)


def _family_widget(namespace: str, name: str, family_type: str) -> WidgetSpec | None:
    if family_type in ("histogram", "gaugehistogram"):
        return _graph(f"{name} (p50/p90/p99)", [_metric(namespace, name, p, p) for p in PERCENTILES])
    if family_type == "counter":
        metric = name if name.endswith("_total") else f"{name}_total"
        return _graph(f"{metric} (increase)", [_metric(namespace, metric, "Sum")])
    if family_type == "summary":
        return _graph(f"{name} (quantiles)", [_metric(namespace, name, "Average")])
    if family_type in ("gauge", "unknown", "stateset"):
        return _graph(name, [_metric(namespace, name, "Average")])
    return None  # info families carry labels, not values worth a graph


def dashboard_for_families(
    job: str,
    families: Sequence[tuple[str, str]],
    *,
    namespace: str | None = None,
    name: str | None = None,
    period: int = 60,
    query_language: QueryLanguage = "metrics",
) -> list[DashboardSpec]:
    """A dashboard of everything a scrape job exposes: gauges as lines, counter increases as
    sums, histograms as p50/p90/p99.

    Parameters
    ----------
    job
        The scrape job's ``job_name``.
    families
        ``(family name, family type)`` pairs, e.g. from :func:`promwatch.exposition.parse`.
    namespace
        Where the job's metrics are (default: the job name).
    name
        Dashboard name (default ``<job slug>-metrics``).
    period
        Graph period in seconds.
    query_language
        ``promql`` draws PromQL charts of the job's OTLP metrics (:mod:`.templates_promql`).

    Returns
    -------
    list of DashboardSpec
        One dashboard, or several (``-2``, ``-3`` ...) when the families need more widgets
        than a dashboard holds.
    """
    namespace = namespace or job
    base = name or f"{slug(job)}-metrics"
    by_metric: dict[str, WidgetSpec] = {}
    # Typed families first: a text-format "foo_total" left untyped yields to counter "foo".
    for family, family_type in sorted(set(families), key=lambda f: (f[1] == "unknown", f[0])):
        if query_language == "promql":
            widget = promql.family_chart(job, family, family_type)
            key = widget.title or family if widget else family
        else:
            widget = _family_widget(namespace, family, family_type)
            key = widget.metrics[0].name if widget else family
        if widget is not None:
            by_metric.setdefault(key, widget)
    widgets = [by_metric[metric] for metric in sorted(by_metric)]
    per_dashboard = DASHBOARD_MAX_WIDGETS - 2  # room for the header and the ownership marker
    chunks = [widgets[i : i + per_dashboard] for i in range(0, len(widgets), per_dashboard)] or [[]]
    dashboards = []
    for index, chunk in enumerate(chunks, start=1):
        where = "OpenTelemetry metrics, PromQL" if query_language == "promql" else f"namespace `{namespace}`"
        header = WidgetSpec(markdown=f"## {job}\nGenerated from the {len(families)} metric families the job "
                                     f"exposes ({where}).")
        dashboards.append(DashboardSpec(name=base if index == 1 else f"{base}-{index}", period=period,
                                        widgets=[header, *chunk]))
    return dashboards


def up_alarm(job: str, *, namespace: str | None = None, actions: Actions | None = None,
             query_language: QueryLanguage = "metrics") -> AlarmSpec:
    """The ``up`` alarm of a scrape job: minimum of ``up`` below 1 for 3 minutes, missing data breaching.

    A Metrics Insights query takes the minimum over every target of the job whatever its
    dimension set, so one alarm covers a job of any number of instances, and a job that stops
    reporting at all alarms too. With ``query_language="promql"`` it is a PromQL alarm on
    ``up == 0`` (or ``up`` absent) with a 3-minute pending period.
    """
    description = f"A target of scrape job {job} is down or stopped reporting (promwatch)."
    if query_language == "promql":
        return promql.up_alarm(job, name=f"{slug(job)}-up", description=description, actions=actions or Actions())
    namespace = namespace or job
    query = f"SELECT MIN(up) FROM \"{namespace}\" WHERE job = '{escape_value(job)}'"  # the job dimension as published
    return AlarmSpec(
        name=f"{slug(job)}-up",
        description=description,
        expression=query, label=f"{job} up", period=60, evaluation_periods=3, comparison="<", threshold=1,
        treat_missing_data="breaching", actions=actions or Actions(),
    )


def series_budget_alarm(job: str, max_series: int, *, actions: Actions | None = None) -> AlarmSpec:
    """The series budget alarm of a scrape job with ``max_series``: a target of the job published
    80% of its budget (the Maximum of the ``ActiveSeries`` self-metric, one value per target).

    Before the budget is full, while nothing is withheld yet: time to find the label that
    explodes (``DroppedSamples{Reason=series_budget}`` counts what is withheld once it is).
    A Metrics Insights query, so the alarm holds whatever the self-metrics' ``Stage``
    dimension; no data (a job not scraped) is not breaching: the ``up`` alarm covers that.
    Self-metrics are classic CloudWatch metrics whatever the job's output, so there is no
    PromQL form.
    """
    threshold = SERIES_BUDGET_ALARM_RATIO * max_series
    query = (f"SELECT MAX(ActiveSeries) FROM \"{SELF_NAMESPACE}\" "
             f"WHERE Component = 'scrape' AND job = '{escape_value(job)}'")
    return AlarmSpec(
        name=f"{slug(job)}-series-budget",
        description=(f"A target of scrape job {job} publishes {threshold:g} series or more, "
                     f"{SERIES_BUDGET_ALARM_RATIO:.0%} of its max_series {max_series}; beyond the budget new series "
                     "are withheld (promwatch)."),
        expression=query, label=f"{job} active series", period=SERIES_BUDGET_ALARM_PERIOD, evaluation_periods=1,
        comparison=">=", threshold=threshold, treat_missing_data="notBreaching", actions=actions or Actions(),
    )


def _pack_dashboard(suffix: str, views: tuple[Callable[[str], list[WidgetSpec]], Callable[[str], list[WidgetSpec]]],
                    job: str, namespace: str | None, name: str | None, period: int,
                    query_language: QueryLanguage) -> DashboardSpec:
    """A pack's dashboard, named ``<job>-<suffix>`` unless ``name`` is given: its views of the
    EMF metrics in ``namespace`` (default: the job), or in PromQL over the job's OTLP metrics."""
    metrics, promql = views
    widgets = promql(job) if query_language == "promql" else metrics(namespace or job)
    return DashboardSpec(name=name or f"{slug(job)}-{suffix}", period=period, widgets=widgets)


def nodejs_dashboard(job: str, *, namespace: str | None = None, name: str | None = None,
                     period: int = 60, query_language: QueryLanguage = "metrics") -> DashboardSpec:
    """prom-client's default metrics and prometheus-api-metrics' HTTP metrics of a Node.js job."""
    return _pack_dashboard("nodejs", (_nodejs_metrics, _nodejs_promql), job, namespace, name, period, query_language)


def _nodejs_metrics(ns: str) -> list[WidgetSpec]:
    return [
        _graph("Request latency", [_metric(ns, "http_request_duration_seconds", p, p) for p in PERCENTILES]),
        # prometheus-api-metrics exposes no request counter: a histogram's SampleCount is the count.
        _graph("Requests", [_metric(ns, "http_request_duration_seconds", "SampleCount", "requests")]),
        _graph("Heap used by space", [_metric(ns, "nodejs_heap_space_size_used_bytes", "Average")]),
        _graph("Heap used / total", [_metric(ns, "nodejs_heap_size_used_bytes", "Average", "used"),
                                     _metric(ns, "nodejs_heap_size_total_bytes", "Average", "total")]),
        _graph("Event loop lag p99", [_metric(ns, "nodejs_eventloop_lag_p99_seconds", "Maximum")]),
        _graph("GC duration", [_metric(ns, "nodejs_gc_duration_seconds", p, p) for p in PERCENTILES]),
        _graph("CPU seconds", [_metric(ns, "process_cpu_user_seconds_total", "Sum", "user"),
                               _metric(ns, "process_cpu_system_seconds_total", "Sum", "system")], stacked=True),
        _graph("Resident memory", [_metric(ns, "process_resident_memory_bytes", "Average")]),
        _graph("Active handles / requests", [_metric(ns, "nodejs_active_handles_total", "Average", "handles"),
                                             _metric(ns, "nodejs_active_requests_total", "Average", "requests")]),
        _graph("Open file descriptors", [_metric(ns, "process_open_fds", "Maximum")]),
    ]


def node_exporter_dashboard(job: str, *, namespace: str | None = None, name: str | None = None,
                            period: int = 60, query_language: QueryLanguage = "metrics") -> DashboardSpec:
    """The host view of a node_exporter job: CPU, load, memory, disk, network, filesystems."""
    views = (_node_exporter_metrics, _node_exporter_promql)
    return _pack_dashboard("node", views, job, namespace, name, period, query_language)


def _node_exporter_metrics(ns: str) -> list[WidgetSpec]:
    return [
        _graph("CPU seconds by mode", [_metric(ns, "node_cpu_seconds_total", "Sum")], stacked=True),
        _graph("Load", [_metric(ns, f"node_load{n}", "Average", f"load{n}") for n in (1, 5, 15)]),
        _graph("Memory available / total", [_metric(ns, "node_memory_MemAvailable_bytes", "Minimum", "available"),
                                            _metric(ns, "node_memory_MemTotal_bytes", "Maximum", "total")]),
        _graph("Filesystem free", [_metric(ns, "node_filesystem_avail_bytes", "Minimum")]),
        _graph("Disk bytes read / written", [_metric(ns, "node_disk_read_bytes_total", "Sum", "read"),
                                             _metric(ns, "node_disk_written_bytes_total", "Sum", "written")]),
        _graph("Network bytes in / out", [_metric(ns, "node_network_receive_bytes_total", "Sum", "in"),
                                          _metric(ns, "node_network_transmit_bytes_total", "Sum", "out")]),
    ]


def _nodejs_promql(job: str) -> list[WidgetSpec]:
    rate, gauge, chart = promql.counter_rate, promql.gauge, promql.chart
    return [
        chart("Request latency", promql.quantiles("http_request_duration_seconds", job)),
        chart("Requests per second", [(rate("http_request_duration_seconds_count", job), "requests")]),
        chart("Heap used by space", [(gauge("nodejs_heap_space_size_used_bytes", job, aggregate="sum",
                                            by=("space",)), None)]),
        chart("Heap used / total", [(gauge("nodejs_heap_size_used_bytes", job), "used"),
                                    (gauge("nodejs_heap_size_total_bytes", job), "total")]),
        chart("Event loop lag p99", [(gauge("nodejs_eventloop_lag_p99_seconds", job, aggregate="max"), None)]),
        chart("GC duration", promql.quantiles("nodejs_gc_duration_seconds", job)),
        chart("CPU seconds per second", [(rate("process_cpu_user_seconds_total", job), "user"),
                                         (rate("process_cpu_system_seconds_total", job), "system")]),
        chart("Resident memory", [(gauge("process_resident_memory_bytes", job), None)]),
        chart("Active handles / requests", [(gauge("nodejs_active_handles_total", job, aggregate="sum"), "handles"),
                                            (gauge("nodejs_active_requests_total", job, aggregate="sum"),
                                             "requests")]),
        chart("Open file descriptors", [(gauge("process_open_fds", job, aggregate="max"), None)]),
    ]


def _node_exporter_promql(job: str) -> list[WidgetSpec]:
    rate, gauge, chart = promql.counter_rate, promql.gauge, promql.chart
    return [
        chart("CPU seconds per second by mode", [(rate("node_cpu_seconds_total", job, by=("mode",)), None)]),
        chart("Load", [(gauge(f"node_load{n}", job), f"load{n}") for n in (1, 5, 15)]),
        chart("Memory available / total", [(gauge("node_memory_MemAvailable_bytes", job, aggregate="min"),
                                            "available"),
                                           (gauge("node_memory_MemTotal_bytes", job, aggregate="max"), "total")]),
        chart("Filesystem free", [(gauge("node_filesystem_avail_bytes", job, aggregate="min",
                                         by=("mountpoint",)), None)]),
        chart("Disk bytes per second read / written", [(rate("node_disk_read_bytes_total", job), "read"),
                                                       (rate("node_disk_written_bytes_total", job), "written")]),
        chart("Network bytes per second in / out", [(rate("node_network_receive_bytes_total", job), "in"),
                                                    (rate("node_network_transmit_bytes_total", job), "out")]),
    ]


def _dimension(entry: str) -> str:
    return entry[len("label:"):] if entry.startswith("label:") else entry


def insights_dashboard(rules: Mapping[str, Any], *, name: str = "container-insights-rollups") -> DashboardSpec:
    """The Container Insights roll-ups of a rules document (``config/insights.yaml``):
    a graph per rule and metric, Average and p90 across each group's pods/nodes."""
    namespace = str(rules.get("namespace") or "ContainerInsights/Rollups")
    default_period = int(rules.get("period") or 60)
    widgets: list[WidgetSpec] = [WidgetSpec(markdown=f"## Container Insights roll-ups\nNamespace `{namespace}`.")]
    for rule in rules.get("rules") or []:
        dims = {_dimension(str(g)): "*" for g in rule.get("group_by") or []}
        period = int(rule.get("period") or default_period)
        for metric in rule.get("metrics") or []:
            metrics = [MetricSpec(namespace=str(rule.get("namespace") or namespace), name=str(metric),
                                  dimensions=dims, stat=stat, label=stat) for stat in ("Average", "p90")]
            widgets.append(_graph(f"{rule.get('name')}: {metric}", metrics, period=period))
    return DashboardSpec(name=name, widgets=widgets[: DASHBOARD_MAX_WIDGETS - 1])


def health_dashboard(*, name: str = "health", dead_letter_queue: str | None = None) -> DashboardSpec:
    """promwatch's own health: scrape failures, dropped samples, parse errors, insights events,
    the fan-out dead-letter queue's depth and the drift the reconciler put back."""
    ns = SELF_NAMESPACE
    queue = MetricSpec(namespace="AWS/SQS", name="ApproximateNumberOfMessagesVisible", stat="Maximum",
                       dimensions={"QueueName": dead_letter_queue or "*"}, label="messages")
    widgets = [
        _graph("Targets failed by job", [_metric(ns, "TargetsFailed", "Sum")]),
        _graph("Targets up by job", [_metric(ns, "TargetsUp", "Minimum")]),
        _graph("Dropped samples by reason", [_metric(ns, "DroppedSamples", "Sum")], stacked=True),
        _graph("Parse errors", [_metric(ns, "ParseErrors", "Sum")]),
        _graph("Container Insights events", [_metric(ns, "EventsReceived", "Sum", "received"),
                                             _metric(ns, "EventsMalformed", "Sum", "malformed")]),
        _graph("Dead-letter queue depth", [queue]),
        _graph("Reconcile: drift corrected", [_metric(ns, "ReconcileDriftCorrected", "Sum", "corrected"),
                                              _metric(ns, "ReconcileFailures", "Sum", "failed")]),
    ]
    return DashboardSpec(name=name, widgets=widgets)
