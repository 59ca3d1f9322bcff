"""Acceptance: scraping the seed's Express task-service (prometheus-api-metrics) as job prod/task-service.

The real app runs under node; ``promwatch scrape`` runs as separate processes (baselines in a
state file, as users run it), and its EMF goes through the CloudWatch extraction emulation.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from promwatch.emf import problems
from promwatch_tools.local.emulator import free_port
from promwatch_tools.local.extract import ExtractedDatum, extract_events
from promwatch_tools.local.sampleapp import (
    PlannedRequest,
    RunningApp,
    TrafficPlanner,
    drive,
    find_app_dir,
    running_task_service,
)

from tests.support.system_deps import require_node_app

pytestmark = pytest.mark.e2e

JOB = "prod/task-service"
PROMWATCH = str(Path(sys.executable).with_name("promwatch"))


@pytest.fixture(scope="module")
def app_dir() -> Path:
    """The task-service's directory, its npm packages installed."""
    return require_node_app(find_app_dir(Path(__file__).resolve().parents[2]))


@pytest.fixture(scope="module")
def app(app_dir: Path) -> Iterator[RunningApp]:
    """The task-service on a free port, answering at once (no simulated work)."""
    with running_task_service(app_dir, work_ms_scale=0.2) as running:
        yield running


def _scrape(config: Path, state: Path) -> list[dict[str, object]]:
    done = subprocess.run([PROMWATCH, "scrape", "--config", str(config), "--state-file", str(state)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def _config(tmp_path: Path, target: str) -> Path:
    path = tmp_path / "scrape.yaml"
    path.write_text(yaml.safe_dump({
        "scrape_configs": [{
            "job_name": JOB,
            "static_configs": [{"targets": [target]}],
            "emf": {"log_only_labels": ["instance"]},
        }],
    }))
    return path


def _counts_by_route(datums: list[ExtractedDatum]) -> Counter[tuple[str, str, str]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for datum in datums:
        dims = dict(datum.dimensions)
        if datum.name == "http_request_duration_seconds" and set(dims) == {"job", "method", "route", "code"}:
            counts[(dims["method"], dims["route"], dims["code"])] += int(datum.sample_count)
    return counts


def test_latency_distributions_count_the_requests_made_between_scrapes(app: RunningApp, tmp_path: Path) -> None:
    # given the app with some traffic already, and a first scrape that records baselines
    config, state = _config(tmp_path, app.target), tmp_path / "state.db"
    planner = TrafficPlanner(random.Random(11))
    drive(app.url, planner.plan(15))
    first = _scrape(config, state)
    # when N requests are made and the app is scraped again, in another process
    made = drive(app.url, planner.plan(80))
    second = _scrape(config, state)
    # then every document is valid EMF, and CloudWatch would extract from the second scrape
    # distributions whose counts are exactly the requests made, per method, route and code
    assert all(not problems(doc) for doc in first + second)
    extraction = extract_events(second)
    assert not extraction.rejected
    assert _counts_by_route(extraction.datums) == made
    assert sum(made.values()) == 80
    # and each distribution is consistent: its Values/Counts add up to its Count
    latency = [d for d in extraction.datums if d.name == "http_request_duration_seconds"]
    assert latency and all(d.distribution and sum(d.counts) == d.sample_count for d in latency)
    assert all(0 <= d.minimum <= d.maximum and d.sum >= 0 for d in latency)


def test_namespace_is_the_job_and_heap_is_by_space(app: RunningApp, tmp_path: Path) -> None:
    # given one scrape of the app as job prod/task-service
    documents = _scrape(_config(tmp_path, app.target), tmp_path / "state.db")
    # when CloudWatch extracts it
    extraction = extract_events(documents)
    app_datums = [d for d in extraction.datums if d.namespace == JOB]
    # then the app's metrics are in namespace prod/task-service
    assert {d.namespace for d in extraction.datums} <= {JOB, "Promwatch"}
    # and nodejs_heap_space_size_used_bytes is one metric per V8 heap space, in bytes
    heap = [d for d in app_datums if d.name == "nodejs_heap_space_size_used_bytes"]
    spaces = {dict(d.dimensions)["space"] for d in heap}
    assert {"new", "old", "code", "large_object"} <= spaces
    assert all(set(dict(d.dimensions)) == {"job", "space"} and d.unit == "Bytes" for d in heap)
    # and the scrape's own metrics say the target was up
    up = [d for d in app_datums if d.name == "up"]
    assert up and all(d.values == (1.0,) for d in up)


def test_counts_stay_right_across_a_restart_of_the_app(app_dir: Path, tmp_path: Path) -> None:
    # given the app scraped once, then after some requests scraped again
    port = free_port()
    config, state = _config(tmp_path, f"127.0.0.1:{port}"), tmp_path / "state.db"
    before = [PlannedRequest("GET", "/tasks", "/tasks")] * 6 + [PlannedRequest("GET", "/tasks/1", "/tasks/:id")] * 4
    with running_task_service(app_dir, port=port, work_ms_scale=0) as app:
        _scrape(config, state)
        drive(app.url, before)
        _scrape(config, state)
    # when the app restarts on the same address (its counters start again from zero), serves
    # fewer requests on the old series plus a new one, and is scraped again
    after = [PlannedRequest("GET", "/tasks", "/tasks")] * 2 + [
        PlannedRequest("GET", "/tasks/2", "/tasks/:id"),
        PlannedRequest("POST", "/tasks", "/tasks", {"title": "after the restart"}),
    ]
    with running_task_service(app_dir, port=port, work_ms_scale=0) as app:
        made = drive(app.url, after)
        documents = _scrape(config, state)
    # then the reset is seen: the distributions count exactly the requests since the restart
    assert all(not problems(doc) for doc in documents)
    assert _counts_by_route(extract_events(documents).datums) == made
    assert made == Counter({("GET", "/tasks", "200"): 2, ("GET", "/tasks/:id", "200"): 1,
                            ("POST", "/tasks", "201"): 1})
