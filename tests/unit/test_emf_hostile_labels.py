"""A page whose label values, label names and metric names CloudWatch would refuse: scrape -> EMF end to end."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from promwatch.emf import EmfSettings, ScrapeStats, TargetInfo, Translation, serialize, translate, validate
from promwatch.emf.identifiers import unescape_value
from promwatch.exposition import parse
from promwatch.exposition.model import Exemplar, Family, Sample
from promwatch.state import TargetBaselines

T0 = 1_700_000_000_000
TARGET = TargetInfo("prod/task-service", "10.0.0.1:3000")

# The text format escapes \\, \" and \n in label values; other control characters come raw.
PAGE = (
    "# TYPE requests_total counter\n"
    'requests_total{path="line\\nbreak"} 1\n'
    'requests_total{path="caf\\\\xe9"} 2\n'
    'requests_total{path="café"} 3\n'
    'requests_total{path="tab\there"} 4\n'
    'requests_total{path="nul\x00x"} 5\n'
    'requests_total{path="del\x7fx"} 6\n'
    'requests_total{path="C:\\\\logs"} 7\n'
    'requests_total{path="/plain"} 8\n'
    '{"requests_total","we\\nird"="v"} 9\n'
    "# TYPE inflight gauge\n"
    'inflight{path="line\\nbreak"} 1\n'
    '{"in\\nflight",path="/plain"} 2\n'
)
EXPOSED_PATHS = ["line\nbreak", "caf\\xe9", "café", "tab\there", "nul\x00x", "del\x7fx", "C:\\logs", "/plain"]


def _translate(text: str, previous: TargetBaselines | None = None, settings: EmfSettings | None = None,
               target: TargetInfo = TARGET) -> Translation:
    now_ms = previous.scraped_at_ms + 60_000 if previous is not None else T0
    return translate(parse(text), target=target, previous=previous, settings=settings or EmfSettings(),
                     now_ms=now_ms, scrape=ScrapeStats(True, 0.1))


def test_a_hostile_page_gives_only_valid_documents_and_counts_what_it_drops() -> None:
    # Given three scrapes of a page with control characters, backslashes and non-ASCII in
    # values, a label name with a newline and a metric name with a newline (one settings
    # object: the warm scrapes take the cached label sets and the families' layouts)
    settings = EmfSettings()
    scrapes = [_translate(PAGE, settings=settings)]
    for n in (1, 2):
        scrapes.append(_translate(PAGE.replace("} ", f"}} {n}"), previous=scrapes[-1].baselines, settings=settings))
    # Then every document is valid EMF, its JSON one line
    for translation in scrapes:
        for document in translation.documents:
            validate(document)
            assert "\n" not in serialize(document)
    # and the metric name and the label name CloudWatch refuses drop their series, counted on
    # every scrape (the first only records the counters' baselines)
    assert [t.drop_counts() for t in scrapes] == [
        {"invalid_metric_name": 1}, *[{"invalid_dimension": 1, "invalid_metric_name": 1}] * 2]
    # and each exposed value is its own series, published escaped, which unescapes to it
    published = [d["path"] for d in scrapes[-1].documents if "requests_total" in d]
    assert len(published) == len(set(published)) == len(EXPOSED_PATHS)
    assert [unescape_value(p) for p in published] == EXPOSED_PATHS
    assert published[:4] == ["line\\nbreak", "caf\\\\xe9", "caf\\xe9", "tab\\there"]
    # and the gauge of the same label set shares the counter's document
    [shared] = [d for d in scrapes[-1].documents if "inflight" in d]
    assert shared["requests_total"] == 10 and shared["path"] == "line\\nbreak"


def test_target_labels_are_escaped_for_series_and_scrape_metrics_alike() -> None:
    # Given a target label with a newline and a job name with a non-ASCII character
    target = TargetInfo("jöb", "h:1", {"env": "pro\nd"})
    translation = _translate('g{a="1"} 1\n', target=target)
    # Then up and the series carry the same escaped values, in valid documents
    assert [(d["job"], d["env"]) for d in translation.documents] == [("j\\xf6b", "pro\\nd")] * 2
    for document in translation.documents:
        validate(document)


def test_label_matchers_see_the_values_as_exposed() -> None:
    # Given declarations matching a backslash and a non-ASCII character as the target wrote them
    settings = EmfSettings.model_validate({"metric_declarations": [{
        "dimensions": [["path"]], "metric_name_selectors": ["^inflight$"],
        "label_matchers": [{"label_names": ["path"], "regex": r"^(C:\\logs|café)$"}],
    }]})
    page = '# TYPE inflight gauge\ninflight{path="C:\\\\logs"} 1\ninflight{path="café"} 2\ninflight{path="x"} 3\n'
    translation = _translate(page, settings=settings)
    # Then both are selected and published escaped; the third is not declared
    assert [d["path"] for d in translation.documents if "inflight" in d] == ["C:\\\\logs", "caf\\xe9"]
    assert translation.drop_counts() == {"not_declared": 1}


def test_invalid_metric_names_leave_the_rest_of_their_document() -> None:
    # Given a gauge with an exemplar sharing its label set with a metric named with a tab
    families = [
        Family("good", "gauge", "", "", [Sample("good", {"a": "1"}, 1.0, None, Exemplar({"trace_id": "t"}, 1.0))]),
        Family("ba\td", "gauge", "", "", [Sample("ba\td", {"a": "1"}, 2.0, None, Exemplar({"trace_id": "u"}, 2.0))]),
        Family("ba\td", "gauge", "", "", [Sample("ba\td", {"a": "2"}, 3.0)]),
    ]
    translation = translate(families, target=TARGET, previous=None, settings=EmfSettings(), now_ms=T0)
    # Then the good metric is published with its own exemplar only, the bad one dropped twice
    [document] = translation.documents
    validate(document)
    assert document["good"] == 1 and "ba\td" not in document
    assert [e["metric"] for e in document["exemplars"]] == ["good"]
    assert translation.drop_counts() == {"invalid_metric_name": 2}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(exclude_categories=()), min_size=1, max_size=20), unique=True, max_size=12))
def test_any_label_values_give_valid_documents_one_series_each(values: list[str]) -> None:
    # Given a gauge whose series differ only in a label with any non-empty values
    families = [Family("g", "gauge", "", "", [Sample("g", {"v": value}, 1.0) for value in values])]
    translation = translate(families, target=TARGET, previous=None, settings=EmfSettings(), now_ms=T0)
    # Then every document is valid, each value is its own series (unescaping to it), and
    # only values of spaces (blank once escaped: other whitespace is escaped) are dropped, counted
    for document in translation.documents:
        validate(document)
    published = [unescape_value(document["v"]) for document in translation.documents]
    assert published == [value for value in values if value.strip(" ")]
    assert translation.drop_counts() == ({"invalid_dimension": len(values) - len(published)} if published != values else {})


def test_a_metric_or_label_named_aws_does_not_take_the_place_of_the_emf_metadata() -> None:
    # given a page with a metric named _aws (a valid Prometheus name) and a series labelled _aws
    page = parse('_aws 2\ng{_aws="x",route="/a"} 1\n')
    # when translated
    result = translate(page, target=TargetInfo("j", "i"), previous=None, settings=EmfSettings(), now_ms=1_700_000_000_000)
    # then the metric is dropped as an invalid name, and the label is published as _aws_label
    assert [(d.reason, d.name) for d in result.dropped] == [("invalid_metric_name", "_aws")]
    (document,) = result.documents
    assert document["_aws_label"] == "x" and document["g"] == 1
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["job", "instance", "_aws_label", "route"]]
    # and the document is valid, its text the encoding of its dict
    validate(document)
    assert json.loads(serialize(document)) == document
