"""End to end: ``promwatch backfill prometheus`` against Debian's Prometheus holding 3 days of history,
made instantly with ``promtool tsdb create-blocks-from openmetrics``: a counter with a reset, a
classic histogram with a reset and a gauge. The EMF's per-period values equal the increases
computed here from the same samples, and a run interrupted and resumed with its checkpoint,
then run once more, writes every period exactly once."""
from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from promwatch.emf import problems

from tests.conftest import free_port, wait_http
from tests.support.system_deps import require_binary

pytestmark = pytest.mark.e2e

PROMWATCH = str(Path(sys.executable).with_name("promwatch"))
STEP_S = 60
DAYS = 3
BOUNDS = ("0.1", "0.5", "1.0", "+Inf")
LABELS = 'job="task-service",instance="10.0.1.7:3000"'


@dataclass
class History:
    start_s: int
    end_s: int
    counter: list[tuple[int, float]]
    histogram: list[tuple[int, list[float], float, float]]  # time, cumulative buckets, sum, count
    gauge: list[tuple[int, float]]


def _history(now_s: int) -> History:
    """Samples every minute for 3 days ending 10 minutes before ``now_s``; the counter resets a day
    in, the histogram two days in."""
    end = now_s // STEP_S * STEP_S - 600
    start = end - DAYS * 86400
    history = History(start, end, [], [], [])
    requests, buckets, total = 0.0, [0.0, 0.0, 0.0, 0.0], 0.0
    for i, t in enumerate(range(start, end, STEP_S)):
        requests = 2.0 if t == start + 86400 else requests + (i * 7) % 5
        if t == start + 2 * 86400:
            buckets, total = [0.0, 0.0, 0.0, 0.0], 0.0
        fast, mid, slow = i % 3, (i * 5) % 4, i % 2
        buckets = [buckets[0] + fast, buckets[1] + fast + mid, buckets[2] + fast + mid + slow,
                   buckets[3] + fast + mid + slow + (i % 7 == 0)]
        total += fast * 0.05 + mid * 0.3 + slow * 0.75 + (i % 7 == 0) * 2.5
        history.counter.append((t, requests))
        history.histogram.append((t, list(buckets), round(total, 6), buckets[3]))
        history.gauge.append((t, float(10 + (i * 13) % 17)))
    return history


def _openmetrics(history: History) -> str:
    lines = ["# TYPE http_requests counter"]
    lines += [f"http_requests_total{{{LABELS}}} {v} {t}" for t, v in history.counter]
    lines.append("# TYPE http_request_duration_seconds histogram")
    for t, buckets, total, count in history.histogram:
        lines += [f'http_request_duration_seconds_bucket{{{LABELS},le="{le}"}} {v} {t}' for le, v in zip(BOUNDS, buckets, strict=True)]
        lines += [f"http_request_duration_seconds_sum{{{LABELS}}} {total} {t}",
                  f"http_request_duration_seconds_count{{{LABELS}}} {count} {t}"]
    lines.append("# TYPE queue_depth gauge")
    lines += [f"queue_depth{{{LABELS}}} {v} {t}" for t, v in history.gauge]
    return "\n".join([*lines, "# EOF", ""])


