"""End to end: `promwatch scrape` processes against real exporters — Debian's
prometheus-node-exporter, a prometheus_client process that restarts (counters reset), and the
seed's Express task-service (prometheus-api-metrics). Baselines persist in --state-file
between separate processes; every EMF document is checked against the spec."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from promwatch.emf import problems

from tests.conftest import free_port, wait_http
from tests.support.system_deps import require_binary, require_node_app

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PROMWATCH = str(Path(sys.executable).with_name("promwatch"))
TASK_SERVICE = ROOT / "tests" / "e2e" / "apps" / "task-service"

# A prometheus_client exporter whose counter starts at argv[2]: a restart with a smaller
# value is a counter reset, as when a pod restarts.
EXPORTER = textwrap.dedent("""
    import sys, time
    from prometheus_client import Counter, start_http_server
    requests = Counter("app_requests", "Requests served.", ["route"])
    requests.labels("/tasks").inc(float(sys.argv[2]))
    start_http_server(int(sys.argv[1]), addr="127.0.0.1")
    while True:
        time.sleep(60)
""")


def scrape(*args: str) -> list[dict[str, Any]]:
    """Run one `promwatch scrape` process; its EMF documents, each checked against the spec."""
    result = subprocess.run([PROMWATCH, "scrape", *args], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    for document in documents:
        assert problems(document) == [], document
    return documents


def values(documents: list[dict[str, Any]], name: str, **dims: str) -> list[Any]:
    return [d[name] for d in documents if name in d and all(d.get(k) == v for k, v in dims.items())]


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def node_exporter() -> Iterator[str]:
    binary = require_binary("prometheus-node-exporter")
    port = free_port()
    process = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults",
         "--collector.cpu", "--collector.meminfo", "--collector.loadavg", "--collector.netdev", "--collector.stat"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/metrics")
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)


def test_node_exporter_counters_across_processes(node_exporter: str, tmp_path: Path) -> None:
    # Given node_exporter, a config for it and a state file,
    config = tmp_path / "scrape.yaml"
    config.write_text(f"""
scrape_configs:
  - job_name: node
    static_configs: [{{targets: ["{node_exporter}"]}}]
    metric_relabel_configs:
      - {{source_labels: [__name__], regex: "node_(cpu_seconds_total|context_switches_total|memory_MemTotal_bytes|load1)", action: keep}}
