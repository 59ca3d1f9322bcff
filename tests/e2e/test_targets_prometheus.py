"""End to end: ``promwatch targets`` agrees with Debian's Prometheus on the same config -- static,
file_sd and http_sd targets, relabelled and dropped -- as its /api/v1/targets lists them."""
from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, wait_http
from tests.support.system_deps import require_binary

pytestmark = pytest.mark.e2e

PROMWATCH = str(Path(sys.executable).with_name("promwatch"))
SD_GROUPS = [
    # An SD endpoint that writes every key: empty values are no labels, in both.
    {"targets": ["127.0.0.1:19101", "127.0.0.1:19102"],
     "labels": {"__meta_datacenter": "eu", "__meta_owner": "", "team": "payments", "job": ""}},
    {"targets": ["127.0.0.1:19103"], "labels": {"__meta_datacenter": "us", "__metrics_path__": "/probe"}},
]
CONFIG = """
scrape_configs:
  - job_name: fleet
    scrape_interval: 30s
    scrape_timeout: 5s
    static_configs: [{targets: ['127.0.0.1:19100'], labels: {env: dev}}]
    file_sd_configs: [{files: [targets/*.json]}]
    http_sd_configs: [{url: '%(sd_url)s'}]
    relabel_configs:
      - {source_labels: [__meta_datacenter], target_label: dc}
      - {source_labels: [__meta_owner], regex: '', target_label: owner, replacement: unknown}
      - {regex: '__meta_(filepath)', action: labelmap}
      - {source_labels: [__address__], regex: '.*:19102', action: drop}
      - {source_labels: [dc], regex: 'us', target_label: __scheme__, replacement: https}
"""


@pytest.fixture
def sd_url() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(SD_GROUPS).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sd"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def config_file(tmp_path: Path, sd_url: str) -> Path:
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "a.json").write_text(json.dumps([{"targets": ["127.0.0.1:19104"], "labels": {"env": "prod"}}]))
    path = tmp_path / "prometheus.yml"
    path.write_text(CONFIG % {"sd_url": sd_url})
    return path


def prometheus_targets(config: Path, expected: int) -> dict[str, Any]:
    """Prometheus' /api/v1/targets once it lists ``expected`` targets, active and dropped."""
    binary = require_binary("prometheus")
    port = free_port()
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={config.parent / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/-/ready", timeout=60, success=True)
        deadline = time.monotonic() + 60
        while True:
            with urllib.request.urlopen(f"{url}/api/v1/targets?state=any", timeout=10) as answer:
                data: dict[str, Any] = json.load(answer)["data"]
            if len(data["activeTargets"]) + len(data["droppedTargets"]) >= expected:
                return data
            assert time.monotonic() < deadline, f"Prometheus did not list {expected} targets: {data}"
            time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_promwatch_lists_the_targets_prometheus_lists(config_file: Path) -> None:
    # Given a config with static, file_sd and http_sd targets and relabelling that renames,
    # defaults an empty label, maps meta labels, drops one and changes a scheme,
    listed = subprocess.run([PROMWATCH, "targets", "--config", str(config_file), "--output", "json"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert listed.returncode == 0, listed.stderr
    ours = json.loads(listed.stdout)
    # when Prometheus discovers the same targets,
    theirs = prometheus_targets(config_file, expected=len(ours))
    # then the targets it keeps are ours, with the same labels before and after relabelling and
    # the same scrape URL,
    def key(item: dict[str, Any]) -> str:
        return json.dumps(item, sort_keys=True)

    kept = [{"discovered_labels": t["discoveredLabels"], "labels": t["labels"], "scrape_url": t["scrapeUrl"]}
            for t in theirs["activeTargets"]]
    assert sorted(map(key, kept)) == sorted(key({k: item[k] for k in ("discovered_labels", "labels", "scrape_url")})
                                            for item in ours if item["labels"] is not None)
    # and the one it drops is the one we drop, with the same discovered labels.
    assert [t["discoveredLabels"] for t in theirs["droppedTargets"]] == [
        item["discovered_labels"] for item in ours if item["labels"] is None]
    assert len(ours) == 5
