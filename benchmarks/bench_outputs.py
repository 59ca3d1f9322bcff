"""The two CloudWatch paths side by side: one 100k-series page as EMF and as OTLP.

The page is :func:`benchmarks.bench_pipeline.generated_page` (a busy web app: latency
histograms, request counters, queue and cache gauges/counters), warm scrape (baselines and
start times from a first scrape), best CPU time of round-robin rounds, both paths in the same
run so the machine's noise meets both alike.

* EMF: ``parse`` -> ``promwatch.emf.translate`` -> ``serialize`` of every document (the
  pipeline benchmark's path). Bytes are the documents' UTF-8 bytes, what PutLogEvents (or
  the function's stdout) ingests and CloudWatch Logs bills, uncompressed.
* OTLP: ``parse`` -> ``promwatch.otlp.to_resource_metrics`` -> ``promwatch.otlp.batches``
  (requests within the endpoint's limits) -> each request's protobuf body -> gzip (level 6, as
  ``promwatch.otlp.sink`` sends it). Bytes are the raw protobuf bodies, the gzipped bodies on
  the wire, and the bytes the per-GB bill counts (:mod:`promwatch_tools.cost.otlpsize`: each
  point with its metric name and resource attributes).

Rows: samples/s and bytes per sample per path; "documents/requests" is EMF documents or OTLP
requests.
"""
from __future__ import annotations

import gc
import gzip
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks.bench_pipeline import INSTANCE, JOB, T0, _promwatch, generated_page

OTLP_GZIP_LEVEL = 6
"""The level promwatch.otlp.sink compresses request bodies with."""


def _otlp(first_text: str) -> Callable[[str], tuple[list[bytes], list[bytes], int]]:
    """A function running the warm OTLP scrape: (raw bodies, gzipped bodies, billed bytes)."""
    from promwatch.exposition import parse
    from promwatch.gcpause import collector_paused
    from promwatch.otlp import ScrapeTarget, batches, to_resource_metrics
    from promwatch_tools.cost.otlpsize import billed_bytes

    target = ScrapeTarget(JOB, INSTANCE, f"http://{INSTANCE}/metrics", {})
    starts = to_resource_metrics(parse(first_text), target=target, now_ms=T0, previous_starts={}).starts

    def scrape(text: str) -> tuple[list[bytes], list[bytes], int]:
        with collector_paused():
            families = parse(text)
            translation = to_resource_metrics(families, target=target, now_ms=T0 + 60_000, previous_starts=starts)
            del families
            requests, too_large = batches([(INSTANCE, translation.resource_metrics)])
            assert not too_large
            raw = [request.body() for request in requests]
            zipped = [gzip.compress(body, compresslevel=OTLP_GZIP_LEVEL) for body in raw]
            billed = billed_bytes(piece for request in requests for piece in request.resource_metrics)
            del translation, requests
        return raw, zipped, billed

    return scrape


def _cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    started = time.process_time()
    result = fn()
    return time.process_time() - started, result


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Both paths on the same page (``quick``: 10k series, one round)."""
    series = 10_000 if quick else 100_000
    rounds = 1 if quick else 5
    first, second = generated_page(series, 1), generated_page(series, 2)
    samples = sum(1 for line in second.splitlines() if line and not line.startswith("#"))

    emf_scrape, _ = _promwatch(first)
    otlp_scrape = _otlp(first)
    emf_seconds = otlp_seconds = float("inf")
    documents: list[str] = []
    otlp_out: tuple[list[bytes], list[bytes], int] = ([], [], 0)
    for _ in range(rounds):
        seconds, documents = _cpu(lambda: emf_scrape(second))
        emf_seconds = min(emf_seconds, seconds)
        seconds, otlp_out = _cpu(lambda: otlp_scrape(second))
        otlp_seconds = min(otlp_seconds, seconds)

    emf_bytes = sum(len(d.encode()) for d in documents)
    raw, zipped, billed = otlp_out
    common = {"benchmark": "outputs: one page as EMF and as OTLP", "samples": samples}
    return [
        {
            **common,
            "subject": "EMF (parse + translate + serialize)",
            "seconds": round(emf_seconds, 3),
            "samples/s": round(samples / emf_seconds),
            "documents/requests": len(documents),
            "bytes/sample": round(emf_bytes / samples, 1),
            "gzip bytes/sample": "",
            "billed bytes/sample": round(emf_bytes / samples, 1),
        },
        {
            **common,
            "subject": "OTLP (parse + map + batch + protobuf + gzip)",
            "seconds": round(otlp_seconds, 3),
            "samples/s": round(samples / otlp_seconds),
            "documents/requests": len(raw),
            "bytes/sample": round(sum(map(len, raw)) / samples, 1),
            "gzip bytes/sample": round(sum(map(len, zipped)) / samples, 1),
            "billed bytes/sample": round(billed / samples, 1),
        },
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
