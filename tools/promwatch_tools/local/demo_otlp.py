"""The demo's two CloudWatch paths side by side: EMF (classic metrics) and OTLP (OpenTelemetry metrics).

The task-service job is sent both ways. The EMF path's metrics are read from the emulator's
CloudWatch (what the extraction put there); the OTLP path's points from the local receiver,
queried with the pack's PromQL through :mod:`promwatch_tools.local.promqleval`. Each pair of
charts shares its time axis.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from promwatch.reconcile import templates_promql

from promwatch_tools.local.otlpreceiver import OtlpReceiver
from promwatch_tools.local.otlpstore import sample_store
from promwatch_tools.local.preview import DashboardView, WidgetView
from promwatch_tools.local.promqleval import Evaluator, NotEvaluated, query_series
from promwatch_tools.local.query import MetricReader, Series
from promwatch_tools.local.widgets import MetricQuery

LATENCY = "http_request_duration_seconds"
MEMORY = "process_resident_memory_bytes"


def copy_project_config(source: Path, target: Path) -> Path:
    """Copy the project's ``config/`` (scrape config, dashboards spec, roll-up rules) to ``target``.

    The demo rewrites the copy's ``scrape.yaml`` (targets, the OTLP endpoint) and applies the
    copy's ``dashboards/``, whose packs read ``../scrape.yaml`` and ``../insights.yaml``.
    """
    if target.exists():
        shutil.rmtree(target)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        target.mkdir(parents=True)
    return target


def emf_bytes(messages: list[str], *, namespace: str) -> int:
    """UTF-8 bytes of the EMF documents among ``messages`` that write metrics into ``namespace`` (pure)."""
    total = 0
    for message in messages:
        try:
            document = json.loads(message)
        except json.JSONDecodeError:
            continue
        directives = (document.get("_aws") or {}).get("CloudWatchMetrics") if isinstance(document, dict) else None
        if directives and any(d.get("Namespace") == namespace for d in directives):
            total += len(message.encode())
    return total


@dataclass(frozen=True, slots=True)
class OtlpTotals:
    """What the receiver accepted (and refused)."""

    requests: int
    points: int
    series: int
    bytes: int
    refused: int
    refusal: str = ""

    @property
    def verified(self) -> bool:
        """True when requests arrived and every one passed the SigV4 check."""
        return self.requests > 0 and self.refused == 0


def otlp_totals(receiver: OtlpReceiver) -> OtlpTotals:
    """Requests, data points, distinct series and body bytes (as sent, gzip) the receiver accepted."""
    points = receiver.points()
    series = {(p.name, tuple(sorted(p.resource.items())), tuple(sorted(p.attributes.items()))) for p in points}
    sent = sum(int(h.get("content-length", 0)) for h in receiver.headers())
    refusals = list(receiver.refusals)
    return OtlpTotals(len(receiver.requests()), len(points), len(series), sent, len(refusals),
                      refusals[0][1] if refusals else "")


class OtlpQueries:
    """PromQL over what the receiver holds, evaluated at the times samples arrived.

    Ranges (``[5m]``) read as ``range_s``: the demo's timeline is seconds, not minutes.
    """

    def __init__(self, receiver: OtlpReceiver, *, range_s: float) -> None:
        store = sample_store(receiver.points())
        self.steps = store.times()
        self.evaluator = Evaluator(store, range_override_s=range_s)
        self.range_s = range_s

    def series(self, queries: Sequence[tuple[str, str | None]]) -> tuple[list[Series], list[str]]:
        """The lines of a chart's PromQL queries, and notes on what was not evaluated."""
        out: list[Series] = []
        notes: list[str] = []
        for query, label in queries:
            try:
                lines = query_series(self.evaluator, query, label=label, steps=self.steps)
            except NotEvaluated as reason:
                notes.append(f"not evaluated locally: {reason}")
                continue
            if not lines:
                notes.append(f"no series: nothing that arrived over OTLP matches {query}")
            out.extend(lines)
        return out, notes

    @property
    def note(self) -> str:
        """How the PromQL charts were drawn (said once per dashboard)."""
        return (f"PromQL charts evaluated locally over the OTLP receiver's points, ranges read as "
                f"[{self.range_s:g}s] (the demo's compressed timeline)")


def _span(*groups: Sequence[Series]) -> tuple[float, float] | None:
    times = [t for group in groups for line in group for t in line.timestamps]
    return (min(times), max(times)) if times and min(times) < max(times) else None


def both_ways_dashboard(reader: MetricReader, otlp: OtlpQueries, *, job: str, period_s: int) -> DashboardView:
    """The job's requests, p99 latency and memory, each from the EMF path beside the OTLP path."""
    selector = {"job": job}
    pairs = [
        ("requests", MetricQuery(job, LATENCY, tuple(selector.items()), "SampleCount", period_s,
                                 f"requests per {period_s} s"),
         (templates_promql.counter_rate(f"{LATENCY}_count", job), "requests per second")),
        ("p99 latency", MetricQuery(job, LATENCY, tuple(selector.items()), "p99", period_s, "p99"),
         (templates_promql.quantiles(LATENCY, job)[-1].query, "p99")),
        ("resident memory (gauge)", MetricQuery(job, MEMORY, tuple(selector.items()), "Average", period_s, "bytes"),
         (templates_promql.gauge(MEMORY, job, aggregate="max"), "bytes")),
    ]
    view = DashboardView(f"{job} both ways: EMF (left) and OTLP (right)",
                         "the same scrapes, written as EMF and extracted by CloudWatch / sent over OTLP and "
                         f"queried with PromQL; each pair shares its time axis; {otlp.note}")
    for title, emf_query, promql in pairs:
        emf_series, emf_notes = reader.series([emf_query])
        otlp_series, otlp_notes = otlp.series([promql])
        span = _span(emf_series, otlp_series)
        view.widgets.append(WidgetView(f"EMF: {title} ({emf_query.name} {emf_query.stat})", "metric", emf_series,
                                       emf_notes, x_range=span))
        view.widgets.append(WidgetView(f"OTLP: {title} (PromQL)", "chart", otlp_series,
                                       [f"query: {promql[0]}", *otlp_notes], x_range=span))
    return view
