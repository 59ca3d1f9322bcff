"""The real scrape function, run by ``promwatch invoke`` on its sample schedule event.

The template's environment is used as deployed except for what a local run must change
(``--env``): the config points at a page served by the test, and the state table is unset
so baselines stay in the warm execution environment's memory.
"""
from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from promwatch.emf import validate
from promwatch_tools.local.invoke import LocalFunction

ROOT = Path(__file__).resolve().parents[2]
PAGE = [
    "# TYPE app_requests_total counter\napp_requests_total{route=\"/\"} 10\n# TYPE app_inflight gauge\napp_inflight 3\n",
    "# TYPE app_requests_total counter\napp_requests_total{route=\"/\"} 17\n# TYPE app_inflight gauge\napp_inflight 4\n",
]


@pytest.fixture
def exporter() -> Iterator[tuple[str, list[int]]]:
    """A /metrics endpoint whose page advances on every scrape."""
    served = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PAGE[min(served[0], len(PAGE) - 1)].encode()
            served[0] += 1
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


def _emf(out: str, namespace: str) -> list[dict[str, Any]]:
    docs = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    return [d for d in docs if d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace]


def test_scrape_function_counts_increases_across_warm_invocations(
    exporter: tuple[str, list[int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a scrape config for the test's exporter and the sample schedule event
    target, served = exporter
    config = tmp_path / "scrape.yaml"
    config.write_text(f"scrape_configs:\n  - job_name: fn-test\n    static_configs:\n      - targets: ['{target}']\n")
    function = LocalFunction(
        "scrape",
        template=ROOT / "template.yaml",
        env={"PROMWATCH_SCRAPE_CONFIG": str(config), "PROMWATCH_STATE_TABLE": ""},
    )
    event = json.loads((ROOT / "events/scrape/schedule.json").read_text())
    # when invoked twice, as two schedule ticks reaching one warm environment
    first = function.invoke(event)
    first_out = capsys.readouterr().out
    second = function.invoke(event)
    second_out = capsys.readouterr().out
    # then both succeed, the target was scraped each time, and every document is valid EMF
    assert first.ok and second.ok, (first.error, second.error)
    assert served[0] == 2
    docs_first, docs_second = _emf(first_out, "fn-test"), _emf(second_out, "fn-test")
    for doc in docs_first + docs_second:
        validate(doc)
    # and the gauge passes through while the counter's increase appears only once a baseline exists
    assert any(d.get("app_inflight") == 3 for d in docs_first)
    assert not any("app_requests_total" in d for d in docs_first)
    assert any(d.get("app_requests_total") == 7 for d in docs_second)
