"""The demo's last stages: dashboards into the emulator, the preview page, the summary.

The dashboards spec (``config/dashboards``) is applied to the emulator with
:func:`promwatch.reconcile.reconcile`; the preview then draws every dashboard the emulator
holds, plus a generated dashboard per namespace of what landed, querying the emulator's
CloudWatch for each widget.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from promwatch.errors import PromwatchError

from promwatch_tools.local.cloudwatch import LogExtractor
from promwatch_tools.local.dashboards import dashboard_catalogue, default_dashboards
from promwatch_tools.local.demo_otlp import OtlpQueries, both_ways_dashboard, otlp_totals
from promwatch_tools.local.emulator import Emulator
from promwatch_tools.local.errors import EmulatorGap
from promwatch_tools.local.otlpreceiver import OtlpReceiver
from promwatch_tools.local.preview import DashboardView, WidgetView, render_page
from promwatch_tools.local.query import MetricReader, QueryRange, namespace_windows
from promwatch_tools.local.report import LATENCY_METRIC, DemoReport, route_latencies, summary_lines
from promwatch_tools.local.widgets import MetricQuery, dashboard_widgets

TASK_SERVICE_NAMESPACE = "prod/task-service"
SPEC_DIR = Path("config/dashboards")


class WithoutPromQLAlarms:
    """The emulator's CloudWatch, with PromQL alarms checked but not sent.

    moto knows no ``EvaluationCriteria``: it would store a PromQL alarm as an empty metric alarm
    (and a second plan would find it changed). Such a PutMetricAlarm is validated against
    botocore's service model, as a Stubber would, then refused with :class:`EmulatorGap`; the
    reconciler reports it failed and :attr:`withheld` names it.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.withheld: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_metric_alarm(self, **request: Any) -> Any:
        """PutMetricAlarm; a PromQL alarm's is validated and withheld."""
        if "EvaluationCriteria" not in request:
            return self._client.put_metric_alarm(**request)
        from botocore.validate import validate_parameters

        shape = self._client.meta.service_model.operation_model("PutMetricAlarm").input_shape
        validate_parameters(request, shape)
        self.withheld.append(str(request["AlarmName"]))
        raise EmulatorGap(f"PromQL alarm {request['AlarmName']} matches botocore's PutMetricAlarm model but is "
                          "not applied to the emulator: moto has no EvaluationCriteria.PromQLCriteria")


def apply_dashboards_spec(spec_dir: Path, *, region: str, client: Any, ssm_client: Any) -> tuple[str, list[str]]:
    """Apply the dashboards/alarms spec to the emulator; returns a line saying what happened and
    the PromQL alarms withheld (:class:`WithoutPromQLAlarms`).

    ``client`` is the emulator's CloudWatch, ``ssm_client`` its SSM (promwatch's record of the
    dashboards it created lives there, as in AWS).
    """
    from promwatch.reconcile import ReconcileSettings, SsmDashboardRecord, reconcile

    if not spec_dir.is_dir():
        return f"no spec directory {spec_dir}", []
    settings = ReconcileSettings(spec_dir=spec_dir, region=region)
    record = SsmDashboardRecord(settings, ssm_client)
    guarded = WithoutPromQLAlarms(client)
    try:
        result = reconcile(settings, mode="apply", client=guarded, record=record)
        again = reconcile(settings, mode="plan", client=guarded, record=record)
    except PromwatchError as error:
        return f"spec not applied: {error}", guarded.withheld
    changed = len(result.report.changed) if result.report is not None else 0
    failed = len(result.report.failed) - len(guarded.withheld) if result.report is not None else 0
    withheld = f", {len(guarded.withheld)} PromQL alarms withheld" if guarded.withheld else ""
    return (f"spec {spec_dir} applied to the emulator: {changed} created or updated, {failed} failed{withheld}; "
            f"a second plan finds {len(again.plan.pending)} changes"
            + (" (the withheld alarms)" if guarded.withheld else "")), guarded.withheld


def _emulator_dashboards(client: Any) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    args: dict[str, Any] = {}
    while True:
        page = client.list_dashboards(**args)
        for entry in page.get("DashboardEntries", []):
            body = client.get_dashboard(DashboardName=entry["DashboardName"])["DashboardBody"]
            found.append((entry["DashboardName"], json.loads(body)))
        if not page.get("NextToken"):
            return found
        args["NextToken"] = page["NextToken"]


def _latency_keys(datums: list[Any]) -> tuple[str, ...] | None:
    """The smallest dimension-key set of the latency metric that still has method, route, code."""
    sets = {
        tuple(k for k, _ in d.dimensions) for d in datums
        if d.namespace == TASK_SERVICE_NAMESPACE and d.name == LATENCY_METRIC
        and {"method", "route", "code"} <= {k for k, _ in d.dimensions}
    }
    return min(sets, key=len) if sets else None


