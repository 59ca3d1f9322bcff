"""Spec -> the bodies CloudWatch receives: dashboard JSON and PutMetricAlarm requests (pure)."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from promwatch.limits import ALARM_NAME_MAX_CHARS, DASHBOARD_MAX_BODY_BYTES, DASHBOARD_NAME_MAX_CHARS
from promwatch.reconcile import layout
from promwatch.reconcile.checks import is_extended_statistic
from promwatch.reconcile.errors import SpecError
from promwatch.reconcile.model import Desired, DesiredAlarm, DesiredDashboard, Spec
from promwatch.reconcile.settings import ReconcileSettings
from promwatch.reconcile.spec import AlarmSpec, DashboardSpec, MetricSpec, WidgetSpec

__all__ = [
    "CHART_QUERY",
    "MARKER",
    "composite_references",
    "has_marker",
    "render",
    "render_alarm",
    "render_dashboard",
    "search_expression",
]

MARKER = "managed-by=promwatch"
"""Text of a dashboard's last widget telling a console reader that promwatch manages it.

A visible hint only: a hand edit can remove it and a copy carries it, so ownership is the
dashboard's tag and promwatch's record (:mod:`promwatch.reconcile.record`), never the marker."""

DEFAULT_STAT = "Average"
_PLAIN = re.compile(r"^[A-Za-z0-9_]+$")
_REFERENCE = re.compile(r"\b(ALARM|OK|INSUFFICIENT_DATA)\(\s*(\"?)([^\")]+?)\2\s*\)")


def _schema_term(term: str) -> str:
    # Names with anything but letters, digits and '_' are double-quoted in a search schema.
    return term if _PLAIN.match(term) else '"' + term.replace('"', '\\"') + '"'


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def search_expression(metric: MetricSpec, stat: str, period: int) -> str:
    """The SEARCH expression that plots every series of ``metric`` (``"*"`` = any value).

    ``match: exact`` searches the schema ``{namespace, <all dimension names>}`` (CloudWatch
    matches that exact dimension set); ``match: any`` searches by namespace and metric name in
    every dimension set. Fixed dimension values become exact-match terms.
    """
    terms = [f"MetricName={_quoted(metric.name)}"]
    terms += [f"{_schema_term(k)}={_quoted(v)}" for k, v in metric.dimensions.items() if v != "*"]
    if metric.match == "exact":
        schema = ",".join(_schema_term(t) for t in (metric.namespace, *metric.dimensions))
        query = "{" + schema + "} " + " ".join(terms)
    else:
        query = " ".join([f"Namespace={_quoted(metric.namespace)}", *terms])
    return f"SEARCH('{query.replace(chr(39), chr(92) + chr(39))}', '{stat}', {period})"


def _options(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _graph_metrics(widget: WidgetSpec, stat: str, period: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for index, metric in enumerate(widget.metrics, start=1):
        metric_id = metric.id or (f"m{index}" if metric.anomaly_band is not None else None)
        common = _options(
            label=metric.label,
            id=metric_id,
            visible=False if not metric.visible else None,
            yAxis="right" if metric.y_axis == "right" else None,
            color=metric.color,
        )
        metric_stat, metric_period = metric.stat or stat, metric.period or period
        if metric.is_search:
            expression = search_expression(metric, metric_stat, metric_period)
            rows.append([{"expression": expression, **common, **_options(period=metric.period)}])
        else:
            own = _options(stat=metric.stat if metric.stat != stat else None, period=metric.period)
            dims = [part for item in metric.dimensions.items() for part in item]
            options = {**own, **common}
            rows.append([metric.namespace, metric.name, *dims, *([options] if options else [])])
        if metric.anomaly_band is not None:
            band = f"ANOMALY_DETECTION_BAND({metric_id}, {metric.anomaly_band:g})"
            rows.append([{"expression": band, "label": f"{metric.label or metric.name} (expected)",
                          "id": f"{metric_id}band"}])
    for expr in widget.expressions:
        rows.append([{
            "expression": expr.expression,
            **_options(label=expr.label, id=expr.id, period=expr.period,
                       visible=False if not expr.visible else None,
                       yAxis="right" if expr.y_axis == "right" else None, color=expr.color),
        }])
    return rows


CHART_QUERY = {"type": "cloudwatch-metrics", "language": "PromQL"}
"""What marks a query of a ``chart`` widget as PromQL over CloudWatch's OpenTelemetry metrics.

