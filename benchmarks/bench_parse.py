"""Parse speed: promwatch (cold and warm cache) vs prometheus_client, with the str.split floor.

Payloads: a real node_exporter page (``benchmarks/data/node_exporter.prom``, captured from
Debian's prometheus-node-exporter) and a generated page of 100k series shaped like
kube-state-metrics/cAdvisor output (many label sets, counters, gauges and histograms), both in
the text format; and 20k series of the generated page as OpenMetrics, against
prometheus_client's OpenMetrics parser.
*Cold* parses after clearing the series cache (a Lambda's first scrape of a target); *warm*
parses a page whose series were seen before (every later scrape). Rows carry samples/s.
"""
from __future__ import annotations

import gc
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from promwatch.exposition import Family, ParserMemory, parse, render

DATA = Path(__file__).resolve().parent / "data"


def generated_page(series: int = 100_000) -> str:
    """A text-format page with about ``series`` samples, deterministic.

    Per pod: a counter and gauges with four labels, and one histogram with 10 buckets, over
    as many pods as it takes to reach ``series`` samples; values vary so floats are realistic.
    """
    lines: list[str] = []
    families = {
        "container_cpu_usage_seconds_total": "counter",
        "container_memory_working_set_bytes": "gauge",
        "kube_pod_container_status_restarts_total": "counter",
    }
    buckets = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")
    per_pod = len(families) + len(buckets) + 2
    pods = max(1, series // per_pod)
    for name, type_ in families.items():
        lines.append(f"# HELP {name} {name.replace('_', ' ')}.")
        lines.append(f"# TYPE {name} {type_}")
        for pod in range(pods):
            labels = (f'namespace="team-{pod % 37}",pod="api-{pod:06d}-7f9c",'
                      f'container="app",node="ip-10-0-{pod % 251}-{pod % 97}.ec2.internal"')
            lines.append(f"{name}{{{labels}}} {pod * 1.37 + 0.25:.6g}")
    name = "http_request_duration_seconds"
    lines.append(f"# HELP {name} Request latency.")
    lines.append(f"# TYPE {name} histogram")
    for pod in range(pods):
        labels = f'namespace="team-{pod % 37}",pod="api-{pod:06d}-7f9c",handler="/v1/items"'
        for i, le in enumerate(buckets):
            lines.append(f'{name}_bucket{{{labels},le="{le}"}} {pod + i * 3}')
        lines.append(f"{name}_sum{{{labels}}} {pod * 0.731:.6g}")
        lines.append(f"{name}_count{{{labels}}} {pod + 27}")
    return "\n".join(lines) + "\n"


def _measure(fn: Callable[[], object], before: Callable[[], object] | None = None) -> float:
    """Wall time of one ``fn()`` (``before`` runs untimed first)."""
    if before is not None:
        before()
    # Cyclic GC off for every subject alike (promwatch turns it off while parsing anyway):
    # the reference and the floor are measured at their best, not slowed by collections.
    gc.disable()
    try:
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
    finally:
        gc.enable()
    del result  # freeing the parsed page is not parsing; keep it out of the timing
    return elapsed


def _floor(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def _prometheus_client(text: str) -> list[object]:
    from prometheus_client.parser import text_string_to_metric_families

    return list(text_string_to_metric_families(text))


def _prometheus_client_openmetrics(text: str) -> list[object]:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    return list(text_string_to_metric_families(text))


def openmetrics_page(series: int) -> str:
    """The generated page as OpenMetrics (what prometheus_client serves to Prometheus's Accept
    header): the text format's ``*_total`` gauges and counters become unknown-typed families."""
    families = [f if f.type == "histogram" else f._replace(type="unknown") for f in parse(generated_page(series))]
    return render(families, "openmetrics")


def run(quick: bool = False) -> list[dict]:
    """Rows ``{"benchmark", "subject", "payload", "samples", "samples_per_s", "vs_prometheus_client"}``."""
    payloads = {
        "node_exporter": ("prometheus", (DATA / "node_exporter.prom").read_text(), _prometheus_client),
        "generated_100k": ("prometheus", generated_page(10_000 if quick else 100_000), _prometheus_client),
        "generated_20k_openmetrics": ("openmetrics", openmetrics_page(2_000 if quick else 20_000),
                                      _prometheus_client_openmetrics),
    }
    rows: list[dict] = []
    for payload, (format, text, reference_parser) in payloads.items():
        samples = sum(len(f.samples) for f in parse(text, format))
        rounds = 3 if quick else max(3, 20_000 // samples)

        warm_memory = ParserMemory()
        # cold: an empty memory made (and the last one freed) before the timing, as freeing the
        # parsed page is kept out of it
        cold_memory = [ParserMemory()]

        def new_cold_memory(memories: list[ParserMemory] = cold_memory) -> None:
            memories[0] = ParserMemory()

        def promwatch_cold(t: str = text, f: str = format, memories: list[ParserMemory] = cold_memory) -> list[Family]:
            return parse(t, f, memory=memories[0])

        def promwatch_warm(t: str = text, f: str = format, m: ParserMemory = warm_memory) -> list[Family]:
            return parse(t, f, memory=m)

        subjects: dict[str, tuple[Callable[[], object], Callable[[], object] | None]] = {
            "promwatch cold": (promwatch_cold, new_cold_memory),
            "promwatch warm": (promwatch_warm, promwatch_warm),
            "prometheus_client": (partial(reference_parser, text), None),
            "floor (splitlines + split)": (partial(_floor, text), None),
        }
        # Round-robin, best of all rounds: on a shared machine every subject meets the same
        # noise, and the minimum is the stable figure.
        timings = dict.fromkeys(subjects, float("inf"))
        for _ in range(rounds):
            for subject, (fn, before) in subjects.items():
                timings[subject] = min(timings[subject], _measure(fn, before))
        reference = timings["prometheus_client"]
        for subject, seconds in timings.items():
            rows.append({
                "benchmark": "parse",
                "subject": subject,
                "payload": payload,
                "samples": samples,
                "samples_per_s": samples / seconds,
                "vs_prometheus_client": reference / seconds,
            })
    return rows
