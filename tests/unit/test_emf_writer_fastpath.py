"""The writer's one-document fast path produces exactly what the splitting path produces."""
from __future__ import annotations

import pytest
from promwatch.emf import Distribution, Metric, MetricGroup, validate, write_group
from promwatch.emf import writer as writer_module
from promwatch.limits import EMF_MAX_EVENT_BYTES

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