The chart widget is the dashboard body's widget for PromQL ("Properties of a Chart Widget
Object", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Dashboard-Body-Structure.html#CloudWatch-Dashboard-Properties-Chart-Widget-Object)::

    {"type": "chart", "properties": {"title": ..., "view": "line", "region": ...,
     "data": {"queries": [{"id": "q1", "type": "cloudwatch-metrics", "language": "PromQL",
                           "query": "...", "label": "..."}]}}}
"""


def _chart_properties(widget: WidgetSpec, settings: ReconcileSettings) -> dict[str, Any]:
    queries = [{"id": f"q{index}", **CHART_QUERY, "query": query.query, **_options(label=query.label)}
               for index, query in enumerate(widget.promql, start=1)]
    return {**_options(title=widget.title), "view": "line", "region": settings.region, "data": {"queries": queries}}


def _widget_properties(widget: WidgetSpec, dashboard: DashboardSpec, settings: ReconcileSettings) -> dict[str, Any]:
    kind = widget.kind
    if kind == "promql":
        return _chart_properties(widget, settings)
    if kind == "text":
        markdown = widget.markdown or ""
        return {"markdown": f"### {widget.title}\n\n{markdown}" if widget.title else markdown}
    if kind == "alarm_status":
        return _options(title=widget.title, alarms=[settings.alarm_arn(name) for name in widget.alarms])
    stat, period = widget.stat or DEFAULT_STAT, widget.period or dashboard.period
    properties: dict[str, Any] = {
        "metrics": _graph_metrics(widget, stat, period),
        "view": widget.view,
        "stacked": widget.stacked,
        "region": settings.region,
        "stat": stat,
        "period": period,
    }
    if widget.title:
        properties["title"] = widget.title
    if widget.y_axis:
        axis = _options(min=widget.y_axis.min, max=widget.y_axis.max, label=widget.y_axis.label,
                        showUnits=widget.y_axis.show_units)
        properties["yAxis"] = {"left": axis}
    if widget.annotations:
        properties["annotations"] = {"horizontal": [
            _options(value=a.value, label=a.label, color=a.color) for a in widget.annotations
        ]}
    return properties


def _size(widget: WidgetSpec) -> tuple[int, int]:
    width, height = layout.DEFAULT_SIZES[widget.kind]
    if widget.kind == "text" and widget.height is None:
        height = layout.text_height(widget.markdown or "") + (1 if widget.title else 0)
    return widget.width or width, widget.height or height


def marker_markdown(settings: ReconcileSettings, source: str) -> str:
    """The marker widget's text: tells a console reader the dashboard is promwatch's (a hint, not ownership)."""
    origin = f" from `{source}`" if source else ""
    return (f"Managed by promwatch (`{MARKER}`, stage `{settings.stage}`, region `{settings.region}`){origin}. "
            "Edits made here are put back by the next reconcile: change the spec instead.")


def render_dashboard(dashboard: DashboardSpec, settings: ReconcileSettings, source: str = "") -> dict[str, Any]:
    """The DashboardBody of ``dashboard``: widgets laid out, the marker widget last.

    Parameters
    ----------
    dashboard
        A validated dashboard spec.
    settings
        Stage, region and account (for the ``region`` of graphs and alarm ARNs).
    source
        The spec file, named in the marker so a reader of the console knows where to edit.
    """
    sizes = [_size(w) for w in dashboard.widgets]
    positions = layout.flow(sizes)
    widgets = []
    for widget, (width, height), (x, y) in zip(dashboard.widgets, sizes, positions, strict=True):
        widget_type = {"graph": "metric", "text": "text", "alarm_status": "alarm", "promql": "chart"}[widget.kind]
        widgets.append({"type": widget_type, "x": x, "y": y, "width": width, "height": height,
                        "properties": _widget_properties(widget, dashboard, settings)})
    widgets.append({"type": "text", "x": 0, "y": layout.bottom(sizes, positions), "width": 24, "height": 1,
                    "properties": {"markdown": marker_markdown(settings, source)}})
    body: dict[str, Any] = {"widgets": widgets}
    if dashboard.start:
        body["start"] = dashboard.start
    return body


def has_marker(body: Mapping[str, Any] | None) -> bool:
    """Whether a dashboard body carries promwatch's marker widget (a copy of one of its dashboards does too)."""
    if not isinstance(body, Mapping):
        return False
    for widget in body.get("widgets") or []:
        if isinstance(widget, Mapping) and widget.get("type") == "text":
            properties = widget.get("properties")
            if isinstance(properties, Mapping) and MARKER in str(properties.get("markdown", "")):
                return True
    return False


