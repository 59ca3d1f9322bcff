"""What one scrape of each job produces, measured by running the real scrape cycle.

Each job is scraped twice, through :func:`promwatch.scrape.run_cycle` (the code ``promwatch
scrape`` and the function run): once with its EMF output, once with an OTLP output, each time
with every target's baselines "already scraped, every series new" (:class:`EverySeriesNew`),
so the translation's own rules (:mod:`promwatch.emf.increase`: a series without a baseline on
a target already scraped counts from zero) publish every counter, summary and histogram with
observations -- the steady state in which every series moves within an hour, which is what
CloudWatch bills a metric for. A histogram series that never observed anything publishes
nothing, in this estimate as in a real scrape.

Nothing is sent anywhere: the EMF documents and the OTLP request bodies (batched, serialized
and gzipped by the real :class:`promwatch.otlp.OtlpSink`) are captured and measured. The
metrics are what CloudWatch would extract from the documents
(:func:`promwatch_tools.local.extract.extract_document`, the emulator's extraction), the
``Promwatch`` self-metrics of the job included.
"""
from __future__ import annotations

import dataclasses
import gzip
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.proto.metrics.v1.metrics_pb2 import ResourceMetrics
from promwatch.emf import serialize
from promwatch.otlp import EmfOutputChoice, OtlpOutput
from promwatch.otlp.encode import points_of
from promwatch.otlp.sink import HttpResponse, OtlpSink
from promwatch.scrape import ScrapeConfig, ScrapeJob, Target, run_cycle, select_targets
from promwatch.scrape.selection import Discover
from promwatch.sinks import MemorySink
from promwatch.sinks.batching import LogEvent, batches
from promwatch.state import Loaded, TargetBaselines

from promwatch_tools.cost.otlpsize import billed_bytes
from promwatch_tools.cost.pages import SavedPages
from promwatch_tools.local.extract import extract_document

MetricId = tuple[str, str, tuple[tuple[str, str], ...]]
"""(namespace, metric name, dimensions): one CloudWatch metric."""
CAPTURE_ENDPOINT = "http://promwatch-cost.invalid/v1/metrics"
"""Where the OTLP cycle's requests "go" (captured by :class:`_CapturedRequests`, never sent)."""
OTLP_GZIP_LEVEL = 6
"""As promwatch.otlp.sink compresses request bodies (for the gzipped size of the captured bodies)."""


@dataclass(slots=True)
class JobMeasurement:
    """One cycle of one job, as measured.

    Attributes
    ----------
    job, interval_seconds
        The job and its ``scrape_interval``.
    targets, targets_up
        Targets selected, and those whose scrape succeeded.
    metrics
        Distinct CloudWatch metrics the EMF documents declare (self-metrics included).
    emf_documents, emf_bytes, emf_gzip_bytes
        Documents, their UTF-8 bytes (ingested), and those bytes gzipped (stored).
    put_log_events
        PutLogEvents calls the documents need (1 MiB / 10,000 events a call).
    otlp_requests, otlp_points, otlp_raw_bytes, otlp_gzip_bytes, otlp_billed_bytes
        The OTLP requests, their data points, protobuf bytes, gzipped bytes, and the bytes the
        per-GB bill counts (:func:`promwatch_tools.cost.otlpsize.billed_bytes`).
    cpu_seconds
        CPU seconds of the EMF cycle in this process.
    fanout_bytes_per_target
        A target's share of a fan-out message body (:func:`promwatch.scrape.fanout.batch_body`).
    baseline_bytes
        Per target, the compressed baselines the DynamoDB store would write.
    problems
        Targets that were down or refused, with the reason.
    """

    job: str
    interval_seconds: float
    targets: int = 0
    targets_up: int = 0
    metrics: set[MetricId] = field(default_factory=set)
    emf_documents: int = 0
    emf_bytes: int = 0
    emf_gzip_bytes: int = 0
    put_log_events: int = 0
    otlp_requests: int = 0
    otlp_points: int = 0
    otlp_raw_bytes: int = 0
    otlp_gzip_bytes: int = 0
    otlp_billed_bytes: int = 0
    cpu_seconds: float = 0.0
    fanout_bytes_per_target: float = 0.0
    baseline_bytes: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class EverySeriesNew:
    """A state store whose every target was scraped before and held no series (see the module docstring).

    Claims always succeed; what a cycle saves is kept in :attr:`saved` (to size the DynamoDB items).
    """

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], TargetBaselines] = {}

    def load(self, job: str, instance: str) -> Loaded:
        """An empty record saved at the epoch: not a first scrape, and no series known."""
        return Loaded(TargetBaselines(scraped_at_ms=0), 1)

    def save(self, job: str, instance: str, baselines: TargetBaselines, *, expected_version: int) -> int:
        """Keep ``baselines``."""
        self.saved[(job, instance)] = baselines
        return expected_version + 1

    def claim(self, job: str, instance: str, *, owner: str, until_ms: int, now_ms: int) -> bool:
        """Always granted."""
        return True

    def release(self, job: str, instance: str, *, owner: str) -> None:
        """Nothing to give back."""



