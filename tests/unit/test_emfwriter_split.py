"""The shared EMF writer splits to fit every limit and never truncates."""
from __future__ import annotations

import json

import pytest
from promwatch.emf import (
    Distribution,
    EmfError,
    EmfValidationError,
    Metric,
    MetricGroup,
    problems,
    serialize,
    validate,
    write_group,
)
from promwatch.limits import (
    EMF_MAX_EVENT_BYTES,
    EMF_MAX_METRICS_PER_DIRECTIVE,
    EMF_MAX_VALUES_PER_METRIC,
)

T0 = 1_700_000_000_000


def _group(metrics: list[Metric], **kw: object) -> MetricGroup:
    return MetricGroup(
        namespace=str(kw.get("namespace", "prod/task-service")),
        timestamp_ms=T0,
        dimensions={"job": "prod/task-service", "instance": "10.0.0.1:9100"},
        dimension_sets=[["job", "instance"]],
        metrics=metrics,
        properties=dict(kw.get("properties", {})),  # type: ignore[call-overload]
    )


def test_small_group_is_one_valid_document() -> None:
    # given two gauges sharing a label set
    group = _group([Metric("a", 1.0), Metric("b", 2.5, unit="Seconds")])
    # when written
    docs = write_group(group)
    # then one document holds both, with its dimensions at the root
    assert len(docs) == 1
    validate(docs[0])
    doc = docs[0]
    assert doc["a"] == 1 and doc["b"] == 2.5
    assert doc["job"] == "prod/task-service"
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Dimensions"] == [["job", "instance"]]
    assert directive["Metrics"] == [{"Name": "a"}, {"Name": "b", "Unit": "Seconds"}]