def composite_references(rule: str) -> list[str]:
    """Alarm names a composite rule refers to (``ALARM(name)``, ``OK("name")``, ...), in order."""
    return [match.group(3).strip() for match in _REFERENCE.finditer(rule)]


def _rewrite_rule(rule: str, settings: ReconcileSettings) -> str:
    def full(match: re.Match[str]) -> str:
        name = match.group(3).strip()
        target = name if name.startswith("arn:") else settings.alarm_name(name)
        return f'{match.group(1)}("{target}")'

    return _REFERENCE.sub(full, rule)


def _dimensions(dimensions: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in dimensions.items()]


def _statistic(stat: str) -> dict[str, str]:
    return {"ExtendedStatistic": stat} if is_extended_statistic(stat) else {"Statistic": stat}


def render_alarm(alarm: AlarmSpec, settings: ReconcileSettings, source: str = "") -> DesiredAlarm:
    """The PutMetricAlarm (or PutCompositeAlarm) request of ``alarm``, every field explicit; a PromQL
    alarm's carries ``EvaluationCriteria.PromQLCriteria`` and ``EvaluationInterval``."""
    name = settings.alarm_name(alarm.name)
    request: dict[str, Any] = {
        "AlarmName": name,
        "AlarmDescription": alarm.description or "",
        "ActionsEnabled": alarm.actions_enabled,
        "AlarmActions": list(alarm.actions.alarm),
        "OKActions": list(alarm.actions.ok),
        "InsufficientDataActions": list(alarm.actions.insufficient_data),
    }
    if alarm.kind == "composite":
        rule = alarm.rule or ""
        request["AlarmRule"] = _rewrite_rule(rule, settings)
        depends = tuple(settings.alarm_name(n) for n in composite_references(rule) if not n.startswith("arn:"))
        return DesiredAlarm(name=name, type="composite", request=request, depends_on=depends, source=source)
    if alarm.promql is not None:
        # EvaluationCriteria excludes the metric fields (statistic, period, threshold, comparison,
        # evaluation periods, treat-missing-data): the query's result series are the breaches.
        promql = alarm.promql
        request["EvaluationCriteria"] = {"PromQLCriteria": {
            "Query": promql.query, "PendingPeriod": promql.pending_period, "RecoveryPeriod": promql.recovery_period,
        }}
        request["EvaluationInterval"] = promql.evaluation_interval
        return DesiredAlarm(name=name, type="metric", request=request, source=source)
    request.update({
        "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm or alarm.evaluation_periods,
        "ComparisonOperator": alarm.comparison_operator,
        "TreatMissingData": alarm.treat_missing_data,
    })
    if alarm.kind == "metric":
        request.update({
            "Namespace": alarm.namespace,
            "MetricName": alarm.metric,
            "Dimensions": _dimensions(alarm.dimensions),
            "Period": alarm.period,
            "Threshold": float(alarm.threshold or 0.0),
            **_statistic(alarm.stat or DEFAULT_STAT),
        })
        if alarm.unit:
            request["Unit"] = alarm.unit
        if alarm.evaluate_low_sample_count_percentile:
            request["EvaluateLowSampleCountPercentile"] = alarm.evaluate_low_sample_count_percentile
        return DesiredAlarm(name=name, type="metric", request=request, source=source)
    if alarm.kind == "anomaly":
        metric_stat = _options(
            Metric={"Namespace": alarm.namespace, "MetricName": alarm.metric,
                    "Dimensions": _dimensions(alarm.dimensions)},
            Period=alarm.period, Stat=alarm.stat, Unit=alarm.unit,
        )
        request["Metrics"] = [
            {"Id": "m1", "MetricStat": metric_stat, "ReturnData": True},
            {"Id": "band", "Expression": f"ANOMALY_DETECTION_BAND(m1, {alarm.anomaly_band:g})",
             "Label": f"{alarm.metric} (expected)", "ReturnData": True},
        ]
        request["ThresholdMetricId"] = "band"
        return DesiredAlarm(name=name, type="metric", request=request, source=source)
    queries: list[dict[str, Any]] = []
    for query in alarm.metrics:
        queries.append(_options(
            Id=query.id,
            MetricStat=_options(
                Metric={"Namespace": query.namespace, "MetricName": query.name,
                        "Dimensions": _dimensions(query.dimensions)},
                Period=query.period, Stat=query.stat, Unit=query.unit,
            ),
            Label=query.label,
            ReturnData=False,
        ))
    queries.append(_options(Id="result", Expression=alarm.expression, Label=alarm.label or alarm.name,
                            Period=alarm.period, ReturnData=True))
    request["Metrics"] = queries
    request["Threshold"] = float(alarm.threshold or 0.0)
    return DesiredAlarm(name=name, type="metric", request=request, source=source)