def _counted(client: Any, window: QueryRange, keys: tuple[str, ...]) -> dict[tuple[str, str, str], float]:
    """SampleCount of the latency distribution per (method, route, code), over the whole run."""
    whole = QueryRange(window.start_s, window.end_s, int(window.end_s - window.start_s))
    query = MetricQuery(TASK_SERVICE_NAMESPACE, LATENCY_METRIC, tuple((k, "*") for k in keys), "SampleCount",
                        whole.period_s)
    series, _ = MetricReader(client, [], {TASK_SERVICE_NAMESPACE: whole}).series([query])
    totals: dict[tuple[str, str, str], float] = {}
    for line in series:
        dims = dict(line.dimensions)
        totals[(dims["method"], dims["route"], dims["code"])] = sum(line.values)
    return totals


def write_preview(
    emulator: Emulator,
    extractor: LogExtractor,
    *,
    out_dir: Path,
    root: Path,
    report: DemoReport,
    period_s: int,
    echo: Callable[[str], None],
    receiver: OtlpReceiver,
    spec_dir: Path | None = None,
) -> str:
    """Apply the dashboards, draw them with the emulator's data (and the OTLP receiver's), write
    ``index.html``; returns its path. ``spec_dir`` defaults to the project's ``config/dashboards``."""
    cloudwatch = emulator.client("cloudwatch")
    spec_dir = spec_dir or root / SPEC_DIR
    applied, report.promql_alarms = apply_dashboards_spec(spec_dir, region=emulator.region, client=cloudwatch,
                                                          ssm_client=emulator.client("ssm"))
    echo("dashboards " + applied)
    boards: list[tuple[str, str, dict[str, Any]]] = [
        (name, f"applied to the emulator from {spec_dir} by promwatch.reconcile", body)
        for name, body in _emulator_dashboards(cloudwatch)
    ]
    report.dashboards = [name for name, _, _ in boards]
    metrics, distributions = dashboard_catalogue(extractor.datums)
    for namespace, body in default_dashboards(metrics, distributions=distributions).items():
        boards.append((f"What landed in {namespace}", "generated from the metrics that exist (ListMetrics)", body))

    windows = namespace_windows(extractor.datums, min_period_s=period_s)
    reader = MetricReader(cloudwatch, extractor.datums, windows)
    # rate() over the previous scrape and this one: [5m] squeezed into the demo's seconds-long timeline
    otlp = OtlpQueries(receiver, range_s=period_s * 1.5)
    views: list[DashboardView] = [both_ways_dashboard(reader, otlp, job=TASK_SERVICE_NAMESPACE, period_s=period_s)]
    for name, source, body in boards:
        view = DashboardView(name, source)
        for spec in dashboard_widgets(body):
            if spec.kind == "chart":
                series, notes = otlp.series(spec.promql)
            else:
                series, notes = reader.series(spec.queries) if spec.kind == "metric" else ([], [])
            view.widgets.append(WidgetView(spec.title, spec.kind, series, [*spec.notes, *notes], spec.markdown))
        if any(w.kind == "chart" for w in view.widgets):
            view.source += f"; {otlp.note}"
        views.append(view)
    report.preview_widgets = sum(len(v.widgets) for v in views)
    report.preview_points = sum(w.points for v in views for w in v.widgets)

    report.namespaces = {ns: len(reader.catalogue(ns)) for ns in windows}
    report.extracted_datums = extractor.totals.datums
    report.emf_datums = sum(1 for d in extractor.datums if d.namespace == TASK_SERVICE_NAMESPACE)
    report.otlp = otlp_totals(receiver)
    report.rejected_events = extractor.totals.rejected
    report.rejected_reasons = list(extractor.totals.reasons)
    keys = _latency_keys(extractor.datums)
    if keys is not None:
        report.counted = _counted(cloudwatch, windows[TASK_SERVICE_NAMESPACE], keys)
    latencies = route_latencies(extractor.datums, report.requests_made, report.counted,
                                namespace=TASK_SERVICE_NAMESPACE)
    lines = summary_lines(report, latencies)
    page = render_page(views, title="promwatch demo - dashboard preview", generated_at=datetime.now(UTC),
                       summary=[*report.log, *lines])
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    for line in lines:
        echo(line)
    echo(f"preview   {path} ({len(views)} dashboards, {report.preview_widgets} widgets, "
         f"{report.preview_points} data points)")
    return str(path)
