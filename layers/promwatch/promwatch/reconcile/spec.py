"""The spec files' model (pydantic, strict): dashboards, alarms and generated packs.

A spec directory holds YAML files, each with any of three top-level keys::

    dashboards: [...]   # DashboardSpec
    alarms: [...]       # AlarmSpec
    generate: [...]     # GenerateSpec: packs expanded into dashboards and alarms

Every value PutDashboard or PutMetricAlarm would refuse is refused here, before anything is
applied. Validators raise ``ValueError`` with the bad value and what is expected; a message
starting with ``@<field>:`` locates the problem at that field of the object.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from promwatch.limits import (
    ALARM_DESCRIPTION_MAX_CHARS,
    ALARM_MAX_ACTIONS,
    ALARM_MAX_EVALUATION_SECONDS,
    ALARM_MAX_EVALUATION_SECONDS_SHORT_PERIOD,
    ALARM_MAX_METRICS_IN_MATH,
    ALARM_RULE_MAX_CHARS,
    DASHBOARD_GRID_COLUMNS,
    DASHBOARD_MAX_METRICS_PER_GRAPH,
    DASHBOARD_MAX_QUERIES_PER_CHART,
    DASHBOARD_MAX_WIDGETS,
    DASHBOARD_WIDGET_MAX_HEIGHT,
    METRICS_MAX_DIMENSIONS,
)
from promwatch.reconcile import checks
from promwatch.reconcile.errors import SpecValueError
from promwatch.reconcile.spec_base import Strict as _Strict
from promwatch.reconcile.spec_base import at
from promwatch.reconcile.spec_promql import PromQLAlarm, PromQLQuery

__all__ = [
    "Actions",
    "AlarmQuery",
    "AlarmSpec",
    "DashboardSpec",
    "ExpressionSpec",
    "HorizontalAnnotation",
    "MetricSpec",
    "PromQLAlarm",
    "PromQLQuery",
    "WidgetSpec",
    "YAxis",
]

Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(checks.check_name)]
Statistic = Annotated[str, AfterValidator(checks.check_statistic)]
MetricPeriod = Annotated[int, AfterValidator(checks.check_metric_period)]
AlarmPeriod = Annotated[int, AfterValidator(checks.check_alarm_period)]
MetricId = Annotated[str, AfterValidator(checks.check_metric_id)]
TopicArn = Annotated[str, AfterValidator(checks.check_topic_arn)]
Color = Annotated[str, AfterValidator(checks.check_color)]
TreatMissing = Annotated[str, AfterValidator(checks.check_treat_missing_data)]
Text = Annotated[str, Field(min_length=1, max_length=1024)]
DimensionName = Annotated[str, AfterValidator(checks.check_dimension_name)]
DimensionValue = Annotated[str, AfterValidator(checks.check_published_dimension_value)]
Dimensions = Annotated[dict[DimensionName, DimensionValue], Field(max_length=METRICS_MAX_DIMENSIONS)]
"""Dimension name -> value; ``"*"`` as a value means every value (a SEARCH expression)."""


class MetricSpec(_Strict):
    """One metric on a graph; ``"*"`` dimension values make it a SEARCH expression."""

    namespace: Text
    name: Text
    dimensions: Dimensions = Field(default_factory=dict)
    match: Literal["exact", "any"] = "exact"
    """``exact``: ``dimensions`` is the metric's whole dimension set (CloudWatch's own rule);
    ``any``: search every dimension set of ``name`` in ``namespace`` that has the fixed values."""
    stat: Statistic | None = None
    label: str | None = None
    period: MetricPeriod | None = None
    id: MetricId | None = None
    visible: bool = True
    y_axis: Literal["left", "right"] = "left"
    color: Color | None = None
    anomaly_band: float | None = Field(default=None, gt=0, le=100)
    """Draw CloudWatch's anomaly-detection band this many standard deviations wide."""

    @property
    def is_search(self) -> bool:
        """Whether the metric is drawn through a SEARCH expression."""
        return self.match == "any" or "*" in self.dimensions.values()

    @model_validator(mode="after")
    def _band_needs_one_metric(self) -> MetricSpec:
        if self.anomaly_band is not None and self.is_search:
            raise SpecValueError(at("anomaly_band", "an anomaly band needs a single metric; expected no '*' "
                                "dimension values and match: exact"))
        return self


