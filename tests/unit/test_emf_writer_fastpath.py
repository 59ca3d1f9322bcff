"""The writer's one-document fast path produces exactly what the splitting path produces.

A large property (:data:`BLOB_MEMBER`) sends a group that fits by far to the splitting path,
which measures every entry: the documents, that member taken out, must be the fast path's.
:mod:`tests.unit.test_emf_writer_paths` does the same on random groups."""
from __future__ import annotations

import pytest
from promwatch.emf import Distribution, Metric, MetricGroup, serialize, validate, write_group
from promwatch.limits import EMF_MAX_EVENT_BYTES, EMF_MAX_METRICS_PER_DIRECTIVE

BLOB_KEY, BLOB = "zz_blob", "x" * 50_000  # too large to fit without measuring, fits by far
BLOB_MEMBER = f',"{BLOB_KEY}":"{BLOB}"'

GROUPS = {
    "gauges": MetricGroup(
        "prod/task-service", 1_700_000_000_000, {"job": "j", "instance": "i", "route": "/a"},
        [["job", "instance", "route"], []],
        [Metric("a", 1.0), Metric("b_seconds", 0.25, "Seconds", 1), Metric("c_total", 3.0, "Count")],
    ),
    "distribution and properties": MetricGroup(
        "ns", 1, {"job": "j"}, [["job"]],
        [Metric("lat", Distribution((0.1, 0.7), (3.0, 1.0), 1.2, 0.1, 0.7), "Seconds"),
         Metric("empty", Distribution((1.0,), (0.0,)))],
        {"exemplars": [{"metric": "lat", "trace_id": "abc", "value": 0.7}], "pod": "ünïcode"},
    ),
}


def _measured(group: MetricGroup) -> list[str]:
    """The texts of ``group``'s documents written by the splitting path (through a large
    property), that property's member taken out."""
    measured = MetricGroup(group.namespace, group.timestamp_ms, group.dimensions, group.dimension_sets,
                           group.metrics, {**group.properties, BLOB_KEY: BLOB})
    documents = write_group(measured)
    assert all(type(d) is dict for d in documents)  # the measuring path's: encoded when serialized
    texts = [serialize(d) for d in documents]
    assert all(text.count(BLOB_MEMBER) == 1 for text in texts)
    return [text.replace(BLOB_MEMBER, "") for text in texts]


@pytest.mark.parametrize("case", sorted(GROUPS))
def test_fast_path_equals_the_splitting_path(case: str) -> None:
    # given a group that fits one document
    group = GROUPS[case]
    # when written by the fast path and by the splitting path
    fast = write_group(group)
    slow = _measured(group)
    # then the documents are identical and valid
    assert [serialize(d) for d in fast] == slow and len(fast) == 1
    validate(fast[0])


def test_a_duplicate_name_comes_out_as_two_documents() -> None:
    # given a group with a metric name twice
    duplicate = MetricGroup("ns", 1, {"job": "j"}, [["job"]], [Metric("a", 1.0), Metric("a", 2.0)])
    # then it comes out as two documents
    assert [d["a"] for d in write_group(duplicate)] == [1, 2]


def _many(count: int) -> list[Metric]:
    """``count`` distinct metrics of every kind the fast path writes (units, resolutions,
    distributions, one with no values, a non-ASCII name)."""
    kinds = [
        lambda i: Metric(f"node_metric_{i}", float(i) * 1.5),
        lambda i: Metric(f"bytes_{i}_total", float(i), "Bytes", 1),
        lambda i: Metric(f"lat_{i}_seconds", Distribution((0.1, 0.2 * i), (2.0, 1.0), 0.3, 0.1, 0.2 * i), "Seconds"),
        lambda i: Metric(f"température_{i}", 21.5),
        lambda i: Metric(f"idle_{i}", Distribution((1.0,), (0.0,))),
    ]
    return [kinds[i % len(kinds)](i) for i in range(count)]


@pytest.mark.parametrize("count", [101, 250, 300, 777])
def test_a_group_over_the_metrics_limit_is_cut_as_the_splitting_path_cuts_it(count: int) -> None:
    # given a group of more metrics than one directive takes, distinct names, with dimensions and properties
    group = MetricGroup("node", 1_700_000_000_000, {"job": "node", "instance": "10.0.0.1:9100"},
                        [["job", "instance"], []], _many(count), {"zone": "eu-west-1a"})
    # when written, and when cut by the splitting path that measures every entry
    written = write_group(group)
    split = _measured(group)
    # then the documents are the same, to the byte, each within the limits (the distributions
    # without observations, one metric in five, are no entries)
    assert [serialize(d) for d in written] == split
    assert len(written) == -(-(count - (count + 1) // 5) // EMF_MAX_METRICS_PER_DIRECTIVE)
    for document in written:
        validate(document)


def test_a_group_over_the_metrics_limit_that_might_not_fit_is_measured() -> None:
    # given groups over the metrics limit with a name twice, or properties near the event size
    twice = MetricGroup("ns", 1, {"job": "j"}, [["job"]], [*_many(150), Metric("node_metric_0", 9.0)])
    big = MetricGroup("ns", 1, {"job": "j"}, [["job"]], _many(150), {"blob": "x" * (EMF_MAX_EVENT_BYTES // 6)})
    for group in (twice, big):
        # when written
        documents = write_group(group)
        # then each document is valid and within the event size, and every metric with
        # observations is in one, in order (the repeated name in a later document)
        for document in documents:
            validate(document)
            assert len(serialize(document).encode()) <= EMF_MAX_EVENT_BYTES
        published = [(d["_aws"]["CloudWatchMetrics"][0]["Metrics"][i]["Name"])
                     for d in documents for i in range(len(d["_aws"]["CloudWatchMetrics"][0]["Metrics"]))]
        expected = [m.name for m in group.metrics if not m.name.startswith("idle_")]
        assert sorted(published) == sorted(expected)
    assert [d["node_metric_0"] for d in write_group(twice) if "node_metric_0" in d] == [0, 9]
