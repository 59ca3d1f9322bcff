"""A document that carries its JSON text can never serialize stale JSON.

Its top level forgets the text when changed; every dict and list nested in it (``_aws`` and
what it holds, distribution chunks and their Values/Counts, property values) is read-only,
so a change in place is refused loudly -- also where documents share them (one ``_aws`` per
shape, cached numbers) -- and a deep copy gives plain, editable data.
"""
from __future__ import annotations

import contextlib
import copy
import json
import pickle
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promwatch.emf import (
    Distribution,
    EmfReadOnlyError,
    EmfSettings,
    Metric,
    MetricGroup,
    TargetInfo,
    serialize,
    translate,
    write,
    write_group,
)
from promwatch.emf.errors import EmfError
from promwatch.emf.jsontext import EmfDocument
from promwatch.emf.readonly import ReadOnlyDict, ReadOnlyList
from promwatch.exposition import parse

T0 = 1_700_000_000_000
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _writer_document() -> dict[str, Any]:
    group = MetricGroup(
        "ns", T0, {"job": "j", "route": "/a"}, [["job", "route"]],
        [Metric("latency", Distribution((0.1, 0.5, 2.0, 3.0), (3.0, 1.0, 2.0, 1.0)), "Seconds"),
         Metric("one", Distribution((0.3,), (2.0,))),
         Metric("g", 1.5, "Bytes", 1)],
        {"exemplars": [{"metric": "latency", "trace_id": "abc", "value": 0.5}]},
    )
    (document,) = write_group(group)
    return document


def _histogram_page(scrape: int) -> str:
    lines = ["# TYPE latency histogram"]
    for route in ("/a", "/b"):
        lines += [f'latency_bucket{{route="{route}",le="0.1"}} {scrape}',
                  f'latency_bucket{{route="{route}",le="1"}} {3 * scrape}',
                  f'latency_bucket{{route="{route}",le="+Inf"}} {4 * scrape}',
                  f'latency_sum{{route="{route}"}} {2.5 * scrape}', f'latency_count{{route="{route}"}} {4 * scrape}']
    lines += ["# TYPE one histogram", f'one_bucket{{route="/a",le="+Inf"}} {scrape}', f'one_sum{{route="/a"}} {scrape}',
              f'one_count{{route="/a"}} {scrape}', f'one_bucket{{route="/b",le="+Inf"}} {scrape}',
              f'one_sum{{route="/b"}} {scrape}', f'one_count{{route="/b"}} {scrape}',
              "# TYPE g gauge", 'g{route="/a"} 1.5', 'g{route="/b"} 2']
    return "\n".join(lines) + "\n"


def _translated_documents() -> list[dict[str, Any]]:
    """Two plain documents of one shape (routes /a and /b), made by the translation's text path."""
    target, emf_settings = TargetInfo("job/a", "i:1"), EmfSettings()
    baselines = translate(parse(_histogram_page(1)), target=target, previous=None, settings=emf_settings,
                          now_ms=T0).baselines
    documents = translate(parse(_histogram_page(2)), target=target, previous=baselines, settings=emf_settings,
                          now_ms=T0 + 60_000).documents
    assert len(documents) == 2 and all(isinstance(d, EmfDocument) and d.text is not None for d in documents)
    return documents


def _translated_document() -> dict[str, Any]:
    return _translated_documents()[0]


def _directive(document: dict[str, Any]) -> Any:
    return document["_aws"]["CloudWatchMetrics"][0]


def _set_aside(values: list[Any]) -> None:
    values += [9.0]


def _repeat(values: list[Any]) -> None:
    values *= 2


