"""Golden files: each page under tests/golden/exposition parses to the JSON next to it.

The JSON is what `promwatch parse` prints (``pytest --update-golden`` rewrites it after a
deliberate change of output).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from promwatch.exposition import parse
from promwatch_tools.commands.parse import families_to_json

from tests.support.golden import GOLDEN_DIR, Golden

GOLDEN = GOLDEN_DIR / "exposition"
PAGES = sorted(p for p in GOLDEN.iterdir() if p.suffix in (".prom", ".om"))


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_parses_to_its_golden_json(page: Path, golden: Golden) -> None:
    # Given a page (.om is OpenMetrics, .prom the text format)
    format = "openmetrics" if page.suffix == ".om" else "prometheus"
    # When it is parsed and shaped as the CLI prints it
    actual = families_to_json(parse(page.read_text(), format))
    # Then it is exactly the reviewed golden output
    golden.check(f"exposition/{page.stem}.json", json.dumps(actual, indent=1, ensure_ascii=False) + "\n")


def test_every_golden_page_has_its_json() -> None:
    # given the golden pages, when their JSON files are looked for, then every page has one
    assert PAGES
    assert all(p.with_suffix(".json").exists() for p in PAGES)
