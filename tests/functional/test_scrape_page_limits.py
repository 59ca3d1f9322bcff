"""Pages that must fail their scrape without costing memory: far over sample_limit, or garbage."""
from __future__ import annotations

import random
import tracemalloc
from typing import Any

from promwatch.httpclient import ConnectionPool
from promwatch.scrape import parse_config, run_cycle
from promwatch.sinks import MemorySink
from promwatch.state import MemoryStateStore

from tests.support.canned import CannedPages


def _cycle(page: bytes, extra: str = "") -> tuple[Any, MemorySink, int]:
    pages = CannedPages()
    pages.pages["app.test:9100", "/metrics"] = page
    config = parse_config(f"""
scrape_configs:
  - job_name: app
    static_configs: [{{targets: ["app.test:9100"]}}]
{extra}
""")
    sink = MemorySink()
    tracemalloc.start()
    try:
        report = run_cycle(config, state_store=MemoryStateStore(), sink=sink, pool=ConnectionPool(connect=pages.connect),
                           resolver=lambda host: ["10.0.0.8"], max_workers=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return report.targets[0], sink, peak


def test_a_page_far_over_sample_limit_fails_without_being_parsed_whole() -> None:
    # Given a 1,000,000-series page and a job with sample_limit 1000,
    page = "".join(f'big_series{{id="{i}"}} {i}\n' for i in range(1_000_000)).encode()
    # when it is scraped,
    target, sink, peak = _cycle(page, "    sample_limit: 1000")
    # then the target is down for its sample_limit, with the page's real sample count,
    assert not target.up and "sample_limit exceeded: 1000000 samples" in (target.error or "")
    assert target.samples_scraped == 1_000_000
    up = [d for d in sink.documents if "up" in d]
    assert up and all(d["up"] == 0 for d in up)
    # and the scrape took memory of the order of the page itself (the body and its text: 2 x 28 MB;
    # the bound leaves room for whatever other threads of the test session allocate meanwhile),
    # not the ~550 MB (20 x the page) of a million parsed samples.
    assert peak < 8 * len(page)


def test_with_dropping_relabel_rules_the_limit_is_judged_after_relabelling() -> None:
    # Given a page of 2,000 samples, a rule dropping most of them and sample_limit 1000,
    page = "".join(f'keep_me{{id="{i}"}} {i}\n' if i < 500 else f'drop_me{{id="{i}"}} {i}\n'
                   for i in range(2000)).encode()
    extra = """    sample_limit: 1000
    metric_relabel_configs:
      - {source_labels: [__name__], regex: drop_me, action: drop}"""
    # when it is scraped, then the 500 kept samples are within the limit and the target is up.
    target, _, _ = _cycle(page, extra)
    assert target.up and target.samples_scraped == 2000 and target.samples_post_metric_relabeling == 500


def test_a_page_of_garbage_is_a_failed_scrape() -> None:
    # Given 200 KB of random bytes served as a metrics page,
    garbage = random.Random(14).randbytes(200_000)
    # when it is scraped, then the target is down, saying no sample was valid, and the bad lines are counted.
    target, sink, _ = _cycle(garbage)
    assert not target.up and "no valid sample on the page" in (target.error or "")
    assert target.parse_errors > 100
    assert [d["up"] for d in sink.documents if "up" in d] == [0]


def test_an_empty_page_is_an_answer() -> None:
    # Given a target answering an empty page (no bad line), then it is up with no samples, as in Prometheus.
    target, _, _ = _cycle(b"")
    assert target.up and target.samples_scraped == 0