NESTED_CHANGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "_aws: set Timestamp": lambda d: d["_aws"].__setitem__("Timestamp", 5),
    "_aws: delete Timestamp": lambda d: d["_aws"].__delitem__("Timestamp"),
    "_aws: update": lambda d: d["_aws"].update(Timestamp=5),
    "_aws: |=": lambda d: d["_aws"].__ior__({"Timestamp": 5}),
    "_aws: setdefault": lambda d: d["_aws"].setdefault("Extra", 1),
    "_aws: pop": lambda d: d["_aws"].pop("Timestamp"),
    "_aws: popitem": lambda d: d["_aws"].popitem(),
    "_aws: clear": lambda d: d["_aws"].clear(),
    "CloudWatchMetrics: append": lambda d: d["_aws"]["CloudWatchMetrics"].append({}),
    "directive: set Namespace": lambda d: _directive(d).__setitem__("Namespace", "other"),
    "Dimensions: append a set": lambda d: _directive(d)["Dimensions"].append(["job"]),
    "Dimensions: extend a set": lambda d: _directive(d)["Dimensions"][0].extend(["extra"]),
    "Dimensions: sort a set": lambda d: _directive(d)["Dimensions"][0].sort(),
    "Metrics: pop": lambda d: _directive(d)["Metrics"].pop(),
    "Metrics: remove": lambda d: _directive(d)["Metrics"].remove(_directive(d)["Metrics"][0]),
    "definition: set Unit": lambda d: _directive(d)["Metrics"][0].__setitem__("Unit", "Count"),
    "chunk: set Sum": lambda d: d["latency"].__setitem__("Sum", 0),
    "Values: append": lambda d: d["latency"]["Values"].append(1.0),
    "Values: +=": lambda d: _set_aside(d["latency"]["Values"]),
    "Values: *=": lambda d: _repeat(d["latency"]["Values"]),
    "Values: set an item": lambda d: d["latency"]["Values"].__setitem__(0, 7.0),
    "Values: set a slice": lambda d: d["latency"]["Values"].__setitem__(slice(0, 1), [7.0]),
    "Values: delete an item": lambda d: d["latency"]["Values"].__delitem__(0),
    "Values: insert": lambda d: d["latency"]["Values"].insert(0, 7.0),
    "Values: reverse": lambda d: d["latency"]["Values"].reverse(),
    "Values: clear": lambda d: d["latency"]["Values"].clear(),
    "Counts: set an item": lambda d: d["latency"]["Counts"].__setitem__(0, 7),
    "one-value chunk: append a Value": lambda d: d["one"]["Values"].append(1.0),
    "one-value chunk: set Count": lambda d: d["one"].__setitem__("Count", 0),
}
WRITER_ONLY_CHANGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "exemplars: append": lambda d: d["exemplars"].append({"metric": "g"}),
    "an exemplar: set value": lambda d: d["exemplars"][0].__setitem__("value", 9),
}
MAKERS = {"writer": _writer_document, "translation": _translated_document}
CASES = [(maker, change) for maker in MAKERS for change in NESTED_CHANGES] + [
    ("writer", change) for change in WRITER_ONLY_CHANGES]


@pytest.mark.parametrize(("maker", "change"), CASES)
def test_a_nested_change_is_refused_and_the_text_stays_true(maker: str, change: str) -> None:
    # given a document that carries its text (made by the writer or by the translation's text path)
    document = MAKERS[maker]()
    assert isinstance(document, EmfDocument) and document.text is not None
    before = serialize(document)
    # when a member nested in it is changed in place
    with pytest.raises(EmfReadOnlyError, match="copy the document first") as refused:
        {**NESTED_CHANGES, **WRITER_ONLY_CHANGES}[change](document)
    # then the change is refused, as a promwatch EMF error and a TypeError
    assert isinstance(refused.value, EmfError) and isinstance(refused.value, TypeError)
    # and the document is as it was: its text the encoding of its dict
    assert serialize(document) == before == _ENCODE(document)


def test_documents_sharing_a_head_are_unaffected_by_an_attempted_change() -> None:
    # given two translated documents of one shape, which share their _aws member and Counts
    first, second = _translated_documents()
    assert first["_aws"] is second["_aws"]
    assert first["latency"]["Counts"] is second["latency"]["Counts"]
    before = serialize(second)
    # when the first one's shared members are changed in place
    for change in (lambda: _directive(first)["Metrics"].pop(), lambda: first["latency"]["Counts"].append(1)):
        with pytest.raises(EmfReadOnlyError):
            change()
    # then the second one is unchanged, and its text true
    assert serialize(second) == before == _ENCODE(second)


@pytest.mark.parametrize("calls", ["one write", "two write_group"])
def test_written_documents_sharing_a_head_are_unaffected(calls: str) -> None:
    # given documents written (in one call or two) with the same timestamp, dimension sets and metrics
    groups = [MetricGroup("ns", T0, {"k": v}, [["k"]], [Metric("m", 1.0)]) for v in ("a", "b")]
    first, second = write(groups) if calls == "one write" else [d for g in groups for d in write_group(g)]
    assert first["_aws"] is second["_aws"]
    before = serialize(second)
    # when the first one's _aws is changed in place
    with pytest.raises(EmfReadOnlyError):
        first["_aws"]["Timestamp"] = 5
    # then the second one is unchanged
    assert serialize(second) == before == _ENCODE(second)


def test_changing_what_the_writer_was_given_leaves_the_document_true() -> None:
    # given a document written from properties holding a list of dicts (exemplars)
    exemplars = [{"metric": "g", "value": 1.0}]
    (document,) = write_group(MetricGroup("ns", T0, {}, [[]], [Metric("g", 1.0)], {"exemplars": exemplars}))
    before = serialize(document)
    # when the caller changes its list and dict afterwards
    exemplars[0]["value"] = 2.0
    exemplars.append({"metric": "g", "value": 3.0})
    # then the document does not share them: its text and its dict agree, as written
    assert serialize(document) == before == _ENCODE(document)