class _CapturedRequests:
    """An OTLP transport answering 200 to every request and keeping its (gzipped) body."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def post(self, url: str, headers: dict[str, str], body: bytes, timeout: float) -> HttpResponse:
        self.bodies.append(body)
        return HttpResponse(200, {}, b"")


class _CountingSink(OtlpSink):
    """The real OTLP sink, also sizing what it is given as the bill counts it."""

    def __init__(self, transport: _CapturedRequests) -> None:
        super().__init__(CAPTURE_ENDPOINT, lambda url, headers, body: headers, transport=transport)
        self.billed = 0
        self.points = 0

    def add(self, resource_metrics: ResourceMetrics, *, ticket: Hashable = None) -> None:
        """Size ``resource_metrics``, then buffer it."""
        self.billed += billed_bytes([resource_metrics])
        self.points += sum(len(points_of(m)) for s in resource_metrics.scope_metrics for m in s.metrics)
        super().add(resource_metrics, ticket=ticket)


def _with_outputs(config: ScrapeConfig, job: ScrapeJob, outputs: list[EmfOutputChoice | OtlpOutput]) -> ScrapeConfig:
    jobs = [j.model_copy(update={"outputs": outputs}) if j.job_name == job.job_name else j
            for j in config.scrape_configs]
    return config.model_copy(update={"scrape_configs": jobs})


def _served_over_http(target: Target) -> Target:
    """A saved page is served without TLS: an https target is fetched over http."""
    if not target.url.startswith("https://"):
        return target
    return dataclasses.replace(target, url="http://" + target.url.removeprefix("https://"))


def measure_jobs(
    config: ScrapeConfig,
    *,
    jobs: list[str] | None = None,
    pages: Path | None = None,
    discover: Discover | None = None,
) -> list[JobMeasurement]:
    """Scrape each selected job once per output and measure what it produced.

    Parameters
    ----------
    config
        The scrape config.
    jobs
        Only these jobs (None: all).
    pages
        Serve saved pages from this directory instead of fetching the targets
        (:mod:`promwatch_tools.cost.pages`).
    discover
        Service discovery (as ``promwatch scrape`` has it); None: static targets only.

    Raises
    ------
    ConfigError
        When ``jobs`` names an unknown job.
    CostError
        When a target has no saved page.
    """
    from promwatch.httpclient import ConnectionPool

    selection = select_targets(config, jobs, discover=discover)
    measured: list[JobMeasurement] = []
    for job in config.scrape_configs:
        targets = [t for j, t in selection.selected if j.job_name == job.job_name]
        if jobs is not None and job.job_name not in jobs:
            continue
        if pages is None:
            measured.append(_measure_job(config, job, targets, {}))
            continue
        targets = [_served_over_http(t) for t in targets]
        saved = SavedPages(pages, targets)
        with ConnectionPool(connect=saved.connect) as pool:  # this job's: closed with its threads
            measured.append(_measure_job(config, job, targets, {"pool": pool, "resolver": saved.resolve}))
    return measured


def _measure_job(config: ScrapeConfig, job: ScrapeJob, targets: list[Target], extra: dict[str, Any]) -> JobMeasurement:
    from promwatch.scrape.fanout import batch_body

    out = JobMeasurement(job=job.job_name, interval_seconds=job.interval, targets=len(targets))
    if not targets:
        return out
    out.fanout_bytes_per_target = len(batch_body(targets).encode("utf-8")) / len(targets)
    documents = MemorySink()
    store = EverySeriesNew()
    started = time.process_time()
    report = run_cycle(_with_outputs(config, job, [EmfOutputChoice()]), jobs=[job.job_name], targets=targets,
                       state_store=store, sink=documents, sink_for_output=lambda output: documents, **extra)
    out.cpu_seconds = time.process_time() - started
    out.targets_up = sum(1 for t in report.targets if t.up)
    out.problems = [f"{t.instance}: {t.error}" for t in report.targets if t.error]
    lines = [serialize(d) for d in documents.documents]
    for document in documents.documents:
        for datum in extract_document(document):
            out.metrics.add((datum.namespace, datum.name, datum.dimensions))
    out.emf_documents = len(lines)
    out.emf_bytes = sum(len(line.encode("utf-8")) for line in lines)
    out.emf_gzip_bytes = len(gzip.compress("\n".join(lines).encode("utf-8"), compresslevel=OTLP_GZIP_LEVEL))
    out.put_log_events = len(batches(LogEvent(0, line) for line in lines))
    out.baseline_bytes = [_compressed_size(b) for b in store.saved.values()]

    transport = _CapturedRequests()
    counting: list[_CountingSink] = []

    def otlp_sink(output: OtlpOutput) -> OtlpSink:
        counting.append(_CountingSink(transport))
        return counting[-1]

    run_cycle(_with_outputs(config, job, [OtlpOutput(endpoint=CAPTURE_ENDPOINT)]), jobs=[job.job_name],
              targets=targets, state_store=EverySeriesNew(), sink=MemorySink(), sink_for_otlp=otlp_sink,
              **extra)
    out.otlp_requests = len(transport.bodies)
    out.otlp_gzip_bytes = sum(len(body) for body in transport.bodies)
    out.otlp_raw_bytes = sum(len(gzip.decompress(body)) for body in transport.bodies)
    out.otlp_billed_bytes = sum(sink.billed for sink in counting)
    out.otlp_points = sum(sink.points for sink in counting)
    return out


def _compressed_size(baselines: TargetBaselines) -> int:
    from promwatch.state.record import compress_baselines

    return len(compress_baselines(baselines))
