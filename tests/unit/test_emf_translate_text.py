"""The translation's text-built documents equal what the shared writer makes of the same groups."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from promwatch.emf import EmfSettings, ScrapeStats, TargetInfo, serialize, translate, validate
from promwatch.emf.documents import GroupDocuments
from promwatch.emf.jsontext import EmfDocument
from promwatch.exposition import parse

from benchmarks.bench_pipeline import generated_page

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "emf"
T0 = 1_700_000_000_000
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode

PAGES = {
    "generated web app": (generated_page(2_000, 1), generated_page(2_000, 2), "prometheus"),
    "task service": ((GOLDEN / "task_service.1.prom").read_text(), (GOLDEN / "task_service.2.prom").read_text(),
                     "prometheus"),
    "every OpenMetrics type": ((GOLDEN / "openmetrics_types.1.om").read_text(),
                               (GOLDEN / "openmetrics_types.2.om").read_text(), "openmetrics"),
    "awkward labels": (
        'g{a="caf\u00e9",b="x\\"y",c="  "} 1\ng{a="1"} 2\ns{s="1",g="clash"} 3\n'
        "# TYPE c counter\nc_total{x=\"1\"} 5\nc_total{x=\"2\"} 1e300\n",
        'g{a="caf\u00e9",b="x\\"y",c="  "} 1.5\ng{a="1"} -0.0\ns{s="1",g="clash"} 4\n'
        "# TYPE c counter\nc_total{x=\"1\"} 7.25\nc_total{x=\"2\"} 3e300\nnew_g{z=\"\"} 12\n",
        "prometheus",
    ),
    "names with percent signs": (  # the plain documents' text is a %-format: names must not be read as fields
        '{"load%s"} 1\n{"pct%d_total", x="1"} 2\n{"100%"} 0.5\n',
        '{"load%s"} 3\n{"pct%d_total", x="1"} 2.5\n{"100%"} 0.25\n',
        "prometheus",
    ),
}


def _second_scrape(page: str, instance: str) -> list[dict[str, object]]:
    first_text, second_text, fmt = PAGES[page]
    target, settings = TargetInfo("job/a", instance), EmfSettings()
    first = translate(parse(first_text, fmt), target=target, previous=None, settings=settings, now_ms=T0)
    second = parse(second_text, fmt)
    stats = ScrapeStats(True, 0.1, 3, 3)
    return translate(second, target=target, previous=first.baselines, settings=settings, now_ms=T0 + 60_000,
                     scrape=stats).documents


@pytest.mark.parametrize("page", sorted(PAGES))
def test_text_built_documents_equal_the_writers(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a page translated with the text-built documents, then with the general writer only
    fast = _second_scrape(page, "fast:1")
    monkeypatch.setattr(GroupDocuments, "plain_document", lambda *_: None)
    general = _second_scrape(page, "general:1")
    # then the documents are the same dicts and the same lines
    fast_lines = [serialize(d).replace("fast:1", "X") for d in fast]
    general_lines = [serialize(d).replace("general:1", "X") for d in general]
    assert fast_lines == general_lines
    # and every text-built line is the encoding of its dict, and valid
    built = [d for d in fast if isinstance(d, EmfDocument) and d.text is not None]
    assert built
    for document in built:
        assert serialize(document) == _ENCODE(dict(document))
        validate(document)


def test_a_warm_target_translates_as_a_cold_one() -> None:
    # given the same scrapes translated for a target seen before (caches warm) and a new one
    warm = _second_scrape("generated web app", "warm:1")
    warm_again = _second_scrape("generated web app", "warm:1")
    cold = _second_scrape("generated web app", "cold:1")
    # then the documents are the same
    assert warm == warm_again
    assert [serialize(d).replace("warm:1", "X") for d in warm] == [serialize(d).replace("cold:1", "X") for d in cold]