@pytest.mark.parametrize("maker", sorted(MAKERS))
def test_a_deep_copy_is_plain_editable_data(maker: str) -> None:
    # given a document with read-only nested members
    document = MAKERS[maker]()
    original = serialize(document)
    # when it is deep-copied and the copy edited deeply
    edited = copy.deepcopy(document)
    edited["_aws"]["Timestamp"] = 5
    _directive(edited)["Dimensions"][0].append("extra")
    edited["latency"]["Values"].append(9.0)
    edited["latency"]["Counts"].append(1)
    # then the copy is plain dicts and lists, and serializes with the edits
    assert all(type(c) in (dict, list) for c in _containers(edited))
    text = serialize(edited)
    assert text == _ENCODE(edited) and '"Timestamp":5' in text and '"extra"]' in text and "9.0]" in text
    # and the original is untouched
    assert serialize(document) == original == _ENCODE(document)


def test_a_member_replaced_at_the_top_level_is_serialized() -> None:
    # given a written document and a shallow copy of it
    document = _writer_document()
    shallow = copy.copy(document)
    # when a nested member is replaced at the top level, from a copy of the old one
    shallow["_aws"] = {**document["_aws"], "Timestamp": 5}
    shallow["latency"] = {**document["latency"], "Values": [*document["latency"]["Values"][:-1], 4.0]}
    # then the copy serializes its new members, and the original keeps its text
    assert serialize(shallow) == _ENCODE(shallow) and '"Timestamp":5' in serialize(shallow)
    assert serialize(document) == document.text == _ENCODE(document)


def test_pickling_keeps_nested_members_read_only() -> None:
    # given a written document, through pickle
    document = pickle.loads(pickle.dumps(_writer_document()))
    # when a nested member is changed in place; then it is refused, and the text stays true
    with pytest.raises(EmfReadOnlyError):
        document["latency"]["Values"].append(1.0)
    assert serialize(document) == _ENCODE(document)


def test_a_document_equals_its_json() -> None:
    # given documents of both makers; then each equals what its JSON text reads back as
    for maker in MAKERS.values():
        document = maker()
        assert json.loads(serialize(document)) == document


def _containers(value: Any) -> Iterator[Any]:
    """Every dict and list in ``value``, itself included."""
    if isinstance(value, dict):
        yield value
        for member in value.values():
            yield from _containers(member)
    elif isinstance(value, list | tuple):
        yield value
        for item in value:
            yield from _containers(item)


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**60), 2**60), st.floats(-1e9, 1e9),
                    st.text(max_size=5))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                         max_size=3), max_leaves=6)
VALUE_LISTS = st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=120, unique=True)


@st.composite
def random_groups(draw: st.DrawFn) -> list[MetricGroup]:
    """Groups of gauges and distributions (some over 100 values: split), with JSON properties."""
    names = draw(st.lists(st.sampled_from(["a", "b_seconds", "c", "d", "é"]), min_size=1, max_size=4, unique=True))
    metrics = []
    for name in names:
        if draw(st.booleans()):
            values = draw(VALUE_LISTS)
            counts = draw(st.lists(st.integers(0, 5), min_size=len(values), max_size=len(values)))
            metrics.append(Metric(name, Distribution(tuple(values), tuple(map(float, counts)))))
        else:
            metrics.append(Metric(name, draw(st.floats(-1e9, 1e9)), draw(st.sampled_from(["None", "Seconds"]))))
    keys = draw(st.lists(st.sampled_from(["job", "route", "x"]), max_size=3, unique=True))
    properties = draw(st.dictionaries(st.sampled_from(["p", "exemplars", "q"]), JSON, max_size=2))
    groups = [MetricGroup("ns", T0 + t, {k: f"v{t}" for k in keys}, [keys], metrics, properties)
              for t in draw(st.lists(st.integers(0, 2), min_size=1, max_size=3))]
    return groups


@settings(max_examples=120, deadline=None)
@given(random_groups())
def test_random_written_documents_serialize_as_their_dict_and_are_read_only_inside(groups: list[MetricGroup]) -> None:
    # given random groups; when written one by one and all at once (shared heads)
    documents = [d for group in groups for d in write_group(group)] + write(groups)
    for document in documents:
        # then each serializes as the compact encoding of its dict
        assert serialize(document) == _ENCODE(document)
        # and every dict and list inside it is read-only
        for member in document.values():
            assert all(type(c) in (ReadOnlyDict, ReadOnlyList) for c in _containers(member))
    # and when every one of them is changed in place (refused), each still serializes as its dict
    for document in documents:
        for member in document.values():
            for container in _containers(member):
                with contextlib.suppress(EmfReadOnlyError):
                    container.append(0) if isinstance(container, list) else container.update(probe=0)
    assert all(serialize(document) == _ENCODE(document) for document in documents)
