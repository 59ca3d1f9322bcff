"""Scrape -> EMF of a 100k-series page: promwatch vs a naive prometheus_client + aws-embedded-metrics pipeline.

The page is shaped like a busy web app (generated, deterministic, 100,000 sample lines): per
route, method and status an HTTP latency histogram (12 buckets) and a request counter sharing
its labels, and per queue/cache shard two gauges and two counters. Two scrapes
of it are made, the second with every counter and histogram advanced, so counters produce
increases and histograms distributions; only the second (warm) scrape is timed, as every
scrape after a target's first runs.

* promwatch: ``promwatch.exposition.parse`` -> ``promwatch.emf.translate`` (baselines, and
  the layouts of the families (:mod:`promwatch.emf.columns`), from the first scrape) -> ``promwatch.emf.serialize`` of every document (what a sink does),
  inside ``collector_paused`` with the page and the documents freed before it ends, as the
  scrape cycle pauses the collector for its targets (``promwatch.scrape.cycle``; the cycle's
  relabelling pass, ``process_page``, is left out: the naive pipeline has none either).
* naive: ``prometheus_client.parser.text_string_to_metric_families`` -> per sample one
  ``aws_embedded_metrics`` ``MetricsLogger`` with the labels as dimensions -> its context
  through ``LogSerializer.serialize`` (one document per series, the strings kept, nothing
  sent). It publishes raw cumulative values; it does no deltas at all.

Rows: samples/s for each (best CPU time of round-robin rounds, so both meet the machine's
noise alike), the speedup, peak memory (max RSS of a fresh
subprocess reading the pages from files; promwatch scrapes both, goal <= 256 MB), and EMF
bytes per sample against one document per series (goal <= 0.4x).
"""
from __future__ import annotations

import gc
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

T0 = 1_700_000_000_000
JOB, INSTANCE = "prod/task-service", "10.0.0.12:3000"
BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf")
_ROOT = Path(__file__).resolve().parents[1]


def _family(lines: list[str], name: str, kind: str, help_text: str) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")


def generated_page(series: int = 100_000, scrape: int = 1) -> str:
    """A text-format page of about ``series`` sample lines; ``scrape`` 2 has every cumulative value advanced.

    Like a real service, metrics about one thing share its labels: per (method, path, status)
    a latency histogram and a request counter (45% of the lines), per (queue, shard) two
    gauges and two counters (30%), per (cache, shard) two gauges and two counters (25%).
    """
    grow = scrape - 1
    http = series * 45 // 100 // (len(BUCKETS) + 3)
    queues = series * 30 // 100 // 4
    caches = (series - http * (len(BUCKETS) + 3) - queues * 4) // 4
    http_labels = [
        f'method="{("GET", "POST", "PUT", "DELETE")[i % 4]}",path="/api/v1/resource{i // 12}",status_code="{(200, 201, 404)[i % 3]}"'
        for i in range(http)
    ]
    lines: list[str] = []
    _family(lines, "http_request_duration_seconds", "histogram", "Duration of HTTP requests in seconds")
    for i, labels in enumerate(http_labels):
        cumulative = 0
        for j, le in enumerate(BUCKETS):
            cumulative += (i + j) % 7 + grow * ((i * j) % 5)
            lines.append(f'http_request_duration_seconds_bucket{{le="{le}",{labels}}} {cumulative}')
        lines.append(f"http_request_duration_seconds_sum{{{labels}}} {cumulative * 0.137:.6g}")
        lines.append(f"http_request_duration_seconds_count{{{labels}}} {cumulative}")
    _family(lines, "http_requests_total", "counter", "Count of all HTTP requests")
    lines += [f"http_requests_total{{{labels}}} {i * 3 + grow * (i % 11)}" for i, labels in enumerate(http_labels)]
    for name, kind, unit_of_things, count in (
        ("app_queue", "queue", "q", queues),
        ("app_cache", "cache", "c", caches),
    ):
        things = [f'{kind}="{unit_of_things}{i % 50}",shard="{i // 50}"' for i in range(count)]
        metrics = (
            (f"{name}_depth" if kind == "queue" else f"{name}_size_bytes", "gauge"),
            (f"{name}_oldest_age_seconds" if kind == "queue" else f"{name}_items", "gauge"),
            (f"{name}_processed_total" if kind == "queue" else f"{name}_hits_total", "counter"),
            (f"{name}_failed_total" if kind == "queue" else f"{name}_misses_total", "counter"),
        )
        for m, (metric, metric_kind) in enumerate(metrics):
            _family(lines, metric, metric_kind, metric.replace("_", " ") + ".")
            if metric_kind == "gauge":
                lines += [f"{metric}{{{labels}}} {(i * 31 + m + grow) % 1000}" for i, labels in enumerate(things)]
            else:
                lines += [f"{metric}{{{labels}}} {i * 7 + m + grow * (i % 13)}" for i, labels in enumerate(things)]
    return "\n".join(lines) + "\n"


