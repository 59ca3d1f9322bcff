"""Golden EMF of two scrape cycles, end to end through run_cycle with an in-memory transport:
target labels and honor_labels (exported_job), metric relabelling, counter increases,
a histogram distribution, a skipped bad line, a target that is down, self-metrics.

The files in tests/golden/scrape/ are the expected output; after a deliberate change,
regenerate with ``PROMWATCH_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_scrape_golden.py``
and review the diff.
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import requests
import urllib3
from promwatch.emf import problems, serialize
from promwatch.scrape import parse_config, run_cycle
from promwatch.state import MemoryStateStore
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "scrape"
NOW = 1_795_000_000.0
CONFIG = """
global: {scrape_interval: 1m}
scrape_configs:
  - job_name: prod/app
    static_configs:
      - targets: ["app.internal:8080"]
        labels: {team: tasks}
      - targets: ["app-down.internal:8080"]
    metric_relabel_configs:
      - {source_labels: [__name__], regex: "go_.*", action: drop}
      - {source_labels: [code], regex: "5..", target_label: error, replacement: "true"}
"""


class Pages(BaseAdapter):
    """A transport serving fixed pages by URL (anything else: connection refused)."""

    def __init__(self) -> None:
        super().__init__()
        self.pages: dict[str, bytes] = {}

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        body = self.pages.get(str(request.url))
        if body is None:
            raise requests.ConnectionError(f"connection refused: {request.url}")
        response = requests.Response()
        response.status_code, response.reason, response.url, response.request = 200, "OK", str(request.url), request
        response.headers = CaseInsensitiveDict({"Content-Type": "text/plain; version=0.0.4"})
        response.raw = urllib3.HTTPResponse(body=io.BytesIO(body), status=200, preload_content=False)
        return response

    def close(self) -> None:
        return


def _cycle(session: requests.Session, store: MemoryStateStore, now: float) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []

    class Collect:
        def write(self, docs: list[dict[str, Any]]) -> None:
            documents.extend(docs)

        def flush(self) -> None:
            return

    run_cycle(parse_config(CONFIG), state_store=store, sink=Collect(), session=session,  # type: ignore[arg-type]
              clock=lambda: now, monotonic=lambda: 0.0, resolver=lambda host: ["10.0.0.8"], max_workers=1)
    for document in documents:
        assert problems(document) == [], document
    return documents


def _check(name: str, documents: list[dict[str, Any]]) -> None:
    path = GOLDEN / name
    text = "".join(serialize(d) + "\n" for d in documents)
    if os.environ.get("PROMWATCH_UPDATE_GOLDEN"):
        path.write_text(text)
    assert [json.loads(line) for line in text.splitlines()] == [
        json.loads(line) for line in path.read_text().splitlines()
    ]


def test_two_cycles_match_golden() -> None:
    # Given a target serving page 1 then page 2, and a target that is down,
    transport = Pages()
    session = requests.Session()
    session.mount("http://", transport)
    store = MemoryStateStore()
    transport.pages["http://app.internal:8080/metrics"] = (GOLDEN / "app.1.prom").read_bytes()
    first = _cycle(session, store, NOW)
    transport.pages["http://app.internal:8080/metrics"] = (GOLDEN / "app.2.prom").read_bytes()
    second = _cycle(session, store, NOW + 60)
    # then the EMF of both cycles is the reviewed one.
    _check("cycle.1.jsonl", first)
    _check("cycle.2.jsonl", second)
