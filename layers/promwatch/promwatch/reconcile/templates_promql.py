"""The packs' PromQL variants, for jobs whose output is OpenTelemetry metrics sent over OTLP (pure).

CloudWatch keeps OTLP metrics in its PromQL store, resource attributes queried as
``@resource.<attribute>`` labels
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-PromQL-Querying.html).
promwatch's OTLP output sends a scrape job as the OpenTelemetry specification's Prometheus
compatibility section says: ``job`` ``prod/api`` is ``service.namespace`` ``prod`` and
``service.name`` ``api``, a job without ``/`` is ``service.name`` alone; names are kept as
exposed (a counter's ``<name>_total``; a histogram's buckets are ``<name>_bucket`` with ``le``),
and each target's ``up`` is a gauge. Counters are graphed with ``rate()``, histograms with
``histogram_quantile()`` over their buckets, and a target's availability with ``up == 0``.
"""
from __future__ import annotations

from collections.abc import Sequence

from promwatch.reconcile.spec import Actions, AlarmSpec, PromQLAlarm, PromQLQuery, WidgetSpec

__all__ = [
    "JOB_LABEL",
    "JOB_NAMESPACE_LABEL",
    "RATE_WINDOW",
    "chart",
    "counter_rate",
    "family_chart",
    "gauge",
    "job_labels",
    "quantiles",
    "selector",
    "up_alarm",
]

JOB_LABEL = "@resource.service.name"
"""The label of a series' scrape job (its part after the last ``/``) in CloudWatch's PromQL."""
JOB_NAMESPACE_LABEL = "@resource.service.namespace"
"""The label of the part of a scrape job before its last ``/``."""

RATE_WINDOW = "5m"
"""The window of ``rate()``: several scrapes at the usual 15 s-1 min intervals."""

QUANTILES = (("0.5", "p50"), ("0.9", "p90"), ("0.99", "p99"))


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def job_labels(job: str) -> dict[str, str]:
    """The resource labels a job's series carry: ``prod/api`` -> service.namespace ``prod``,
    service.name ``api`` (as :mod:`promwatch.otlp` maps them); ``api`` -> service.name ``api``."""
    namespace, slash, name = job.rpartition("/")
    if slash and namespace and name:
        return {JOB_NAMESPACE_LABEL: namespace, JOB_LABEL: name}
    return {JOB_LABEL: job}


def selector(name: str, job: str, **labels: str) -> str:
    """``{"name", "@resource.service.name"="job", label="value"}`` (quoted, so any UTF-8 name works)."""
    matchers = [_string(name)]
    matchers += [f"{_string(k)}={_string(v)}" for k, v in {**job_labels(job), **labels}.items()]
    return "{" + ", ".join(matchers) + "}"


def counter_rate(name: str, job: str, *, by: Sequence[str] = ()) -> str:
    """Per-second increase of a counter over :data:`RATE_WINDOW`, summed (by ``by``)."""
    grouping = f" by ({', '.join(by)})" if by else ""
    return f"sum{grouping} (rate({selector(name, job)}[{RATE_WINDOW}]))"


def gauge(name: str, job: str, *, aggregate: str | None = None, by: Sequence[str] = ()) -> str:
    """A gauge's series, or their ``aggregate`` (``sum``, ``max`` ...) by ``by``."""
    if aggregate is None:
        return selector(name, job)
    grouping = f" by ({', '.join(by)})" if by else ""
    return f"{aggregate}{grouping} ({selector(name, job)})"


def quantiles(histogram: str, job: str) -> list[PromQLQuery]:
    """p50/p90/p99 of a histogram over :data:`RATE_WINDOW`, from the rates of its ``_bucket`` series."""
    buckets = f"rate({selector(f'{histogram}_bucket', job)}[{RATE_WINDOW}])"
    return [PromQLQuery(query=f"histogram_quantile({q}, sum by (le) ({buckets}))", label=label)
            for q, label in QUANTILES]


def chart(title: str, queries: Sequence[PromQLQuery | tuple[str, str | None]]) -> WidgetSpec:
    """A PromQL chart widget of ``queries`` (query models, or ``(query, label)`` pairs)."""
    items = [q if isinstance(q, PromQLQuery) else PromQLQuery(query=q[0], label=q[1]) for q in queries]
    return WidgetSpec(title=title, promql=items)


def family_chart(job: str, name: str, family_type: str) -> WidgetSpec | None:
    """The chart of one exposed family: counters as rates, histograms as quantiles, the rest as series."""
    if family_type == "histogram":
        return chart(f"{name} (p50/p90/p99)", quantiles(name, job))
    if family_type == "counter":
        metric = name if name.endswith("_total") else f"{name}_total"
        return chart(f"{metric} (per second)", [(counter_rate(metric, job), None)])
    if family_type in ("summary", "gauge", "unknown", "stateset"):
        return chart(name, [(gauge(name, job), None)])
    return None  # info: labels, not values worth a graph; gauge histograms are not sent over OTLP


def up_alarm(job: str, *, name: str, description: str, actions: Actions) -> AlarmSpec:
    """A job's ``up`` alarm in PromQL: a target down (``up == 0``) or the job gone (``absent``), for 3 minutes."""
    up = selector("up", job)
    promql = PromQLAlarm(query=f"{up} == 0 or absent({up})", pending_period=180, evaluation_interval=60)
    return AlarmSpec(name=name, description=description, promql=promql, actions=actions)
