"""A parse with a sample budget stops early and counts the rest (both formats)."""
from __future__ import annotations

import pytest
from promwatch.exposition import parse_lenient
from promwatch.exposition.lexer import count_sample_lines

TEXT = "# HELP m A gauge.\n# TYPE m gauge\n" + "".join(f'm{{i="{i}"}} {i}\n' for i in range(50_000))
OPENMETRICS = "# TYPE m gauge\n" + "".join(f'm{{i="{i}"}} {i}\n' for i in range(50_000)) + "# EOF\n"


@pytest.mark.parametrize(("page", "format"), [(TEXT, "prometheus"), (OPENMETRICS, "openmetrics")])
def test_a_budget_stops_the_parse_and_the_rest_is_counted(page: str, format: str) -> None:
    # Given a page of 50,000 samples, when parsed with a budget of 100,
    result = parse_lenient(page, format, max_samples=100)
    # then parsing stopped soon after the budget (a chunk of lines at most), and every sample is counted.
    parsed = sum(len(f.samples) for f in result.families)
    assert result.truncated and 100 < parsed < 5_000
    assert result.samples == 50_000


@pytest.mark.parametrize(("page", "format"), [(TEXT, "prometheus"), (OPENMETRICS, "openmetrics")])
def test_within_budget_the_page_is_parsed_whole(page: str, format: str) -> None:
    # Given a budget the page fits, then nothing is cut and the count is exact.
    result = parse_lenient(page, format, max_samples=50_000)
    assert not result.truncated and result.samples == 50_000
    assert sum(len(f.samples) for f in result.families) == 50_000


def test_counting_skips_comments_and_blank_lines() -> None:
    # Given lines of every kind, then only sample lines count.
    assert count_sample_lines("a 1\n# HELP a x\n\nb 2\n# TYPE b gauge\nc 3") == 3
    assert count_sample_lines("# only\n# comments\n") == 0
    assert count_sample_lines("") == 0