class ExpressionSpec(_Strict):
    """A metric-math expression on a graph (e.g. ``m1 / m2 * 100``)."""

    expression: Annotated[str, Field(min_length=1, max_length=2048)]
    id: MetricId | None = None
    label: str | None = None
    period: MetricPeriod | None = None
    visible: bool = True
    y_axis: Literal["left", "right"] = "left"
    color: Color | None = None


class HorizontalAnnotation(_Strict):
    """A horizontal line on a graph (a threshold, an SLO)."""

    value: float
    label: str | None = None
    color: Color | None = None


class YAxis(_Strict):
    """Bounds and label of a graph's left axis."""

    min: float | None = None
    max: float | None = None
    label: str | None = None
    show_units: bool | None = None


def _promql_queries(value: Any) -> Any:
    """``promql: <query>`` is one query; a list may mix queries and ``{query, label}`` mappings."""
    if isinstance(value, str):
        return [{"query": value}]
    if isinstance(value, list):
        return [{"query": item} if isinstance(item, str) else item for item in value]
    return value


class WidgetSpec(_Strict):
    """A graph, text, alarm-status or PromQL chart widget (``type`` is inferred when omitted)."""

    type: Literal["graph", "text", "alarm_status", "promql"] | None = None
    title: str | None = None
    width: int | None = Field(default=None, ge=1, le=DASHBOARD_GRID_COLUMNS)
    height: int | None = Field(default=None, ge=1, le=DASHBOARD_WIDGET_MAX_HEIGHT)
    metrics: list[MetricSpec] = Field(default_factory=list)
    expressions: list[ExpressionSpec] = Field(default_factory=list)
    view: Literal["timeSeries", "singleValue", "bar", "pie", "gauge"] = "timeSeries"
    stacked: bool = False
    stat: Statistic | None = None
    period: MetricPeriod | None = None
    y_axis: YAxis | None = None
    annotations: list[HorizontalAnnotation] = Field(default_factory=list)
    markdown: Annotated[str, Field(min_length=1, max_length=100_000)] | None = None
    alarms: list[Name] = Field(default_factory=list)
    """Spec names of the alarms an ``alarm_status`` widget shows."""
    promql: Annotated[list[PromQLQuery], BeforeValidator(_promql_queries),
                      Field(max_length=DASHBOARD_MAX_QUERIES_PER_CHART)] = Field(default_factory=list)
    """The PromQL queries of a ``promql`` widget (a chart of OpenTelemetry metrics sent over OTLP)."""

    @property
    def kind(self) -> str:
        """``graph``, ``text``, ``alarm_status`` or ``promql``."""
        if self.type:
            return self.type
        if self.markdown is not None:
            return "text"
        if self.alarms:
            return "alarm_status"
        if self.promql:
            return "promql"
        return "graph"

    @model_validator(mode="after")
    def _fields_match_kind(self) -> WidgetSpec:
        for field, expected in (("promql", "a query or a non-empty list of queries"),
                                ("alarms", "a non-empty list of alarm names")):
            # an empty list would make the widget a graph and be refused as "a graph takes no ..."
            if field in self.model_fields_set and not getattr(self, field):
                raise SpecValueError(at(field, f"an empty list is not allowed; expected {expected}"))
        kind = self.kind
        graph_only = ("metrics", "expressions", "view", "stacked", "stat", "period", "y_axis", "annotations")
        owners = {"markdown": "text", "alarms": "alarm_status", "promql": "promql",
                  **dict.fromkeys(graph_only, "graph")}
        for field in self.model_fields_set:
            owner = owners.get(field)
            if owner and owner != kind:
                raise SpecValueError(at(field, f"a {kind} widget takes no {field!r}; it belongs to {owner} widgets"))
        if kind == "graph":
            count = len(self.metrics) + len(self.expressions) + sum(m.anomaly_band is not None for m in self.metrics)
            if not count:
                raise SpecValueError(at("metrics", "a graph widget needs at least one metric or expression"))
            if count > DASHBOARD_MAX_METRICS_PER_GRAPH:
                raise SpecValueError(at("metrics", f"{count} metrics and expressions; expected at most "
                                    f"{DASHBOARD_MAX_METRICS_PER_GRAPH} per graph"))
            ids = [m.id for m in self.metrics if m.id] + [e.id for e in self.expressions if e.id]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise SpecValueError(at("metrics", f"id {duplicates[0]!r} is used twice; expected unique ids"))
        if kind == "text" and self.markdown is None:
            raise SpecValueError(at("markdown", "a text widget needs 'markdown'"))
        if kind == "promql" and not self.promql:
            raise SpecValueError(at("promql", "a promql widget needs at least one PromQL query"))
        if kind == "alarm_status" and not self.alarms:
            raise SpecValueError(at("alarms", "an alarm_status widget needs at least one alarm (spec names)"))
        return self