def test_more_than_100_metrics_are_spread_over_documents() -> None:
    # given 250 metrics with one label set
    group = _group([Metric(f"m{i}", float(i)) for i in range(250)])
    # when written
    docs = write_group(group)
    # then no directive holds more than 100, and every metric appears exactly once
    assert [len(d["_aws"]["CloudWatchMetrics"][0]["Metrics"]) for d in docs] == [100, 100, 50]
    seen = [m["Name"] for d in docs for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert sorted(seen) == sorted(f"m{i}" for i in range(250))
    assert all(not problems(d) for d in docs)
    assert EMF_MAX_METRICS_PER_DIRECTIVE == 100


def test_distribution_over_100_values_splits_and_keeps_sum_and_count() -> None:
    # given a distribution of 250 distinct values with an explicit (exact) sum
    values = tuple(float(v) for v in range(250))
    dist = Distribution(values, tuple(2.0 for _ in values), sum=99_999.0)
    # when written
    docs = write_group(_group([Metric("latency", dist)]))
    # then chunks of at most 100 values whose Count and Sum add up to the whole
    chunks = [d["latency"] for d in docs]
    assert [len(c["Values"]) for c in chunks] == [100, 100, 50]
    assert sum(c["Count"] for c in chunks) == 500
    assert sum(c["Sum"] for c in chunks) == pytest.approx(99_999.0)
    assert sorted(v for c in chunks for v in c["Values"]) == list(range(250))
    assert all(len(c["Values"]) <= EMF_MAX_VALUES_PER_METRIC for c in chunks)
    for d in docs:
        validate(d)


def test_zero_count_buckets_are_omitted_and_empty_distribution_emits_nothing() -> None:
    # given a distribution with only zero counts next to a gauge
    empty = Distribution((0.1, 0.5), (0.0, 0.0), sum=0.0)
    docs = write_group(_group([Metric("h", empty), Metric("g", 3.0)]))
    # then the distribution is absent (nothing was observed), the gauge present
    assert len(docs) == 1 and "h" not in docs[0] and docs[0]["g"] == 3


def test_large_properties_split_by_bytes_not_truncated() -> None:
    # given 250 KiB of log-only properties and ten 2 KiB distributions: they cannot share one event
    big = Distribution(tuple(float(i) + 0.123456789 for i in range(100)), tuple(1.0 for _ in range(100)))
    group = _group([Metric(f"metric_{i:03d}", big) for i in range(10)], properties={"labels": "x" * 250 * 1024})
    # when written
    docs = write_group(group)
    # then every document fits and all 100 metrics are present
    assert len(docs) > 1
    assert all(len(serialize(d).encode()) <= EMF_MAX_EVENT_BYTES for d in docs)
    assert sum(len(d["_aws"]["CloudWatchMetrics"][0]["Metrics"]) for d in docs) == 10
    assert all(d["labels"] == "x" * 250 * 1024 for d in docs)


def test_dimension_without_value_is_an_error_naming_it() -> None:
    # given a dimension set naming route, which the group has no value for
    group = MetricGroup("ns", T0, {"job": "x"}, [["job", "route"]], [Metric("a", 1.0)])
    # when written, then it is refused naming route
    with pytest.raises(EmfError, match="'route'"):
        write_group(group)


def test_single_metric_too_large_for_an_event_is_an_error_not_truncation() -> None:
    # given one metric with a property larger than an EMF event
    group = _group([Metric("a", 1.0)], properties={"blob": "x" * (EMF_MAX_EVENT_BYTES + 1)})
    # when written, then it is refused rather than cut
    with pytest.raises(EmfError, match="does not fit"):
        write_group(group)


def test_serialize_refuses_nan() -> None:
    # given a NaN value, when serialized, then it is refused
    with pytest.raises(ValueError):
        serialize({"x": float("nan")})


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["_aws"].pop("Timestamp"), "Timestamp"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0].__setitem__("Namespace", "bad*ns"), "Namespace"),
        (lambda d: d.__setitem__("job", "café"), "ASCII"),
        (lambda d: d.__setitem__("job", ""), "ASCII"),
        (lambda d: d.pop("a"), "no root member"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].__setitem__("Unit", "Secs"), "Unit"),
        (lambda d: d.__setitem__("a", "1"), "not a number"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0].__setitem__("Dimensions", [[f"k{i}" for i in range(31)]]), "at most 30"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].__setitem__("Name", 7),
         "MetricDefinition Name: expected a string, got 7"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].__setitem__("Name", "_aws"), "MetricDefinition Name: metric name"),
        (lambda d: d.pop("job"), "dimension 'job' (its root member): expected a string, got None"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0].__setitem__("Dimensions", [[1]]), "DimensionSet key: expected a string, got 1"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0].__setitem__("Dimensions", [["jo\nb"]]), "DimensionSet key: dimension name"),
    ],
)
def test_validator_names_each_breach(mutate: object, expected: str) -> None:
    # given a valid document, broken in one way
    doc = json.loads(serialize(write_group(_group([Metric("a", 1.0)]))[0]))
    mutate(doc)  # type: ignore[operator]
    # then the validator reports that breach
    with pytest.raises(EmfValidationError) as info:
        validate(doc)
    assert any(expected in p for p in info.value.problems), info.value.problems


@pytest.mark.parametrize("where", ["dimensions", "properties", "metric"])
def test_a_member_named_aws_is_refused_not_written_over_the_metadata(where: str) -> None:
    # given a group with a dimension, a property or a metric named _aws, in a group that fits one
    # document (built as text) and in one too large for it (measured and split)
    for blob in ("", "x" * EMF_MAX_EVENT_BYTES):
        dimensions = {"job": "x", **({"_aws": "v"} if where == "dimensions" else {})}
        properties = {"blob": blob, **({"_aws": "v"} if where == "properties" else {})}
        metrics = [Metric("a", 1.0), *([Metric("_aws", 2.0)] if where == "metric" else [])]
        group = MetricGroup("ns", T0, dimensions, [["job"]], metrics, properties)
        # when written, then the writer refuses it naming the member, rather than writing a
        # document whose _aws is not the metadata (CloudWatch would extract nothing from it)
        with pytest.raises(EmfError, match="named '_aws'"):
            write_group(group)
