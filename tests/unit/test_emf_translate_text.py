"""The translation's text-built documents equal what the shared writer makes of the same groups.

The usual group (every label a dimension, scrape time, no exemplars) is written from cached JSON
pieces; a group with exemplars goes through the shared writer, which puts them in the member
``exemplars`` after ``_aws``. So a page is translated as it is, and again with an exemplar on
every sample: each document's text, that member taken out, must be the same -- through the
public :func:`promwatch.emf.translate` only, on fixed pages and on random ones.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promwatch.emf import EmfSettings, ScrapeStats, TargetInfo, serialize, translate, validate
from promwatch.exposition import Exemplar, Family, Sample, parse

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


EXEMPLAR = Exemplar({"trace_id": "t%1"}, 0.5)


def _with_exemplars(families: list[Family]) -> list[Family]:
    """The families with an exemplar on every sample (each group then goes through the writer)."""
    return [family._replace(samples=[s._replace(exemplar=EXEMPLAR) for s in family.samples]) for family in families]


def _translated(first: list[Family], second: list[Family], instance: str) -> list[dict[str, object]]:
    target, emf_settings = TargetInfo("job/a", instance), EmfSettings()
    baselines = translate(first, target=target, previous=None, settings=emf_settings, now_ms=T0).baselines
    stats = ScrapeStats(True, 0.1, 3, 3)
    return translate(second, target=target, previous=baselines, settings=emf_settings, now_ms=T0 + 60_000,
                     scrape=stats).documents


def _second_scrape(page: str, instance: str) -> list[dict[str, object]]:
    first_text, second_text, fmt = PAGES[page]
    return _translated(parse(first_text, fmt), parse(second_text, fmt), instance)


def _without_exemplars(document: dict[str, object]) -> str:
    text = serialize(document)
    if "exemplars" not in document:
        return text
    member = ',"exemplars":' + _ENCODE(document["exemplars"])
    assert text.count(member) == 1
    return text.replace(member, "", 1)


def _assert_paths_agree(first: list[Family], second: list[Family]) -> None:
    """``second`` (after ``first``) translated as it is and with exemplars give the same texts
    (a page's own exemplars taken out too), each the encoding of its dict."""
    plain = _translated(first, second, "plain:1")
    written = _translated(first, _with_exemplars(second), "written:1")
    if any("up" not in d for d in written):  # the groups of the page (not the scrape metrics) went through the writer
        assert any("exemplars" in d for d in written)
    assert [_without_exemplars(d).replace("plain:1", "X") for d in plain] == [
        _without_exemplars(d).replace("written:1", "X") for d in written]
    for document in plain:
        assert serialize(document) == _ENCODE(dict(document))


@pytest.mark.parametrize("page", sorted(PAGES))
def test_text_built_documents_equal_the_writers(page: str) -> None:
    # given a page translated as it is (text-built documents), then with an exemplar on every
    # sample (every group through the writer)
    first_text, second_text, fmt = PAGES[page]
    # then the documents are the same lines, but for the exemplars, each the encoding of its dict
    _assert_paths_agree(parse(first_text, fmt), parse(second_text, fmt))
    # and valid
    for document in _second_scrape(page, "valid:1"):
        validate(document)


AWKWARD = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=5)
NAMES = st.one_of(st.sampled_from(["g", "c_total", "load%s", "100%", "é", "job", "_aws"]), AWKWARD)
VALUES = st.one_of(st.sampled_from([0.0, -0.0, 1.0, 2.5, 1e300, 1 / 3, 2.0**53]),
                   st.floats(-1e9, 1e9))


@st.composite
def random_scrapes(draw: st.DrawFn) -> tuple[list[Family], list[Family]]:
    """Two scrapes of gauges and counters with awkward names, label keys and values."""
    labels = draw(st.lists(st.dictionaries(st.sampled_from(["a", "b", "route", "é", "g"]), AWKWARD, max_size=3),
                           min_size=1, max_size=4))
    names = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    kinds = [draw(st.sampled_from(["gauge", "counter"])) for _ in names]
    pages = []
    for _ in range(2):
        pages.append([Family(name, kind, "", "", [Sample(name, series, draw(VALUES)) for series in labels])
                      for name, kind in zip(names, kinds, strict=True)])
    return pages[0], pages[1]


@settings(max_examples=150, deadline=None)
@given(random_scrapes())
def test_random_pages_come_out_alike_text_built_and_written(scrapes: tuple[list[Family], list[Family]]) -> None:
    # given two random scrapes; when the second is translated as it is and with exemplars
    # then the documents are the same lines, but for the exemplars
    _assert_paths_agree(*scrapes)


def test_a_warm_target_translates_as_a_cold_one() -> None:
    # given the same scrapes translated for a target seen before (caches warm) and a new one
    warm = _second_scrape("generated web app", "warm:1")
    warm_again = _second_scrape("generated web app", "warm:1")
    cold = _second_scrape("generated web app", "cold:1")
    # then the documents are the same
    assert warm == warm_again
    assert [serialize(d).replace("warm:1", "X") for d in warm] == [serialize(d).replace("cold:1", "X") for d in cold]
