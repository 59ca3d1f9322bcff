"""``promwatch demo --quick`` runs the whole pipeline against the emulator and leaves a preview."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.system_deps import require_node_app

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True, scope="module")
def _task_service_installed() -> None:
    """The demo scrapes the task-service under node."""
    require_node_app(ROOT / "tests" / "e2e" / "apps" / "task-service")


def test_demo_runs_to_the_end_and_plots_what_landed(tmp_path: Path) -> None:
    # given the project root and an output directory
    out = tmp_path / "demo"
    # when the quick demo runs as `make demo` runs it (the promwatch command, from the root)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("promwatch")), "demo", "--quick", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    # then it exits 0 and every scraped request was counted in CloudWatch
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "all counted" in done.stdout, done.stdout
    assert re.search(r"namespaces in CloudWatch: .*prod/task-service \(\d+ metrics\)", done.stdout)
    # and the preview holds plots with data points (lines, not only empty charts)
    page = (out / "index.html").read_text()
    points = [int(n) for n in re.findall(r'<svg class="plot"[^>]*data-points="(\d+)"', page)]
    assert points and sum(p > 0 for p in points) >= 10
    assert "<polyline" in page
    assert "http_request_duration_seconds" in page and "nodejs_heap_space_size_used_bytes" in page
    # and the scrape config it wrote names the task-service job, sent both ways
    written = (out / "config" / "scrape.yaml").read_text()
    assert "job_name: prod/task-service" in written and "type: otlp" in written
    # and the summary names both paths, the OTLP one with every request's signature verified
    emf = re.search(r"^EMF:  prod/task-service: (\d+) metric data extracted", done.stdout, re.M)
    otlp = re.search(r"^OTLP: prod/task-service: (\d+) requests \(signature verified\), (\d+) points, (\d+) series",
                     done.stdout, re.M)
    assert emf and int(emf[1]) > 0, done.stdout
    assert otlp and int(otlp[1]) >= 3 and int(otlp[2]) > 0 and int(otlp[3]) > 0, done.stdout
    assert "PromQL alarms" in done.stdout
    # and the preview draws each path side by side, and the PromQL dashboard from the OTLP points
    assert "prod/task-service both ways: EMF (left) and OTLP (right)" in page
    assert "OTLP: p99 latency (PromQL)" in page and "prod-task-service-nodejs-promql" in page
    otlp_charts = re.findall(r'<h3>OTLP: [^<]*</h3><svg class="plot"[^>]*data-points="(\d+)"', page)
    assert len(otlp_charts) == 3 and all(int(n) > 0 for n in otlp_charts), otlp_charts


def _children(pid: int) -> list[str]:
    """Pids of the processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid):
            found.append(stat.parent.name)
    return found


def test_demo_stops_its_processes(tmp_path: Path) -> None:
    # given a quick demo interrupted while it scrapes (SIGTERM, as a CI timeout would send)
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("promwatch")), "demo", "--quick", "--cycles", "30",
         "--out", str(tmp_path / "demo")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("scrape    cycle 1/"):
            break
    children = _children(process.pid)
    # when it is terminated
    process.terminate()
    status = process.wait(timeout=60)
    # then it says so, exits 130, and the emulator and the app it started are gone
    assert status == 130
    assert children, "expected the demo to have started child processes"
    still_running = [pid for pid in children if Path(f"/proc/{pid}").exists()
                     and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()]
    assert still_running == []
