"""A scrape cycle whose state table fails for one target: that target's counters alone are not
published (its ``up`` and gauges are, #14 defect 12).

Two targets of one job are served by a local HTTP server; the DynamoDB store's client fails
(unreachable endpoint) for one of them only.
"""
from __future__ import annotations

import http.server
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from promwatch.emf import problems
from promwatch.scrape import parse_config, run_cycle
from promwatch.sinks import StdoutSink
from promwatch.state import DynamoDBStateStore

PAGE = b"# TYPE jobs_total counter\njobs_total{queue=\"a\"} 5\n# TYPE temp gauge\ntemp 21.5\n"
TABLE = "promwatch-test-StateTable"


class Page(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()


class PartlyUnreachableDynamoDB:
    """GetItem/PutItem on an in-memory table, except for keys of one instance, whose calls fail
    as botocore fails when the endpoint cannot be reached."""

    def __init__(self, failing_instance: str) -> None:
        self.failing_instance = failing_instance
        self.items: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def _check(self, pk: str) -> None:
        if pk.removeprefix("#claim#").split("#")[1] == self.failing_instance:
            raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")

    def get_item(self, *, TableName: str, Key: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        self._check(Key["pk"]["S"])
        with self._lock:
            item = self.items.get(Key["pk"]["S"])
        return {"Item": item} if item else {}

    def put_item(self, *, TableName: str, Item: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        self._check(Item["pk"]["S"])
        with self._lock:
            self.items[Item["pk"]["S"]] = Item
        return {}

    def delete_item(self, *, TableName: str, Key: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        self._check(Key["pk"]["S"])
        with self._lock:
            self.items.pop(Key["pk"]["S"], None)
        return {}


def test_state_failure_costs_only_its_targets_counters(port: int, capsys: pytest.CaptureFixture[str],
                                             caplog: pytest.LogCaptureFixture) -> None:
    # Given a job with two targets (both answer) and a state table unreachable for the first,
    failing, healthy = f"127.0.0.1:{port}", f"localhost:{port}"
    config = parse_config(f"scrape_configs: [{{job_name: app, static_configs: [{{targets: ['{failing}', '{healthy}']}}]}}]")
    client = PartlyUnreachableDynamoDB(failing)
    store = DynamoDBStateStore(TABLE, client)  # type: ignore[arg-type]
    capsys.readouterr()
    # when a cycle runs,
    with caplog.at_level(logging.ERROR, logger="promwatch.scrape"):
        report = run_cycle(config, state_store=store, sink=StdoutSink(), stage="test")
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for document in documents:
        assert problems(document) == [], document
    by_instance = {t.instance: t for t in report.targets}

    # then the failing target is reported (error naming the table, retryable for SQS),
    bad = by_instance[failing]
    assert bad.up and bad.retryable
    assert (bad.error or "").startswith("state store: ") and TABLE in (bad.error or "")
    assert "EndpointConnectionError" in (bad.error or "")
    assert any(failing in r.getMessage() and TABLE in r.getMessage() for r in caplog.records)
    # and its up and gauge are published (a first scrape publishes no counter increase anyway),
    # and only the healthy target's baselines are saved (claims released),
    published = {(d.get("instance"), name) for d in documents if "Component" not in d
                 for name in ("up", "temp") if name in d}
    assert published == {(failing, "up"), (failing, "temp"), (healthy, "up"), (healthy, "temp")}
    assert [d["up"] for d in documents if d.get("instance") == failing and "up" in d] == [1]
    assert list(client.items) == [f"app#{healthy}"]
    # and the self-metrics count the state error and the counter samples it cost.
    (errors,) = [d for d in documents if "StateErrors" in d]
    assert errors["StateErrors"] == 1 and errors["job"] == "app" and errors["Stage"] == "test"
    (dropped,) = [d for d in documents if d.get("Reason") == "state_error"]
    assert dropped["DroppedSamples"] == 1
    assert report.dropped_samples() == {"state_error": 1}
