"""What a demo run did, and the summary it prints (pure)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from promwatch_tools.local.extract import ExtractedDatum, percentile

LATENCY_METRIC = "http_request_duration_seconds"


@dataclass(slots=True)
class DemoReport:
    """Facts gathered along the run."""

    started: float
    finished: float = 0.0
    emulator: str = ""
    task_service: str = ""
    node_exporter: str | None = None
    resources: list[tuple[str, str]] = field(default_factory=list)
    scrape_results: list[Any] = field(default_factory=list)
    scrape_log_group: str = ""
    requests_made: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    insights_events: int = 0
    insights_records: int = 0
    dashboards: list[str] = field(default_factory=list)
    preview: str = ""
    preview_widgets: int = 0
    preview_points: int = 0
    namespaces: dict[str, int] = field(default_factory=dict)
    counted: dict[tuple[str, str, str], float] = field(default_factory=dict)
    rejected_events: int = 0
    rejected_reasons: list[str] = field(default_factory=list)
    extracted_datums: int = 0
    log: list[str] = field(default_factory=list)
    otlp_url: str = ""
    otlp: Any = None
    """The OTLP receiver's totals (:class:`promwatch_tools.local.demo_otlp.OtlpTotals`)."""
    emf_datums: int = 0
    """Metric data CloudWatch extracted for the job sent both ways."""
    emf_bytes: int = 0
    """Bytes of the EMF documents written for the job sent both ways."""
    promql_alarms: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RouteLatency:
    """One row of the latency table."""

    method: str
    route: str
    code: str
    made: int
    counted: float
    p50: float | None
    p99: float | None


def route_latencies(
    datums: Sequence[ExtractedDatum],
    made: Mapping[tuple[str, str, str], int],
    counted: Mapping[tuple[str, str, str], float],
    *,
    namespace: str,
) -> list[RouteLatency]:
    """Per (method, route, code): requests made, requests CloudWatch counted, p50 and p99.

    ``counted`` comes from CloudWatch (SampleCount); the percentiles from the extracted
    samples (moto has no percentiles).
    """
    samples: dict[tuple[str, str, str], tuple[list[float], list[float]]] = {}
    for datum in datums:
        dims = dict(datum.dimensions)
        if datum.namespace != namespace or datum.name != LATENCY_METRIC or not {"method", "route", "code"} <= set(dims):
            continue
        key = (dims["method"], dims["route"], dims["code"])
        values, counts = samples.setdefault(key, ([], []))
        values.extend(datum.values)
        counts.extend(datum.counts)
    rows = []
    for key in sorted(set(made) | set(counted) | set(samples)):
        values, counts = samples.get(key, ([], []))
        rows.append(RouteLatency(*key, made.get(key, 0), counted.get(key, 0.0),
                                 percentile(values, counts, 50), percentile(values, counts, 99)))
    return rows


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def summary_lines(report: DemoReport, latencies: Sequence[RouteLatency]) -> list[str]:
    """The summary the demo prints and the preview shows."""
    lines = ["namespaces in CloudWatch: " + ", ".join(f"{ns} ({n} metrics)" for ns, n in sorted(report.namespaces.items()))]
    lines.append(f"metric data extracted from EMF: {report.extracted_datums}; EMF events rejected: {report.rejected_events}")
    lines.extend(f"  rejected: {reason}" for reason in sorted(set(report.rejected_reasons))[:5])
    if latencies:
        lines.append(f"{LATENCY_METRIC} (distribution per scrape) - requests made vs counted in CloudWatch:")
        lines.append(f"  {'method':<7}{'route':<13}{'code':<6}{'made':>6}{'counted':>9}{'p50':>11}{'p99':>11}")
        for row in latencies:
            lines.append(f"  {row.method:<7}{row.route:<13}{row.code:<6}{row.made:>6}{row.counted:>9.0f}"
                         f"{_ms(row.p50):>11}{_ms(row.p99):>11}")
        made = sum(r.made for r in latencies)
        counted = sum(r.counted for r in latencies)
        verdict = "all counted" if made == counted else f"MISMATCH ({counted - made:+.0f})"
        lines.append(f"  total: {made} made, {counted:.0f} counted - {verdict}")
    lines.extend(path_lines(report))
    return lines


def path_lines(report: DemoReport, job: str = "prod/task-service") -> list[str]:
    """One line per CloudWatch path the job was sent on, and what the emulator could not take."""
    lines = [f"EMF:  {job}: {report.emf_datums} metric data extracted, {report.namespaces.get(job, 0)} metrics, "
             f"{report.emf_bytes} bytes of EMF log events"]
    otlp = report.otlp
    if otlp is not None:
        check = ("signature verified" if otlp.verified else
                 f"{otlp.refused} refused: {otlp.refusal}" if otlp.refused else "nothing arrived")
        lines.append(f"OTLP: {job}: {otlp.requests} requests ({check}), {otlp.points} points, {otlp.series} series, "
                     f"{otlp.bytes} bytes (gzip) to {report.otlp_url}")
    if report.promql_alarms:
        lines.append("PromQL alarms validated against botocore's model, not applied to the emulator (moto has no "
                     f"EvaluationCriteria.PromQLCriteria): {', '.join(report.promql_alarms)}")
    else:
        lines.append("PromQL alarms: none in the spec (moto has no EvaluationCriteria.PromQLCriteria; "
                     "they would not be applied to the emulator)")
    return lines
