"""The JSON text the writer builds alongside a document is exactly what encoding the dict gives."""
from __future__ import annotations

import copy
import json
import pickle

import pytest
from promwatch.emf import Distribution, Metric, MetricGroup, serialize, write_group
from promwatch.emf.jsontext import EmfDocument

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode

GROUPS = {
    "gauges with units and resolution": MetricGroup(
        "prod/task-service", 1_700_000_000_000, {"job": "j", "instance": "10.0.0.1:80", "route": "/a"},
        [["job", "instance", "route"], []],
        [Metric("a", 1.0), Metric("b_seconds", 0.25, "Seconds", 1), Metric("c_total", 3, "Count")],
    ),
    "awkward strings": MetricGroup(
        'ns "quoted" \\ back', 7, {"é": 'ü\n\t"\\\u2028\x01', "k": "v"}, [["é", "k"]],
        [Metric('m"x', -0.0, "Bytes")], {"prop\u00e9": "caf\u00e9 \U0001f600", "n": None},
    ),
    "numbers at the edges": MetricGroup(
        "ns", 1, {}, [[]],
        [Metric("big", float(2**53)), Metric("bigger", 1e300), Metric("tiny", 5e-324), Metric("neg", -12.0),
         Metric("int_beyond", 2**60), Metric("third", 1 / 3), Metric("flag", True)],
    ),
    "distributions": MetricGroup(
        "ns", 2, {"job": "j"}, [["job"]],
        [Metric("lat", Distribution((0.1, 0.7, 3.0), (3.0, 1.0, 2.0), 1.2, 0.05, 4.0), "Seconds"),
         Metric("ints", Distribution((1, 2), (5, 7))),
         Metric("empty", Distribution((1.0,), (0.0,))),
         Metric("partly_empty", Distribution((1.0, 2.5), (0.0, 2.0))),
         Metric("one", Distribution((0.3,), (2.0,), 0.7, 0.1, 0.9)),
         Metric("one_plain", Distribution((5.0,), (1,))),
         Metric("one_fraction", Distribution((1 / 3,), (3.0,)))],
        {"exemplars": [{"metric": "lat", "trace_id": "abc", "value": 0.7}], "RollupRule": "r"},
    ),
}


@pytest.mark.parametrize("case", sorted(GROUPS))
def test_document_text_equals_the_encoded_dict(case: str) -> None:
    # given a group that fits one document
    # when it is written
    (document,) = write_group(GROUPS[case])
    # then the document carries its text, and that text is the dict's encoding, byte for byte
    assert isinstance(document, EmfDocument) and document.text is not None
    assert serialize(document) == _ENCODE(dict(document))
    assert json.loads(serialize(document)) == document


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_numbers_are_refused_as_before(bad: float) -> None:
    # given groups holding a non-finite value, as a scalar and in a distribution
    for metric in (Metric("a", bad), Metric("d", Distribution((bad, 1.0), (1.0, 1.0)))):
        (document,) = write_group(MetricGroup("ns", 1, {}, [[]], [metric]))
        # then serializing refuses them, as encoding the dict does
        with pytest.raises(ValueError, match="not JSON compliant"):
            serialize(document)


def test_key_clashes_fall_back_to_encoding_the_dict() -> None:
    # given a group whose property and dimension share a key (one member in the document)
    group = MetricGroup("ns", 1, {"a": "dim"}, [["a"]], [Metric("m", 1.0)], {"a": "prop"})
    (document,) = write_group(group)
    # then what is serialized is the dict as it is
    assert serialize(document) == _ENCODE(dict(document))
    assert json.loads(serialize(document))["a"] == "dim"


def test_changing_a_document_forgets_its_text() -> None:
    # given a written document
    (document,) = write_group(GROUPS["gauges with units and resolution"])
    # when its top level is changed in any way
    document["pad"] = "x"
    document.update(more=1)
    document.setdefault("other", 2)
    document.pop("route")
    # then serializing gives the changed dict
    assert serialize(document) == _ENCODE(dict(document))
    assert '"pad":"x"' in serialize(document) and '"route":"/a"' not in serialize(document)


def test_copies_serialize_as_the_original() -> None:
    # given a written document
    (document,) = write_group(GROUPS["distributions"])
    # when copied deeply, shallowly and through pickle
    copies = [copy.deepcopy(document), copy.copy(document), pickle.loads(pickle.dumps(document))]
    # then each serializes to the same text
    assert all(serialize(c) == serialize(document) for c in copies)