def _promwatch(first_text: str) -> tuple[Callable[[str], list[str]], int]:
    """A function running the warm scrape, after a first scrape that recorded baselines."""
    from promwatch.emf import EmfSettings, ScrapeStats, TargetInfo, TranslationMemory, serialize, translate
    from promwatch.exposition import ParserMemory, parse
    from promwatch.gcpause import collector_paused

    target, settings = TargetInfo(JOB, INSTANCE), EmfSettings()
    parser_memory, translation_memory = ParserMemory(), TranslationMemory()
    baselines = translate(parse(first_text, memory=parser_memory), target=target, previous=None, settings=settings,
                          now_ms=T0, memory=translation_memory).baselines

    def scrape(text: str) -> list[str]:
        with collector_paused():
            families = parse(text, memory=parser_memory)
            samples = sum(len(f.samples) for f in families)
            result = translate(families, target=target, previous=baselines, settings=settings, now_ms=T0 + 60_000,
                               scrape=ScrapeStats(True, 0.5, samples, samples), memory=translation_memory)
            del families
            lines = [serialize(d) for d in result.documents]
            del result
        return lines

    return scrape, 0


async def _no_environment() -> Any:
    """The loggers are serialized directly, never flushed, so no environment is resolved."""
    raise AssertionError("the naive pipeline never flushes")


def _naive(text: str) -> list[str]:
    from aws_embedded_metrics.logger.metrics_logger import MetricsLogger
    from aws_embedded_metrics.serializers.log_serializer import LogSerializer
    from prometheus_client.parser import text_string_to_metric_families

    out: list[str] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            logger = MetricsLogger(_no_environment)
            logger.set_namespace(JOB)
            logger.put_dimensions({"job": JOB, "instance": INSTANCE, **sample.labels})
            logger.put_metric(sample.name, sample.value)
            out.extend(LogSerializer.serialize(logger.context))
    return out


def _timed(fn: Callable[[], list[str]]) -> tuple[float, list[str]]:
    """CPU time of one ``fn()`` (both pipelines are single-threaded; CPU time is steadier than
    wall time on a shared machine)."""
    gc.collect()
    started = time.process_time()
    result = fn()
    return time.process_time() - started, result


_MEMORY_PROBE = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from benchmarks.bench_pipeline import _promwatch
from benchmarks.bench_pipeline import _naive
if {naive!r}:
    documents = _naive(Path({second!r}).read_text())
else:
    scrape, _ = _promwatch(Path({first!r}).read_text())
    documents = scrape(Path({second!r}).read_text())
# VmHWM, not ru_maxrss: the latter can carry the parent's high-water mark across fork/exec.
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def _peak_rss_mb(first: str, second: str, naive: bool = False) -> float:
    """Max RSS (MB) of a fresh interpreter scraping the pages (read from files, as a response body).

    promwatch scrapes both (baselines, then increases); the naive pipeline only the second.
    """
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp, "first.prom"), Path(tmp, "second.prom")]
        for path, text in zip(paths, (first, second), strict=True):
            path.write_text(text)
        probe = _MEMORY_PROBE.format(root=str(_ROOT), first=str(paths[0]), second=str(paths[1]), naive=naive)
        out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024  # kB


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure both pipelines side by side on the same page (``quick``: 10k series, one round)."""
    series = 10_000 if quick else 100_000
    rounds = 1 if quick else 5
    first, second = generated_page(series, 1), generated_page(series, 2)
    samples = sum(1 for line in second.splitlines() if line and not line.startswith("#"))

    scrape, _ = _promwatch(first)
    promwatch_seconds = naive_seconds = float("inf")
    for _ in range(rounds):
        seconds, promwatch_docs = _timed(lambda: scrape(second))
        promwatch_seconds = min(promwatch_seconds, seconds)
        seconds, naive_docs = _timed(lambda: _naive(second))
        naive_seconds = min(naive_seconds, seconds)

    promwatch_bytes = sum(len(d.encode()) for d in promwatch_docs)
    naive_bytes = sum(len(d.encode()) for d in naive_docs)
    for document in promwatch_docs[:50]:
        from promwatch.emf import validate

        validate(json.loads(document))
    peak_mb = _peak_rss_mb(first, second)
    naive_peak_mb = _peak_rss_mb(first, second, naive=True)
    common = {"benchmark": "pipeline: scrape -> EMF", "samples": samples}
    return [
        {
            **common,
            "subject": "promwatch (parse + translate + serialize)",
            "seconds": round(promwatch_seconds, 3),
            "samples/s": round(samples / promwatch_seconds),
            "speedup": round(naive_seconds / promwatch_seconds, 1),
            "documents": len(promwatch_docs),
            "EMF bytes/sample": round(promwatch_bytes / samples, 1),
            "bytes vs 1 doc/series": round(promwatch_bytes / naive_bytes, 3),
            "peak RSS MB": round(peak_mb, 1),
        },
        {
            **common,
            "subject": "naive (prometheus_client + aws-embedded-metrics, 1 doc/series)",
            "seconds": round(naive_seconds, 3),
            "samples/s": round(samples / naive_seconds),
            "speedup": 1.0,
            "documents": len(naive_docs),
            "EMF bytes/sample": round(naive_bytes / samples, 1),
            "bytes vs 1 doc/series": 1.0,
            "peak RSS MB": round(naive_peak_mb, 1),
        },
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
