"""Canonical forms of dashboards and alarms, so a plan right after an apply shows nothing (pure).

Both sides of a comparison go through the same function: the body promwatch renders and the
one CloudWatch returns. Service defaults are removed (an alarm's ``TreatMissingData:
missing``, ``DatapointsToAlarm`` equal to ``EvaluationPeriods``, empty action lists; a
graph's ``view: timeSeries``), the console's ``"."``/``"..."`` metric shorthand is expanded,
dimension order and JSON key order stop mattering, and 60 equals 60.0.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["canonical_alarm", "canonical_dashboard", "expand_metric_rows"]

_ALARM_FIELDS = (
    "AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions",
    "Namespace", "MetricName", "Dimensions", "Statistic", "ExtendedStatistic", "Period", "Unit",
    "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
    "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId", "AlarmRule",
    "EvaluationCriteria", "EvaluationInterval",
)
_PROMQL_ALARM_FIELDS = (
    "AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions",
    "EvaluationCriteria", "EvaluationInterval",
)
"""What a PromQL alarm is made of: whatever metric fields DescribeAlarms fills in for it
(a period, a statistic, evaluation periods ...) are not in its request and are not compared."""
_ALARM_DEFAULTS: dict[str, Any] = {
    "AlarmDescription": "", "ActionsEnabled": True, "AlarmActions": [], "OKActions": [],
    "InsufficientDataActions": [], "Dimensions": [], "TreatMissingData": "missing",
    "EvaluateLowSampleCountPercentile": "", "Unit": None, "Metrics": [], "ThresholdMetricId": "",
}
_GRAPH_DEFAULTS: dict[str, Any] = {"view": "timeSeries", "stacked": False, "stat": "Average", "period": 300}
_OPTION_DEFAULTS: dict[str, Any] = {"visible": True, "yAxis": "left"}


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return float(value)


def _dimension_list(dimensions: Any) -> list[tuple[str, str]]:
    return sorted((str(d.get("Name")), str(d.get("Value"))) for d in dimensions or [])


def _metric_query(query: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": query.get("Id")}
    for key in ("Expression", "Label", "AccountId"):
        if query.get(key):
            out[key] = query[key]
    if query.get("Period") is not None:
        out["Period"] = _number(query["Period"])
    out["ReturnData"] = query.get("ReturnData", True) is not False
    stat = query.get("MetricStat")
    if stat:
        metric = stat.get("Metric") or {}
        out["MetricStat"] = {
            "Namespace": metric.get("Namespace"),
            "MetricName": metric.get("MetricName"),
            "Dimensions": _dimension_list(metric.get("Dimensions")),
            "Period": _number(stat.get("Period")),
            "Stat": stat.get("Stat"),
            **({"Unit": stat["Unit"]} if stat.get("Unit") else {}),
        }
    return out


def _evaluation_criteria(criteria: Any) -> Any:
    promql = criteria.get("PromQLCriteria") if isinstance(criteria, Mapping) else None
    if not isinstance(promql, Mapping):
        return criteria
    # A period left out is 0 (promwatch sends both); the query compares without surrounding space.
    return {"PromQLCriteria": {"Query": str(promql.get("Query", "")).strip(),
                               "PendingPeriod": _number(promql.get("PendingPeriod") or 0),
                               "RecoveryPeriod": _number(promql.get("RecoveryPeriod") or 0)}}


def canonical_alarm(alarm: Mapping[str, Any]) -> dict[str, Any]:
    """The fields promwatch manages of an alarm (a PutMetricAlarm/PutCompositeAlarm request or
    a DescribeAlarms entry), defaults removed, order-insensitive parts sorted.

    A PromQL alarm (one with ``EvaluationCriteria``) is its query, periods, interval, name,
    description and actions only, whichever other fields the service describes it with."""
    out: dict[str, Any] = {}
    fields = _PROMQL_ALARM_FIELDS if alarm.get("EvaluationCriteria") else _ALARM_FIELDS
    for key in fields:
        value = alarm.get(key)
        if value is None or (key in _ALARM_DEFAULTS and value == _ALARM_DEFAULTS[key]):
            continue
        if key == "Dimensions":
            value = _dimension_list(value)
        elif key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            value = sorted(value)
        elif key == "Metrics":
            value = sorted((_metric_query(q) for q in value), key=lambda q: str(q["Id"]))
        elif key == "EvaluationCriteria":
            value = _evaluation_criteria(value)
        else:
            value = _number(value)
        out[key] = value
    if "DatapointsToAlarm" in out and out["DatapointsToAlarm"] == out.get("EvaluationPeriods"):
        del out["DatapointsToAlarm"]
    return out


def expand_metric_rows(rows: Any) -> list[Any]:
    """Expand the console's shorthand: ``"."`` repeats the previous row's item at that position;
    ``"..."`` repeats the previous row's items up to where this row's remaining items go."""
    expanded: list[Any] = []
    previous: list[Any] = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, list):
            expanded.append(row)
            continue
        items: list[Any] = []
        for index, item in enumerate(row):
            if item == "...":
                remaining = sum(1 for rest in row[index + 1 :] if not isinstance(rest, dict))
                items.extend(previous[: max(0, len(previous) - remaining)])
            elif item == "." and len(items) < len(previous):
                items.append(previous[len(items)])
            else:
                items.append(item)
        expanded.append(items)
        previous = [item for item in items if not isinstance(item, dict)]
    return expanded


def _metric_row(row: Any) -> Any:
    if not isinstance(row, list):
        return row
    options = next((item for item in row if isinstance(item, dict)), {})
    options = {k: _number(v) for k, v in options.items() if _OPTION_DEFAULTS.get(k, object()) != v}
    plain = [item for item in row if not isinstance(item, dict)]
    if options.get("expression") is not None:
        return {"options": options}
    head, dims = plain[:2], plain[2:]
    pairs = sorted(zip(dims[0::2], dims[1::2], strict=False))
    return {"metric": [*head, *[p for pair in pairs for p in pair]], "options": options}


def _widget(widget: Any, region: str) -> Any:
    if not isinstance(widget, Mapping):
        return widget
    out = {k: _number(v) for k, v in widget.items() if k != "properties"}
    properties = dict(widget.get("properties") or {})
    if widget.get("type") == "chart":
        properties = {"region": region, **properties}
    if widget.get("type") == "metric":
        properties = {**_GRAPH_DEFAULTS, "region": region, **properties}
        properties["period"] = _number(properties["period"])
        rows = [_metric_row(r) for r in expand_metric_rows(properties.get("metrics"))]
        for row in rows:
            # A metric's own stat/period equal to the graph's is the graph's (the console writes both ways).
            options = row.get("options", {}) if isinstance(row, dict) else {}
            for key in ("stat", "period"):
                if key in options and options[key] == properties[key]:
                    del options[key]
        properties["metrics"] = rows
    out["properties"] = properties
    return out


def canonical_dashboard(body: Mapping[str, Any] | None, *, region: str) -> dict[str, Any]:
    """A dashboard body with defaults filled in and the metric shorthand expanded.

    Parameters
    ----------
    body
        The parsed DashboardBody (rendered or returned by GetDashboard).
    region
        The region a graph without ``region`` shows.
    """
    if not isinstance(body, Mapping):
        return {}
    out = {k: v for k, v in body.items() if k != "widgets"}
    out["widgets"] = [_widget(w, region) for w in body.get("widgets") or []]
    return out
