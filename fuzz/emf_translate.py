"""The scrape pipeline's pure steps on fuzzed pages, and its EMF against the validator.

Input: one or two response bodies separated by a NUL byte: a target's first scrape and the
next one (counters then have a baseline and publish increases). Each goes the way the scrape
cycle takes a page: :func:`~promwatch.httpclient.fetch.decode_body`, ``parse_page`` (lenient or
strict as the job says), ``process_page`` (target labels, metric relabelling, limits) and
:func:`promwatch.emf.translate`. A checksum of the input picks the response's Content-Type
(none, text, OpenMetrics, or a charset such as ``unicode_escape``) and one of two jobs: the
defaults, or one with metric relabelling, limits, honoured labels and timestamps, and an
``emf:`` section with declarations, dimension roll-ups, log-only labels, units and high
resolution.

Documented errors: ``ParseFailedError`` (also for what ``parse_failure`` judges a failed
scrape) and ``LimitExceededError`` (the target is down for that scrape) and, from the
translation, any ``PromwatchError`` (the cycle leaves that target unpublished). Property: every document the translation produces passes
:func:`promwatch.emf.problems` (it promises valid EMF).
"""
from __future__ import annotations

import zlib

from promwatch.emf import ScrapeStats, TargetInfo, problems, translate
from promwatch.errors import PromwatchError
from promwatch.exposition import Family, decode_body
from promwatch.scrape import LimitExceededError, ScrapeJob, Target, build_targets, parse_config
from promwatch.scrape.process import ParseFailedError, parse_budget, parse_failure, parse_page, process_page
from promwatch.state.model import TargetBaselines

from fuzz.harness import Harness, check, repo_files

MAX_LEN = 4096
NOW_MS = 1_795_168_800_000
INTERVAL_MS = 60_000
CONTENT_TYPES = (
    None,
    "text/plain; version=0.0.4; charset=utf-8",
    "application/openmetrics-text; version=1.0.0; charset=utf-8",
    "text/plain; version=0.0.4; charset=unicode_escape",
    "text/plain; charset=utf-7",
    "text/plain; charset=iso-8859-1",
)
JOBS = parse_config("""
scrape_configs:
  - job_name: plain
    static_configs: [{targets: ["10.0.0.1:9100"], labels: {env: prod}}]
  - job_name: shaped
    honor_labels: true
    honor_timestamps: true
    strict: true
    sample_limit: 400
    label_limit: 12
    label_value_length_limit: 200
    static_configs: [{targets: ["10.0.0.2:3000"], labels: {service: api, route: /static}}]
    metric_relabel_configs:
      - {source_labels: [__name__, le], separator: ";", regex: '.*_bucket;0[.]0.*', action: drop}
      - {regex: "pod_.*", action: labeldrop}
      - {source_labels: [route], target_label: path, regex: "(/[a-z]*).*", replacement: "$1"}
    emf:
      namespace: Fuzz/Shaped
      dimension_rollup_option: ZeroAndSingleDimensionRollup
      log_only_labels: [instance, "trace_.*"]
      units: {".*_seconds.*": Seconds, "node_memory_.*": Bytes}
      storage_resolution: {".*_total": 1}
      metric_declarations:
        - {dimensions: [[job], [job, code], [job, le]], metric_name_selectors: ["^.*$"]}
        - dimensions: [[job, device]]
          metric_name_selectors: ["^node_"]
          label_matchers: [{label_names: [device], regex: "^(eth|lo).*"}]
""").scrape_configs
TARGETS = [(job, build_targets(job)[0][0]) for job in JOBS]


def _families(body: bytes, content_type: str | None, job: ScrapeJob, target: Target) -> tuple[list[Family], ScrapeStats]:
    """What the cycle hands the translation for one response (``[]`` and down when it fails),
    as ``promwatch.scrape.work`` does it."""
    try:
        parsed = parse_page(decode_body(body, content_type), content_type, max_samples=parse_budget(job))
        failure = parse_failure(parsed, job)
        if failure is not None:
            raise ParseFailedError(failure)
        page = process_page(parsed.families, job, target.labels)
    except (ParseFailedError, LimitExceededError):
        return [], ScrapeStats(False, 0.25)
    return page.families, ScrapeStats(True, 0.25, parsed.samples, page.samples_post_relabel)


def _scrape(body: bytes, content_type: str | None, job: ScrapeJob, target: Target,
            previous: TargetBaselines | None, now_ms: int) -> TargetBaselines | None:
    families, stats = _families(body, content_type, job, target)
    info = TargetInfo(job.job_name, target.instance, dict(target.labels), job.honor_timestamps, job.interval)
    try:
        translation = translate(families, target=info, previous=previous, settings=job.emf, now_ms=now_ms, scrape=stats)
    except PromwatchError:  # the cycle leaves the target unpublished
        return previous
    for document in translation.documents:
        found = problems(document)
        check(not found, f"translate produced a document that is not valid EMF: {found}\n{document!r}")
    return translation.baselines


def test_one_input(data: bytes) -> None:
    """Scrape the input's two responses and validate every document."""
    choice = zlib.crc32(data)
    content_type = CONTENT_TYPES[choice % len(CONTENT_TYPES)]
    job, target = TARGETS[(choice // len(CONTENT_TYPES)) % len(TARGETS)]
    first, _, second = data.partition(b"\0")
    baselines = _scrape(first, content_type, job, target, None, NOW_MS)
    _scrape(second, content_type, job, target, baselines, NOW_MS + INTERVAL_MS)


def seeds() -> list[bytes]:
    """The repository's pairs of successive scrapes, and single pages."""
    def read(pattern: str) -> bytes:
        return repo_files(pattern)[0].read_bytes()

    pairs = [
        read("tests/golden/emf/task_service.1.prom") + b"\0" + read("tests/golden/emf/task_service.2.prom"),
        read("tests/golden/emf/openmetrics_types.1.om") + b"\0" + read("tests/golden/emf/openmetrics_types.2.om"),
        read("tests/golden/scrape/app.1.prom") + b"\0" + read("tests/golden/scrape/app.2.prom"),
    ]
    pages = [path.read_bytes() for path in repo_files("tests/golden/exposition/*.prom", "tests/golden/exposition/*.om")]
    return pairs + pages


HARNESS = Harness(
    name="emf_translate",
    test_one_input=test_one_input,
    seeds=seeds,
    share=5,
    max_len=MAX_LEN,
    dictionary=(
        "# HELP ", "# TYPE ", "# UNIT ", "# EOF", "counter", "gauge", "histogram", "gaugehistogram",
        "summary", "info", "stateset", "untyped", "_total", "_created", "_bucket", "_count", "_sum",
        "_gcount", "_gsum", "_info", 'le="+Inf"', 'quantile="0.99"', "+Inf", "-Inf", "NaN", "\0",
        'job="', 'instance="', 'code="', 'device="eth0"', "1795168800000", "1795168800.5", "1e+308",
    ),
)