""")
    state = tmp_path / "state.db"
    # when two separate processes scrape it,
    first = scrape("--config", str(config), "--state-file", str(state))
    second = scrape("--config", str(config), "--state-file", str(state))
    # then both see it up, in namespace "node"; gauges pass through from the first scrape;
    for documents in (first, second):
        assert values(documents, "up", job="node") == [1]
        assert values(documents, "node_memory_MemTotal_bytes")[0] > 0
    assert {d["_aws"]["CloudWatchMetrics"][0]["Namespace"] for d in second if "up" in d} == {"node"}
    # counters (no _created in node_exporter) only set baselines on the first scrape, and the
    # second process reports non-negative increases from the first one's baselines.
    assert values(first, "node_cpu_seconds_total") == []
    cpu = values(second, "node_cpu_seconds_total")
    assert cpu and all(v >= 0 for v in cpu)
    assert values(second, "node_context_switches_total")[0] > 0
    # metric_relabel_configs kept only what was asked.
    assert not [d for d in second if "node_network_receive_bytes_total" in d]


def test_the_bundled_node_job_loses_no_series(tmp_path: Path) -> None:
    # Given node_exporter with its default collectors (filesystems, network interfaces, ...)
    # and the bundled config/scrape.yaml pointed at it,
    binary = require_binary("prometheus-node-exporter")
    port = free_port()
    process = subprocess.Popen([binary, f"--web.listen-address=127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/metrics")
        config = tmp_path / "scrape.yaml"
        config.write_text((ROOT / "config" / "scrape.yaml").read_text().replace("127.0.0.1:9100", f"127.0.0.1:{port}"))
        args = ("--config", str(config), "--job", "node", "--state-file", str(tmp_path / "state.db"))
        # when it is scraped twice (the second publishes the counters' increases),
        scrape(*args)
        documents = scrape(*args)
    finally:
        stop(process)
    # then nothing but the keep rule's choice is dropped: no two series collide once the
    # config's labeldrop has run,
    reasons = {d["Reason"] for d in documents if d.get("Component") == "scrape" and d.get("job") == "node" and "Reason" in d}
    assert reasons <= {"metric_relabel"}, reasons
    # and every network interface keeps a series of its own.
    received = [d for d in documents if "node_network_receive_bytes_total" in d]
    assert received and len({d["device"] for d in received}) == len(received)


def test_counter_reset_across_target_restart(tmp_path: Path) -> None:
    # Given a prometheus_client process whose counter stands at 100,
    port = free_port()
    state = tmp_path / "state.db"
    url = f"http://127.0.0.1:{port}/metrics"

    def start(value: int) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, "-c", EXPORTER, str(port), str(value)])
        wait_http(url)
        return process

    exporter = start(100)
    try:
        first = scrape(url, "--job", "app", "--state-file", str(state))
        second = scrape(url, "--job", "app", "--state-file", str(state))
    finally:
        stop(exporter)
    # when the target restarts (its counter resets and climbs to 5) and is scraped again,
    exporter = start(5)
    try:
        third = scrape(url, "--job", "app", "--state-file", str(state))
        fourth = scrape(url, "--job", "app", "--state-file", str(state))
    finally:
        stop(exporter)
    # then: the new series counts from zero (its _created is fresh), no change reads 0, the reset
    # gives the post-reset value — never a negative or wrapped number — and then 0 again.
    series = {"route": "/tasks", "job": "app"}
    assert values(first, "app_requests_total", **series) == [100]
    assert values(second, "app_requests_total", **series) == [0]
    assert values(third, "app_requests_total", **series) == [5]
    assert values(fourth, "app_requests_total", **series) == [0]


@pytest.fixture
def task_service() -> Iterator[str]:
    require_node_app(TASK_SERVICE)
    node = require_binary("node", package="nodejs")
    process = subprocess.Popen([node, "server.js"], cwd=TASK_SERVICE, stdout=subprocess.PIPE, text=True,
                               env={"PATH": "/usr/bin:/bin", "PORT": "0", "WORK_MS_SCALE": "0"})
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"listening on http://([\d.]+:\d+)", line)
        assert match, line
        wait_http(f"http://{match[1]}/healthz")
        yield match[1]
    finally:
        stop(process)


def test_task_service_as_in_the_seed(task_service: str, tmp_path: Path) -> None:
    # Given the bundled config/scrape.yaml pointed at the running task-service,
    config = tmp_path / "scrape.yaml"
    config.write_text((ROOT / "config" / "scrape.yaml").read_text().replace("127.0.0.1:3000", task_service))
    state = tmp_path / "state.db"
    args = ("--config", str(config), "--job", "prod/task-service", "--state-file", str(state))
    scrape(*args)
    # when 7 list requests and 4 get requests are made between two scrapes,
    for path, times in (("/tasks", 7), ("/tasks/1", 4)):
        for _ in range(times):
            urllib.request.urlopen(f"http://{task_service}{path}", timeout=5).close()
    documents = scrape(*args)
    # then the metrics land in namespace prod/task-service,
    namespaces = {d["_aws"]["CloudWatchMetrics"][0]["Namespace"] for d in documents if d.get("Component") != "scrape"}
    assert namespaces == {"prod/task-service"}
    # heap is published by space,
    heap = [d for d in documents if "nodejs_heap_space_size_used_bytes" in d]
    assert {"new", "old", "code"} <= {d["space"] for d in heap}
    assert all(d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["job", "space"]] for d in heap)
    # and the latency histogram is a distribution whose count is the requests made per route.
    latency = {d["route"]: d["http_request_duration_seconds"] for d in documents
               if "http_request_duration_seconds" in d and "route" in d}
    assert latency["/tasks"]["Count"] == 7
    assert latency["/tasks/:id"]["Count"] == 4
    assert sum(latency["/tasks"]["Counts"]) == 7 and latency["/tasks"]["Sum"] > 0