def render(spec: Spec, settings: ReconcileSettings) -> Desired:
    """Everything ``spec`` says should exist, as CloudWatch requests (pure).

    Parameters
    ----------
    spec
        A loaded, validated spec (:func:`promwatch.reconcile.load_spec`).
    settings
        Stage, region and account: they make the names and the ARNs.

    Returns
    -------
    Desired
        Dashboards and alarms under the settings' prefixes.

    Raises
    ------
    SpecError
        When a dashboard's body would be larger than PutDashboard takes, or a dashboard's or an
        alarm's name, with its prefix, longer than CloudWatch takes.
    """
    dashboards = tuple(
        DesiredDashboard(
            name=settings.dashboard_name(d.name),
            body=render_dashboard(d, settings, spec.sources.get(f"dashboard:{d.name}", "")),
            source=spec.sources.get(f"dashboard:{d.name}", ""),
        )
        for d in spec.dashboards
    )
    too_large = [
        f"{settings.spec_dir / d.source}: dashboard {d.name!r}: its body is {size:,} bytes; expected at most "
        f"{DASHBOARD_MAX_BODY_BYTES:,} (split it into several dashboards)"
        for d in dashboards
        if (size := len(json.dumps(d.body, separators=(",", ":")).encode())) > DASHBOARD_MAX_BODY_BYTES
    ]
    alarms = tuple(render_alarm(a, settings, spec.sources.get(f"alarm:{a.name}", "")) for a in spec.alarms)
    too_long = [
        f"{settings.spec_dir / resource.source}: {kind} name {resource.name!r} is {len(resource.name)} characters "
        f"with its stage prefix; expected at most {limit} (a shorter name in the spec)"
        for kind, resources, limit in (("dashboard", dashboards, DASHBOARD_NAME_MAX_CHARS),
                                       ("alarm", alarms, ALARM_NAME_MAX_CHARS))
        for resource in resources
        if len(resource.name) > limit
    ]
    if too_large or too_long:
        raise SpecError(too_large + too_long)
    return Desired(dashboard_prefix=settings.dashboard_prefix, alarm_prefix=settings.alarm_prefix,
                   region=settings.region, dashboards=dashboards, alarms=alarms)

