"""Acceptance of the OTLP output: ``promwatch scrape --config F --output otlp:URL`` against a real
prometheus_client process, restarted half-way, with the local OTLP receiver as the endpoint.

Each ``promwatch scrape`` is a separate process (start times kept in a state file, as users run
it). Checked: the bodies are protobuf ``ExportMetricsServiceRequest`` signed with SigV4 for
``monitoring``; counters are cumulative monotonic Sums whose start time stays across scrapes of
one process and moves when it restarts (from ``_created``, and from the stored first sighting
when the client exposes no ``_created``); the histogram has the page's bounds and counts; the
gauge is a Gauge; a UTF-8 metric name arrives as exposed.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from promwatch_tools.local.emulator import free_port, stop_process
from promwatch_tools.local.otlpreceiver import OtlpReceiver, ReceivedPoint, running_otlp_receiver

pytestmark = pytest.mark.e2e

APP = Path(__file__).resolve().parent / "apps" / "otlp_promclient" / "app.py"
PROMWATCH = str(Path(sys.executable).with_name("promwatch"))


@contextmanager
def _app(port: int, *, created: bool) -> Iterator[None]:
    env = {**os.environ, "PROMETHEUS_DISABLE_CREATED_SERIES": "False" if created else "True"}
    process = subprocess.Popen([sys.executable, str(APP), str(port)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield
    finally:
        stop_process(process)


def _scrape(config: Path, state: Path, receiver: OtlpReceiver) -> None:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_REGION": "us-east-1"}
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    done = subprocess.run([PROMWATCH, "scrape", "--config", str(config), "--state-file", str(state),
                           "--output", f"otlp:{receiver.url}"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr


def _counter_starts(points: list[ReceivedPoint]) -> list[int]:
    return [p.start_time_unix_nano for p in points if p.name == "app_requests_total"]


@pytest.mark.parametrize("created", [True, False], ids=["created", "no-created"])
def test_otlp_output_of_a_prometheus_client_page_across_a_restart(tmp_path: Path, created: bool) -> None:
    port = free_port()
    config = tmp_path / "scrape.yaml"
    config.write_text(f"scrape_configs:\n  - job_name: shop/app\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n")
    state = tmp_path / "state.sqlite"
    with running_otlp_receiver(region="us-east-1") as receiver:
        # given two scrapes of one process, then two of the restarted process
        with _app(port, created=created):
            _scrape(config, state, receiver)
            _scrape(config, state, receiver)
        with _app(port, created=created):
            _scrape(config, state, receiver)
            _scrape(config, state, receiver)
        # then four signed protobuf requests arrived and the receiver refused nothing
        assert receiver.refusals == []
        assert len(receiver.requests()) == 4
        for headers in receiver.headers():
            assert headers["content-type"] == "application/x-protobuf"
            assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
            assert "/us-east-1/monitoring/aws4_request" in headers["authorization"]
        points = receiver.points()
    # and the resource names the service and the instance
    assert {(p.resource["service.namespace"], p.resource["service.name"], p.resource["service.instance.id"])
            for p in points} == {("shop", "app", f"127.0.0.1:{port}")}
    # and the counter is a cumulative monotonic Sum whose start stays within a process and moves on restart
    counters = [p for p in points if p.name == "app_requests_total"]
    assert [p.value for p in counters] == [1.0, 2.0, 1.0, 2.0]
    assert all(p.kind == "sum" and p.is_monotonic for p in counters)
    starts = _counter_starts(points)
    assert starts[0] == starts[1] and starts[2] == starts[3] and starts[2] > starts[1]
    assert all(p.attributes == {"route": "/metrics"} for p in counters)
    # and the histogram carries the page's bounds and (de-cumulated) counts
    histograms = [p for p in points if p.name == "app_latency_seconds"]
    assert len(histograms) == 4
    assert {(p.bounds, p.bucket_counts, p.count, round(p.sum or 0, 9)) for p in histograms} == {
        ((0.1, 0.5, 1.0), (1, 1, 1, 1), 4, 3.05)}
    # and the gauge is a Gauge
    assert {(p.kind, p.value) for p in points if p.name == "app_temperature_celsius"} == {("gauge", 21.5)}
    # and a UTF-8 name arrives as exposed: the scrape of an OTLP-only job asks for allow-utf-8
    assert {(p.kind, p.value) for p in points if p.name == "café.temperature"} == {("gauge", 19.5)}
    assert not [p for p in points if p.name == "caf__temperature"]