class DashboardSpec(_Strict):
    """One dashboard: its widgets are laid out on the 24-column grid when no size is given."""

    name: Name
    period: MetricPeriod = 300
    start: str | None = Field(default=None, pattern=r"^-P(?:\d+[DWMY])*(?:T(?:\d+[HMS])+)?$")
    """Default time range, an ISO 8601 duration before now (``-PT3H``, ``-P7D``)."""
    widgets: list[WidgetSpec] = Field(min_length=1, max_length=DASHBOARD_MAX_WIDGETS - 1)
    """One widget of the 500 a dashboard may hold is promwatch's ownership marker."""


class Actions(_Strict):
    """SNS topics notified when the alarm enters each state."""

    alarm: list[TopicArn] = Field(default_factory=list, max_length=ALARM_MAX_ACTIONS)
    ok: list[TopicArn] = Field(default_factory=list, max_length=ALARM_MAX_ACTIONS)
    insufficient_data: list[TopicArn] = Field(default_factory=list, max_length=ALARM_MAX_ACTIONS)


class AlarmQuery(_Strict):
    """A metric a metric-math alarm's expression refers to by ``id``."""

    id: MetricId
    namespace: Text
    name: Text
    dimensions: Dimensions = Field(default_factory=dict)
    stat: Statistic
    period: AlarmPeriod = 60
    unit: str | None = None
    label: str | None = None


_KIND_FIELDS = {
    "metric": {"namespace", "metric", "dimensions", "stat", "period", "unit", "comparison", "threshold",
               "evaluation_periods", "datapoints_to_alarm", "treat_missing_data",
               "evaluate_low_sample_count_percentile"},
    "anomaly": {"namespace", "metric", "dimensions", "stat", "period", "unit", "comparison", "anomaly_band",
                "evaluation_periods", "datapoints_to_alarm", "treat_missing_data"},
    "math": {"metrics", "expression", "period", "comparison", "threshold", "evaluation_periods",
             "datapoints_to_alarm", "treat_missing_data", "label"},
    "composite": {"rule"},
    "promql": {"promql"},
}
_COMMON_FIELDS = {"name", "description", "actions", "actions_enabled"}
_REQUIRED = {
    "metric": ("namespace", "metric", "stat", "comparison", "threshold"),
    "anomaly": ("namespace", "metric", "stat"),
    "math": ("comparison", "threshold"),
    "composite": (),
    "promql": (),
}


