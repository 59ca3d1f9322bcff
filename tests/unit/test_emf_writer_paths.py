"""The writer's two ways to a document give the same text, through the public writer only.

A group that certainly fits one document is built from the JSON pieces of
:mod:`promwatch.emf.jsontext`, its text alongside; any other group is filled entry by entry,
each measured, and encoded by :func:`promwatch.emf.serialize`. A large property makes a group
too large to be judged without measuring, while it still fits: so a random group is written as
it is, and again with that property, whose member is then taken out of each document's text.
Both must give the same text, and every text must be the encoding of its document's dict.
"""
from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from promwatch.emf import Distribution, EmfError, Metric, MetricGroup, serialize, write_group

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
BLOB_KEY = "zz_blob"
BLOB = "x" * 50_000  # 6 bytes a character at worst: too large to fit without measuring, fits by far
BLOB_MEMBER = f',"{BLOB_KEY}":"{BLOB}"'

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6)
NAMES = st.one_of(TEXT, st.sampled_from(["a", "b", "lat", "100%", "load%s", "é", 'q"x']))
FINITE = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    st.sampled_from([0.0, -0.0, 1.0, 0.5, 1 / 3, 2.0**53, 1e300, 5e-324]),
    st.integers(-(2**60), 2**60),
)
COUNTS = st.one_of(st.sampled_from([0.0, 1.0, 2.0, 3, 0.5]), st.floats(min_value=0.0, max_value=1e6))


@st.composite
def distributions(draw: st.DrawFn) -> Distribution:
    size = draw(st.integers(1, 120))
    values = tuple(draw(st.lists(st.floats(-1e6, 1e6), min_size=size, max_size=size)))
    counts = tuple(draw(st.lists(COUNTS, min_size=size, max_size=size)))
    optional = st.one_of(st.none(), st.floats(-1e6, 1e6))
    return Distribution(values, counts, draw(optional), draw(optional), draw(optional))


@st.composite
def groups(draw: st.DrawFn) -> MetricGroup:
    dimensions = draw(st.dictionaries(NAMES, TEXT, max_size=4))
    keys = list(dimensions)
    sets = draw(st.lists(st.lists(st.sampled_from(keys), unique=True) if keys else st.just([]), min_size=1,
                         max_size=2))
    metrics = draw(st.lists(st.builds(
        Metric, NAMES, st.one_of(FINITE, distributions()), st.sampled_from(["None", "Seconds", "Bytes", ""]),
        st.sampled_from([1, 60])), min_size=1, max_size=40))
    properties: dict[str, Any] = draw(st.dictionaries(NAMES.filter(lambda k: k != BLOB_KEY), TEXT, max_size=2))
    return MetricGroup(draw(TEXT), draw(st.integers(0, 2**41)), dimensions, sets, metrics, properties)


def _texts(group: MetricGroup) -> list[str] | str:
    """Each document's text, each checked to be its dict's encoding; or the error raised."""
    try:
        documents = write_group(group)
        texts = [serialize(document) for document in documents]
    except (EmfError, ValueError) as error:  # a non-finite sum: the encoder refuses it either way
        return type(error).__name__
    assert texts == [_ENCODE(dict(document)) for document in documents]
    return texts


@settings(max_examples=300, deadline=None)
@given(groups())
def test_text_built_documents_equal_the_measured_ones(group: MetricGroup) -> None:
    # given a random group, and the same group with a large property that makes it be measured
    measured_group = MetricGroup(group.namespace, group.timestamp_ms, group.dimensions, group.dimension_sets,
                                 group.metrics, {**group.properties, BLOB_KEY: BLOB})
    # when both are written
    built = _texts(group)
    measured = _texts(measured_group)
    # then, the large property's member taken out, they are the same text (and each is its dict's encoding)
    if isinstance(measured, str):
        assert built == measured
        return
    assert all(text.count(BLOB_MEMBER) == 1 for text in measured)
    assert built == [text.replace(BLOB_MEMBER, "") for text in measured]


def test_a_large_property_is_one_more_member_of_the_same_document() -> None:
    # given a group of one gauge, and the same with the large property
    group = MetricGroup("ns", 1, {"job": "j"}, [["job"]], [Metric("a", 1.5)])
    measured = MetricGroup("ns", 1, {"job": "j"}, [["job"]], [Metric("a", 1.5)], {BLOB_KEY: BLOB})
    # when written
    (built,) = write_group(group)
    (document,) = write_group(measured)
    # then the second took the measuring path (its documents are plain dicts, encoded when serialized)
    assert type(built) is not dict and type(document) is dict
    # and the first is the expected text, and the second the same with the property's member
    assert serialize(built) == (
        '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"ns","Dimensions":[["job"]],'
        '"Metrics":[{"Name":"a"}]}]},"job":"j","a":1.5}'
    )
    assert serialize(document) == serialize(built).replace(',"job"', BLOB_MEMBER + ',"job"')
