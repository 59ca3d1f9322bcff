"""Golden EMF of two scrape cycles, end to end through run_cycle with an in-memory transport:
target labels and honor_labels (exported_job), metric relabelling, counter increases,
a histogram distribution, a skipped bad line, a target that is down, self-metrics.

The files in tests/golden/scrape/ are the expected output (``pytest --update-golden``
rewrites them after a deliberate change).
"""
from __future__ import annotations

from typing import Any

from promwatch.emf import problems, serialize
from promwatch.httpclient import ConnectionPool
from promwatch.scrape import parse_config, run_cycle
from promwatch.state import MemoryStateStore

from tests.support.canned import CannedPages
from tests.support.golden import GOLDEN_DIR, Golden

GOLDEN = GOLDEN_DIR / "scrape"
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


def _cycle(pages: CannedPages, store: MemoryStateStore, now: float) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []

    class Collect:
        def write(self, docs: list[dict[str, Any]], *, ticket: object = None) -> None:
            documents.extend(docs)

        def flush(self) -> None:
            return

    run_cycle(parse_config(CONFIG), state_store=store, sink=Collect(), pool=ConnectionPool(connect=pages.connect),
              clock=lambda: now, monotonic=lambda: 0.0, resolver=lambda host: ["10.0.0.8"], max_workers=1)
    for document in documents:
        assert problems(document) == [], document
    return documents


def _jsonl(documents: list[dict[str, Any]]) -> str:
    return "".join(serialize(d) + "\n" for d in documents)


def test_two_cycles_match_golden(golden: Golden) -> None:
    # Given a target serving page 1 then page 2, and a target that is down,
    pages = CannedPages()
    store = MemoryStateStore()
    pages.pages["app.internal:8080", "/metrics"] = (GOLDEN / "app.1.prom").read_bytes()
    first = _cycle(pages, store, NOW)
    pages.pages["app.internal:8080", "/metrics"] = (GOLDEN / "app.2.prom").read_bytes()
    second = _cycle(pages, store, NOW + 60)
    # then the EMF of both cycles is the reviewed one.
    golden.check("scrape/cycle.1.jsonl", _jsonl(first))
    golden.check("scrape/cycle.2.jsonl", _jsonl(second))