class AlarmSpec(_Strict):
    """A metric alarm, a metric-math alarm, an anomaly-detection alarm, a PromQL alarm or a composite alarm.

    The kind follows from the fields: ``rule`` -> composite, ``promql`` -> PromQL (OpenTelemetry
    metrics sent over OTLP; :class:`PromQLAlarm`), ``expression`` -> metric math
    (``metrics`` are the expression's inputs; a Metrics Insights ``SELECT`` needs none),
    ``anomaly_band`` -> anomaly detection, otherwise a static-threshold metric alarm.
    """

    name: Name
    description: Annotated[str, Field(max_length=ALARM_DESCRIPTION_MAX_CHARS)] | None = None
    namespace: Text | None = None
    metric: Text | None = None
    dimensions: Dimensions = Field(default_factory=dict)
    stat: Statistic | None = None
    period: AlarmPeriod = 60
    unit: str | None = None
    evaluation_periods: int = Field(default=1, ge=1)
    datapoints_to_alarm: int | None = Field(default=None, ge=1)
    comparison: str | None = None
    threshold: float | None = None
    treat_missing_data: TreatMissing = "missing"
    evaluate_low_sample_count_percentile: Literal["evaluate", "ignore"] | None = None
    metrics: list[AlarmQuery] = Field(default_factory=list, max_length=ALARM_MAX_METRICS_IN_MATH)
    expression: Annotated[str, Field(min_length=1, max_length=2048)] | None = None
    label: str | None = None
    anomaly_band: float | None = Field(default=None, gt=0, le=100)
    rule: Annotated[str, Field(min_length=1, max_length=ALARM_RULE_MAX_CHARS)] | None = None
    promql: PromQLAlarm | None = None
    actions: Actions = Field(default_factory=Actions)
    actions_enabled: bool = True

    @property
    def kind(self) -> str:
        """``composite``, ``promql``, ``math``, ``anomaly`` or ``metric``."""
        if self.rule is not None:
            return "composite"
        if self.promql is not None:
            return "promql"
        if self.expression is not None:
            return "math"
        if self.anomaly_band is not None:
            return "anomaly"
        return "metric"

    @property
    def comparison_operator(self) -> str | None:
        """PutMetricAlarm's ComparisonOperator (None for composite and PromQL alarms)."""
        if self.kind == "promql":
            return None
        if self.comparison is None:
            return checks.BAND_OPERATORS["outside_band"] if self.kind == "anomaly" else None
        if self.kind == "anomaly":
            return checks.check_band_comparison(self.comparison)
        return checks.check_comparison(self.comparison)

    @model_validator(mode="after")
    def _fields_match_kind(self) -> AlarmSpec:
        kind = self.kind
        allowed = _KIND_FIELDS[kind] | _COMMON_FIELDS
        for field in sorted(self.model_fields_set - allowed):
            raise SpecValueError(at(field, f"a {kind} alarm takes no {field!r}; expected only "
                                f"{', '.join(sorted(allowed))}"))
        for field in _REQUIRED[kind]:
            if getattr(self, field) is None:
                raise SpecValueError(at(field, f"a {kind} alarm needs {field!r}"))
        if kind in ("composite", "promql"):
            return self
        try:
            self.comparison_operator  # noqa: B018 - validates the comparison for this kind
        except ValueError as exc:
            raise SpecValueError(at("comparison", str(exc))) from exc
        if self.datapoints_to_alarm is not None and self.datapoints_to_alarm > self.evaluation_periods:
            raise SpecValueError(at("datapoints_to_alarm", f"{self.datapoints_to_alarm} is more than "
                                f"evaluation_periods ({self.evaluation_periods}); expected at most that"))
        periods = [self.period, *(q.period for q in self.metrics)]
        longest = max(periods) * self.evaluation_periods
        limit = ALARM_MAX_EVALUATION_SECONDS if min(periods) >= 3600 else ALARM_MAX_EVALUATION_SECONDS_SHORT_PERIOD
        if longest > limit:
            raise SpecValueError(at("evaluation_periods", f"{self.evaluation_periods} periods of {max(periods)} s "
                                f"span {longest} s; expected at most {limit} s"))
        if kind == "math":
            ids = [q.id for q in self.metrics]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise SpecValueError(at("metrics", f"id {duplicates[0]!r} is used twice; expected unique ids"))
            is_query = self.expression is not None and self.expression.lstrip().upper().startswith("SELECT")
            if not self.metrics and not is_query:
                raise SpecValueError(at("metrics", "a metric-math expression needs the metrics it refers to "
                                    "(a Metrics Insights SELECT needs none)"))
        return self
