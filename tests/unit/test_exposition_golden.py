"""Golden files: each page under tests/golden/exposition parses to the JSON next to it.

The JSON is what `promwatch parse` prints. After a deliberate change of output, regenerate
with ``UPDATE_GOLDEN=1 pytest tests/unit/test_exposition_golden.py`` and review the diff.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from promwatch.exposition import parse
from promwatch_tools.commands.parse import families_to_json

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "exposition"
PAGES = sorted(p for p in GOLDEN.iterdir() if p.suffix in (".prom", ".om"))


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_parses_to_its_golden_json(page: Path) -> None:
    # Given a page (.om is OpenMetrics, .prom the text format)
    format = "openmetrics" if page.suffix == ".om" else "prometheus"
    # When it is parsed and shaped as the CLI prints it
    actual = families_to_json(parse(page.read_text(), format))
    golden = page.with_suffix(".json")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n")
    # Then it is exactly the reviewed golden output
    assert actual == json.loads(golden.read_text())


def test_every_golden_page_has_its_json() -> None:
    assert PAGES
    assert all(p.with_suffix(".json").exists() for p in PAGES)
