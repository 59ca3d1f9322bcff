"""Acceptance: ``promwatch cost`` on the demo's config counts the metrics a real scrape produces.

The demo's config (config/scrape.yaml: the seed's task-service and a node_exporter) is pointed
at the real exporters (the Node app, Debian's prometheus-node-exporter). ``promwatch scrape``
runs twice with a state file, as users run it, with the same requests made before each; the
metrics CloudWatch would extract from both scrapes' EMF are counted with the emulator's
extraction. ``promwatch cost --output json`` scrapes the same targets once per output and must
report, per job, exactly that many metrics.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from promwatch_tools.local.extract import extract_events
from promwatch_tools.local.sampleapp import (
    PlannedRequest,
    RunningApp,
    drive,
    find_app_dir,
    running_task_service,
)

from tests.conftest import free_port, wait_http
from tests.support.system_deps import require_binary, require_node_app

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "config" / "scrape.yaml"
PROMWATCH = str(Path(sys.executable).with_name("promwatch"))
# Idempotent requests: every (method, route, code) series they create moves again each round.
REQUESTS = ([PlannedRequest("GET", "/tasks", "/tasks")] * 3 + [PlannedRequest("GET", "/tasks/1", "/tasks/:id")] * 2
            + [PlannedRequest("GET", "/tasks/424242", "/tasks/:id")])


@pytest.fixture
def task_service() -> Iterator[RunningApp]:
    """The seed's task-service, answering at once."""
    with running_task_service(require_node_app(find_app_dir(ROOT)), work_ms_scale=0) as app:
        yield app


@pytest.fixture
def node_exporter() -> Iterator[str]:
    """Debian's prometheus-node-exporter with its default collectors, as the demo runs it."""
    port = free_port()
    process = subprocess.Popen([require_binary("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/metrics")
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _promwatch(*args: str) -> str:
    done = subprocess.run([PROMWATCH, *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _job_of(namespace: str, dimensions: tuple[tuple[str, str], ...], namespaces: dict[str, str]) -> str:
    """The job a metric belongs to: by its namespace, or the ``job`` dimension of a self-metric."""
    return namespaces.get(namespace) or dict(dimensions)["job"]


def test_cost_counts_the_metrics_a_real_scrape_of_the_demo_config_produces(
    task_service: RunningApp, node_exporter: str, tmp_path: Path
) -> None:
    # given the demo's config pointed at the real task-service and node_exporter
    text = DEMO_CONFIG.read_text()
    assert "127.0.0.1:3000" in text and "127.0.0.1:9100" in text
    config = tmp_path / "scrape.yaml"
    config.write_text(text.replace("127.0.0.1:3000", task_service.target).replace("127.0.0.1:9100", node_exporter))
    # and two real scrapes with the same requests made before each (the first records baselines)
    documents: list[dict[str, Any]] = []
    for _ in range(2):
        drive(task_service.url, REQUESTS)
        out = _promwatch("scrape", "--config", str(config), "--state-file", str(tmp_path / "state.db"))
        documents += [json.loads(line) for line in out.splitlines() if line.strip()]
    extraction = extract_events(documents)
    assert not extraction.rejected
    namespaces = {"prod/task-service": "prod/task-service", "Promwatch/Node": "node"}
    scraped: dict[str, set[tuple[str, str, tuple[tuple[str, str], ...]]]] = {}
    for datum in extraction.datums:
        metric = (datum.namespace, datum.name, datum.dimensions)
        scraped.setdefault(_job_of(datum.namespace, datum.dimensions, namespaces), set()).add(metric)
    # when promwatch cost estimates the same config
    report = json.loads(_promwatch("cost", "--config", str(config), "--output", "json"))
    # then each job's metrics are exactly as many as the real scrapes produced (self-metrics included)
    counted = {job["job"]: job["metrics"] for job in report["jobs"]}
    assert counted == {job: len(metrics) for job, metrics in scraped.items()}
    assert counted["prod/task-service"] > 10 and counted["node"] > 10
    # and the document has exactly the documented shape
    assert set(report) == {"jobs", "total_usd_per_month"}
    keys = {"emf", "otlp", "adot_sidecar", "lambda", "dynamodb", "sqs"}
    assert all(set(job) == {"job", "metrics", "usd_per_month"} and set(job["usd_per_month"]) == keys
               for job in report["jobs"])
    assert set(report["total_usd_per_month"]) == keys
