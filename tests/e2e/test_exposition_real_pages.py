"""End to end: real /metrics pages parse to the samples a real Prometheus server reports.

Four pages — Debian's prometheus-node-exporter; a prometheus_client process, whose own server
answers Prometheus's Accept header with OpenMetrics and whose second port serves
generate_latest()'s text format; and Node's prom-client — are scraped by Debian's prometheus
every second. For each job, the series (name + labels) Prometheus holds
must be exactly the ones promwatch parses from the same page, fetched with the same Accept
header, and every value that did not move between two of our fetches bracketing Prometheus's
last scrape must be the value Prometheus stored.

A missing program fails the test, naming what to install (``make system-deps``).
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from promwatch.exposition import ACCEPT_HEADER, detect_format, parse

from tests.conftest import free_port, wait_http
from tests.support.system_deps import require_binary, require_node_app

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PROMCLIENT_APP = ROOT / "tests" / "e2e" / "apps" / "promclient_page"
SCRAPE_INTERVAL_S = 1
# Series Prometheus adds to every job itself; they are not on the page.
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
             "scrape_samples_post_metric_relabeling", "scrape_series_added"}

# Values compared with Prometheus's: monotonic series (a value equal before and after its
# scrape was the value it scraped) and the test apps' own fixed gauges and quantiles. Other
# gauges move with our own fetch (connections, file descriptors, goroutines) or up and down
# between fetches, as do summary quantiles.
COMPARED_TYPES = {"counter", "histogram", "info", "stateset"}
COMPARED_SUMMARY_SUFFIXES = ("_sum", "_count")  # quantiles move over a sliding window
FIXED_GAUGES = ("app_", "shop_")

# One metric of each kind prometheus_client has, with label values that need escaping.
PYTHON_EXPORTER = textwrap.dedent('''
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from prometheus_client import (
        CONTENT_TYPE_LATEST, Counter, Enum, Gauge, Histogram, Info, Summary, generate_latest, start_http_server,
    )
    c = Counter("shop_orders", "Orders placed.", ["region", "note"])
    c.labels("eu-west-1", 'say "hi"\\\\now').inc(7)
    c.labels("us-east-1", "line1\\nline2").inc(2)
    Gauge("shop_temperature_celsius", "Temperature.").set(-3.25)
    h = Histogram("shop_checkout_seconds", "Checkout latency.", buckets=(0.1, 1.0, 10.0))
    for v in (0.05, 0.5, 5.0, 50.0):
        h.observe(v)
    s = Summary("shop_basket_items", "Items per basket.")
    s.observe(3)
    Info("shop_build", "Build information.").info({"version": "1.2.3", "commit": "abc"})
    Enum("shop_state", "Shop state.", states=["open", "closed"]).state("open")
    # argv[1]: prometheus_client's own server, which answers Prometheus's Accept header with
    # OpenMetrics; argv[2]: generate_latest(), the text format 0.0.4, whatever the Accept says
    start_http_server(int(sys.argv[1]), addr="127.0.0.1")

    class TextFormat(BaseHTTPRequestHandler):
        def do_GET(self):
            body = generate_latest()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), TextFormat).serve_forever()
''')


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def targets() -> Iterator[dict[str, str]]:
    """job name -> host:port of a running exporter."""
    node_exporter = require_binary("prometheus-node-exporter")
    require_node_app(PROMCLIENT_APP)
    node = require_binary("node", package="nodejs")
    ports = {"node": free_port(), "python": free_port(), "python_text": free_port(), "promclient": free_port()}
    commands = [
        [node_exporter, f"--web.listen-address=127.0.0.1:{ports['node']}"],
        [sys.executable, "-c", PYTHON_EXPORTER, str(ports["python"]), str(ports["python_text"])],
        [node, str(PROMCLIENT_APP / "server.js"), str(ports["promclient"])],
    ]
    processes = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for cmd in commands]
    try:
        for port in ports.values():
            wait_http(f"http://127.0.0.1:{port}/metrics")
        yield {job: f"127.0.0.1:{port}" for job, port in ports.items()}
    finally:
        for process in processes:
            stop(process)


@pytest.fixture(scope="module")
def prometheus(targets: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a Prometheus server that has scraped every target at least twice."""
    binary = require_binary("prometheus")
    workdir = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": f"{SCRAPE_INTERVAL_S}s", "scrape_timeout": f"{SCRAPE_INTERVAL_S}s"},
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [address]}]}
                           for job, address in targets.items()],
    }
    (workdir / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    port = free_port()
    process = subprocess.Popen(
        [binary, f"--config.file={workdir / 'prometheus.yml'}", f"--storage.tsdb.path={workdir / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/-/ready", timeout=60, success=True)  # 503 until its storage is up
        deadline = time.monotonic() + 60
        while True:
            scraped = query(url, "count_over_time(up[1m]) >= 2 and up == 1")
            if {series["metric"]["job"] for series in scraped} == set(targets):
                break
            assert time.monotonic() < deadline, f"Prometheus did not scrape every target: {scraped}"
            time.sleep(0.5)
        yield url
    finally:
        stop(process)


def query(url: str, promql: str) -> list[dict[str, Any]]:
    """An instant query's result vector."""
    with urllib.request.urlopen(f"{url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}", timeout=10) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


SeriesKey = tuple[str, frozenset[tuple[str, str]]]
# What each page answers to Prometheus's Accept header, so both parsers meet real pages.
FORMATS = {"node": "prometheus", "python": "openmetrics", "python_text": "prometheus", "promclient": "prometheus"}


def fetch(address: str) -> tuple[str, dict[SeriesKey, tuple[float, str]]]:
    """Our view of a page: fetched with Prometheus's Accept header, parsed per its Content-Type;
    the format it came in, and series -> (value, family type)."""
    request = urllib.request.Request(f"http://{address}/metrics", headers={"Accept": ACCEPT_HEADER})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
        content_type = response.headers.get("Content-Type")
    # Prometheus treats a label with an empty value as absent; the parser keeps what the page says.
    return detect_format(content_type), {
        (s.name, frozenset((k, v) for k, v in s.labels.items() if v)): (s.value, family.type)
        for family in parse(text, content_type=content_type) for s in family.samples
    }


def stored(url: str, job: str) -> dict[SeriesKey, float]:
    """Prometheus's view of a job: its latest samples, without the target labels it adds."""
    out: dict[SeriesKey, float] = {}
    for series in query(url, f'{{job="{job}"}}'):
        labels = dict(series["metric"])
        name = labels.pop("__name__")
        if name in SYNTHETIC:
            continue
        labels.pop("job")
        labels.pop("instance")
        out[(name, frozenset(labels.items()))] = float(series["value"][1])
    return out


SCRAPE_WAIT_S = 60.0
"""How long a scrape after a page fetch may take to show, at most (the interval is 1 s): longer
fails the test (Prometheus stopped scraping)."""


def wait_for_scrape_after(url: str, job: str, since: float) -> None:
    """Wait until Prometheus holds a scrape of ``job`` that started after ``since`` (epoch
    seconds; Prometheus runs on this machine's clock), or fail the test."""
    deadline = time.monotonic() + SCRAPE_WAIT_S
    while True:
        scraped = [float(series["value"][1]) for series in query(url, f'timestamp(up{{job="{job}"}})')]
        if scraped and max(scraped) > since:
            return
        assert time.monotonic() < deadline, (f"Prometheus stored no scrape of {job} started after {since} "
                                             f"within {SCRAPE_WAIT_S:g} s (latest: {scraped})")
        time.sleep(0.1)


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("job", ["node", "python", "python_text", "promclient"])
def test_page_parses_to_the_samples_prometheus_stores(job: str, targets: dict[str, str], prometheus: str) -> None:
    # Given a page fetched just before and just after Prometheus's latest scrape of it
    fetched_at = time.time()
    _, before = fetch(targets[job])
    wait_for_scrape_after(prometheus, job, fetched_at)
    theirs = stored(prometheus, job)
    format, after = fetch(targets[job])
    assert format == FORMATS[job]

    # Then the series are the same ones
    assert set(after) == set(theirs), {
        "only promwatch": sorted(set(after) - set(theirs))[:10],
        "only prometheus": sorted(set(theirs) - set(after))[:10],
    }
    # And every value that held still across the scrape is the value Prometheus stored
    compared = [key for key, (value, type_) in after.items()
                if key in before and same(before[key][0], value)
                and (type_ in COMPARED_TYPES or key[0].startswith(FIXED_GAUGES)
                     or (type_ == "summary" and key[0].endswith(COMPARED_SUMMARY_SUFFIXES)))]
    assert len(compared) >= 10, f"too few stable series to compare values: {len(compared)}"
    wrong = {key: (after[key][0], theirs[key]) for key in compared if not same(after[key][0], theirs[key])}
    assert wrong == {}
