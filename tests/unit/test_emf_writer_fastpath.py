"""The writer's one-document fast path produces exactly what the splitting path produces."""
from __future__ import annotations

import pytest
from promwatch.emf import Distribution, Metric, MetricGroup, serialize, validate, write_group
from promwatch.emf import writer as writer_module
from promwatch.limits import EMF_MAX_EVENT_BYTES, EMF_MAX_METRICS_PER_DIRECTIVE

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


@pytest.mark.parametrize("case", sorted(GROUPS))
def test_fast_path_equals_the_splitting_path(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a group that fits one document
    group = GROUPS[case]
    assert writer_module._fits_one_document(group)
    # when written by the fast path and by the splitting path
    fast = write_group(group)
    monkeypatch.setattr(writer_module, "_fits_one_document", lambda _group: False)
    slow = write_group(group)
    # then the documents are identical and valid
    assert fast == slow and len(fast) == 1
    validate(fast[0])


def test_groups_that_might_not_fit_take_the_splitting_path() -> None:
    # given a group whose properties alone could exceed an event, and one with a duplicate name
    big = MetricGroup("ns", 1, {"job": "j"}, [["job"]], [Metric("a", 1.0)], {"blob": "x" * (EMF_MAX_EVENT_BYTES // 6)})
    duplicate = MetricGroup("ns", 1, {"job": "j"}, [["job"]], [Metric("a", 1.0), Metric("a", 2.0)])
    clash = MetricGroup("ns", 1, {"a": "j"}, [["a"]], [Metric("a", 1.0)])
    # then none is judged to fit without measuring
    assert not any(writer_module._fits_one_document(g) for g in (big, duplicate, clash))
    # and the duplicate still comes out as two documents
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
    split = writer_module._split_documents(group)
    # then the documents are the same, to the byte, each within the limits (the distributions
    # without observations, one metric in five, are no entries)
    assert [serialize(d) for d in written] == [serialize(d) for d in split]
    assert len(written) == -(-(count - (count + 1) // 5) // EMF_MAX_METRICS_PER_DIRECTIVE)
    for document in written:
        validate(document)


def test_a_group_over_the_metrics_limit_that_might_not_fit_is_measured() -> None:
    # given groups over the metrics limit with a name twice, or properties near the event size
    twice = MetricGroup("ns", 1, {"job": "j"}, [["job"]], [*_many(150), Metric("node_metric_0", 9.0)])
    big = MetricGroup("ns", 1, {"job": "j"}, [["job"]], _many(150), {"blob": "x" * (EMF_MAX_EVENT_BYTES // 6)})
    for group in (twice, big):
        # then they are not cut blindly, and come out as the splitting path makes them
        assert writer_module._directive_chunks(group) is None
        assert [serialize(d) for d in write_group(group)] == [serialize(d) for d in writer_module._split_documents(group)]