def _increases(samples: list[tuple[int, float]]) -> dict[int, float]:
    """Per sample after the first: its increase (the value itself after a reset), by sample time in ms."""
    return {t * 1000: (v - p if v >= p else v) for (_, p), (t, v) in itertools.pairwise(samples)}


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, History]]:
    """Prometheus serving the history from blocks promtool made, on a free port."""
    promtool, binary = require_binary("promtool", package="prometheus"), require_binary("prometheus")
    where = tmp_path_factory.mktemp("prometheus")
    history = _history(int(time.time()))
    (where / "history.om").write_text(_openmetrics(history))
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(where / "history.om"), str(where / "data")],
                   check=True, capture_output=True, timeout=300)
    (where / "prometheus.yml").write_text("global: {scrape_interval: 1m}\nscrape_configs: []\n")
    port = free_port()
    process = subprocess.Popen(
        [binary, f"--config.file={where / 'prometheus.yml'}", f"--storage.tsdb.path={where / 'data'}",
         "--storage.tsdb.retention.time=30d", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/-/ready", timeout=60, success=True)
        yield f"http://127.0.0.1:{port}", history
    finally:
        process.terminate()
        process.wait(timeout=30)


def _backfill(url: str, history: History, tmp_path: Path, out: str, *extra: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "scrape.yaml"
    config.write_text("scrape_configs:\n  - job_name: task-service\n    scrape_interval: 1m\n"
                      "    static_configs: [{targets: ['10.0.1.7:3000']}]\n    emf: {namespace: prod/task-service}\n")
    iso = lambda s: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))  # noqa: E731
    return subprocess.run(
        [PROMWATCH, "backfill", "prometheus", "--url", url, "--match", '{job="task-service"}',
         "--start", iso(history.start_s), "--end", iso(history.end_s), "--job", "task-service",
         "--config", str(config), "--output", f"file:{tmp_path / out}", "--checkpoint", str(tmp_path / "checkpoint.json"),
         *extra],
        capture_output=True, text=True, timeout=600, check=False,
    )


def _documents(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    documents = [json.loads(line) for line in path.read_text().splitlines() if line]
    assert all(problems(document) == [] for document in documents)
    return documents


def _by_period(documents: list[dict[str, Any]], name: str) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for document in documents:
        if name in document:
            stamp = document["_aws"]["Timestamp"]
            assert stamp not in out, f"{name} of period {stamp} written twice"
            out[stamp] = document[name]
    return out


def test_three_days_backfill_equals_the_samples_increases_and_resumes_without_double_counting(
    prometheus: tuple[str, History], tmp_path: Path
) -> None:
    url, history = prometheus
    # Given a backfill stopped after 30 of its hourly chunks
    began = time.monotonic()
    first = _backfill(url, history, tmp_path, "first.jsonl", "--max-chunks", "30")
    assert first.returncode == 0, first.stderr
    assert "stopped after --max-chunks 30" in first.stderr
    # When the same command runs again with the checkpoint, and then once more
    second = _backfill(url, history, tmp_path, "second.jsonl")
    elapsed = time.monotonic() - began
    third = _backfill(url, history, tmp_path, "third.jsonl")
    print(f"3 days backfilled in {elapsed:.1f}s (two runs)")
    # Then the second finishes the range, the third writes nothing and says why
    assert second.returncode == 0, second.stderr
    assert third.returncode == 1 and "already complete" in third.stderr and not _documents(tmp_path / "third.jsonl")
    documents = _documents(tmp_path / "first.jsonl") + _documents(tmp_path / "second.jsonl")
    assert {d["_aws"]["CloudWatchMetrics"][0]["Namespace"] for d in documents} == {"prod/task-service", "Promwatch"}
    health = [d for d in documents if d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Promwatch"]
    assert sum(d["ChunksWritten"] for d in health) == 72 and not any("DroppedSamples" in d for d in health)
    # And the counter's per-minute values are the samples' increases, the reset's minute its new value
    counter = _by_period(documents, "http_requests_total")
    expected = _increases(history.counter)
    assert counter == expected and counter[(history.start_s + 86400) * 1000] == 2.0
    assert sum(counter.values()) == sum(expected.values())
    # And each histogram minute is a distribution of that minute's observations (count and sum)
    histogram = _by_period(documents, "http_request_duration_seconds")
    counts = {t: c for t, c in _increases([(t, count) for t, _, _, count in history.histogram]).items() if c > 0}
    sums = _increases([(t, total) for t, _, total, _ in history.histogram])
    assert {t: d["Count"] for t, d in histogram.items()} == counts
    assert all(sum(d["Counts"]) == d["Count"] for d in histogram.values())
    assert all(d["Sum"] == pytest.approx(sums[t]) for t, d in histogram.items())
    # And the gauge is a statistic set of the one sample of each minute (the first one included)
    gauge = _by_period(documents, "queue_depth")
    assert {t: (d["Sum"], d["Count"]) for t, d in gauge.items()} == {t * 1000: (v, 1) for t, v in history.gauge}
