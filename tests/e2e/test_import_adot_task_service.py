"""Acceptance (issue 13): the seed's ADOT sidecar config, imported unchanged, scrapes the seed's
task-service into namespace prod/task-service with the dimensions awsemf would have produced.

The real app runs under node; ``promwatch import adot`` and ``promwatch scrape`` run as the
user runs them; the EMF goes to the embedded AWS emulator's CloudWatch Logs, into the log group
awsemf wrote to, and is read back and extracted as CloudWatch would. The only edit to the
imported config is the target's address: the sidecar reached the app at ``localhost:3000`` in
its pod, the test's app listens on a free port.

The dimensions awsemf would have produced are computed here from the app's own page, following
the exporter's code (open-telemetry/opentelemetry-collector-contrib, exporter/awsemfexporter:
``createLabels`` adds ``OTelLib``, ``groupedMetricToCWMeasurement`` and ``dimensionRollup`` with
the default ``ZeroAndSingleDimensionRollup``), independently of promwatch's translation.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from promwatch.emf import problems
from promwatch.exposition import parse
from promwatch_tools.importers import OTEL_SCOPE_NAME
from promwatch_tools.local.emulator import Emulator, running_emulator
from promwatch_tools.local.extract import extract_events
from promwatch_tools.local.sampleapp import (
    RunningApp,
    TrafficPlanner,
    drive,
    find_app_dir,
    running_task_service,
)

from tests.support.system_deps import require_node_app

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "adot" / "otel-config.yaml"
PROMWATCH = str(Path(sys.executable).with_name("promwatch"))
NAMESPACE = "prod/task-service"
LOG_GROUP = "/metrics/prod/task-service"
SCRAPE_METRICS = ("up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling")
"""promwatch's per-target scrape metrics: published by job and instance, so that an ``up == 0``
alarm names its target (awsemf published them with OTelLib alone, every target together: the
importer says so on stderr)."""

Published = set[tuple[str, frozenset[tuple[str, str]]]]


@pytest.fixture(scope="module")
def app() -> Iterator[RunningApp]:
    """The task-service on a free port, answering at once."""
    with running_task_service(require_node_app(find_app_dir(ROOT)), work_ms_scale=0) as running:
        yield running


@pytest.fixture(scope="module")
def aws() -> Iterator[Emulator]:
    """The embedded AWS emulator (a moto server) for CloudWatch Logs."""
    with running_emulator() as emulator:
        yield emulator


def awsemf_dimensions(name: str, labels: dict[str, str]) -> Published:
    """The dimension sets (with values) awsemf publishes for one series of a prometheus receiver
    job, with no settings: the series' labels (job and instance are resource attributes) plus
    OTelLib, its full set, OTelLib alone when it has labels, and OTelLib with each label."""
    with_lib = {**labels, "OTelLib": OTEL_SCOPE_NAME}
    sets = [set(with_lib), {"OTelLib"} if labels else set(with_lib)] + [{"OTelLib", key} for key in labels]
    return {(name, frozenset((key, with_lib[key]) for key in keys)) for keys in sets}


def expected_from_page(page: str) -> Published:
    """awsemf's dimension sets for every series of the page (histograms as one metric per label
    set, as awsemf publishes them)."""
    expected: Published = set()
    for family in parse(page):
        for sample in family.samples:
            labels = {k: v for k, v in sample.labels.items() if not (family.type == "histogram" and k == "le")}
            expected |= awsemf_dimensions(family.name, labels)
    return expected


def _run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([PROMWATCH, *argv], capture_output=True, text=True, timeout=120, check=False, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_imported_sidecar_config_lands_in_prod_task_service_with_awsemfs_dimensions(
    app: RunningApp, aws: Emulator, tmp_path: Path,
) -> None:
    # given the seed's otel-config.yaml imported unchanged, its target pointed at the running app
    env = {**os.environ, **aws.environment()}
    imported = yaml.safe_load(_run(["import", "adot", str(FIXTURE)], env))
    [job] = imported["scrape_configs"]
    assert job["static_configs"] == [{"targets": ["localhost:3000"]}]
    job["static_configs"] = [{"targets": [app.target]}]
    config = tmp_path / "scrape.yaml"
    config.write_text(yaml.safe_dump(imported))
    # when it is scraped twice with traffic in between, as the schedule would
    scrape = ["scrape", "--config", str(config), "--state-file", str(tmp_path / "state.db")]
    planner = TrafficPlanner(random.Random(13))
    drive(app.url, planner.plan(10))
    _run(scrape, env)
    drive(app.url, planner.plan(40))
    _run(scrape, env)
    # then the documents are in awsemf's log group, valid EMF
    logs = aws.client("logs")
    events = logs.filter_log_events(logGroupName=LOG_GROUP)["events"]
    documents = [json.loads(event["message"]) for event in events]
    assert documents and all(not problems(doc) for doc in documents)
    # and CloudWatch extracts them into namespace prod/task-service
    extraction = extract_events(documents)
    assert not extraction.rejected
    assert {d.namespace for d in extraction.datums} == {NAMESPACE}
    published: Published = {(d.name, frozenset(d.dimensions)) for d in extraction.datums
                            if d.name not in SCRAPE_METRICS}
    # (the scrape metrics by target, as promwatch publishes them everywhere)
    target = {("instance", app.target), ("job", NAMESPACE)}
    assert {(d.name, frozenset(d.dimensions)) for d in extraction.datums if d.name in SCRAPE_METRICS} == {
        (name, frozenset(target)) for name in SCRAPE_METRICS}
    # with only dimension sets awsemf would have produced for the app's series
    expected = expected_from_page(requests.get(f"{app.url}/metrics", timeout=10).text)
    assert published <= expected, sorted(published - expected, key=str)[:10]
    # and, for every series published, all of them: its full set, OTelLib alone and each roll-up
    for name, dims in published:
        labels = {k: v for k, v in dims if k != "OTelLib"}
        if (name, frozenset(labels.items() | {("OTelLib", OTEL_SCOPE_NAME)})) in published:
            assert awsemf_dimensions(name, labels) <= published, (name, labels)
    # e.g. the request latency by method, route and code, rolled up as awsemf did
    latency = {frozenset(k for k, _ in dims) for name, dims in published if name == "http_request_duration_seconds"}
    assert latency == {frozenset({"OTelLib", "code", "method", "route"}), frozenset({"OTelLib"}),
                       frozenset({"OTelLib", "code"}), frozenset({"OTelLib", "method"}),
                       frozenset({"OTelLib", "route"})}
    # and job and instance are never dimensions of the app's metrics (awsemf had them as resource attributes)
    assert not any(k in ("job", "instance") for _, dims in published for k, _ in dims)
