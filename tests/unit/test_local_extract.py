"""The emulation of CloudWatch's metric extraction from EMF log events (pure)."""
from __future__ import annotations

import copy
import json
from datetime import UTC

import pytest
from promwatch.emf import Distribution, Metric, MetricGroup, serialize, validate, write_group
from promwatch.limits import METRICS_PUT_MAX_DATUMS, METRICS_PUT_MAX_VALUES
from promwatch_tools.local.errors import LocalError
from promwatch_tools.local.extract import (
    ExtractedDatum,
    extract_document,
    extract_events,
    percentile,
    put_metric_data_requests,
)

NOW_MS = 1_800_000_000_000


def _latency_document() -> dict[str, object]:
    group = MetricGroup(
        namespace="prod/task-service",
        timestamp_ms=NOW_MS,
        dimensions={"job": "prod/task-service", "route": "/tasks", "method": "GET"},
        dimension_sets=[["job", "route", "method"], ["job"]],
        metrics=[
            Metric("http_request_duration_seconds",
                   Distribution((0.003, 0.01, 0.2), (5, 3, 1), sum=0.33, minimum=0.002, maximum=0.25),
                   "Seconds"),
            Metric("nodejs_heap_size_used_bytes", 1024.0, "Bytes", storage_resolution=1),
        ],
        properties={"instance": "127.0.0.1:3000"},
    )
    (document,) = write_group(group)
    validate(document)
    return document


def test_each_dimension_set_and_metric_becomes_one_datum() -> None:
    # given a valid document with two dimension sets and two metrics
    document = _latency_document()
    # when extracted
    datums = extract_document(document)
    # then every (set, metric) pair is a datum with the set's dimensions, in the directive's namespace
    assert {(d.name, d.dimensions) for d in datums} == {
        ("http_request_duration_seconds", (("job", "prod/task-service"), ("route", "/tasks"), ("method", "GET"))),
        ("http_request_duration_seconds", (("job", "prod/task-service"),)),
        ("nodejs_heap_size_used_bytes", (("job", "prod/task-service"), ("route", "/tasks"), ("method", "GET"))),
        ("nodejs_heap_size_used_bytes", (("job", "prod/task-service"),)),
    }
    assert {d.namespace for d in datums} == {"prod/task-service"}
    assert {d.timestamp_ms for d in datums} == {NOW_MS}


def test_a_distribution_keeps_its_exact_statistics_and_its_values() -> None:
    # given a distribution whose Sum/Min/Max are exact and whose values are bucket representatives
    (latency, *_) = extract_document(_latency_document())
    # then the datum carries both, and the unit
    assert latency.distribution
    assert (latency.sample_count, latency.sum, latency.minimum, latency.maximum) == (9, 0.33, 0.002, 0.25)
    assert latency.values == (0.003, 0.01, 0.2) and latency.counts == (5, 3, 1)
    assert latency.unit == "Seconds" and latency.storage_resolution == 60


def test_plain_values_arrays_and_resolution() -> None:
    # given a document with a number, an array of samples, high resolution and no dimensions
    document = {
        "_aws": {"Timestamp": NOW_MS, "CloudWatchMetrics": [{
            "Namespace": "Promwatch", "Dimensions": [[]],
            "Metrics": [{"Name": "Gauge", "StorageResolution": 1}, {"Name": "Samples", "Unit": "Milliseconds"}],
        }]},
        "Gauge": 7, "Samples": [1, 2, 6],
    }
    validate(document)
    # when extracted
    gauge, samples = extract_document(document)
    # then the number is one sample and the array three, with derived statistics
    assert (gauge.values, gauge.sample_count, gauge.storage_resolution, gauge.dimensions) == ((7.0,), 1, 1, ())
    assert (samples.sample_count, samples.sum, samples.minimum, samples.maximum) == (3, 9, 1, 6)
    assert not samples.distribution and samples.unit == "Milliseconds"


def test_events_mix_emf_plain_lines_and_invalid_documents() -> None:
    # given log messages: valid EMF (as JSON text), a plain log line, JSON that is not EMF,
    # EMF missing its metric member, and EMF too old for CloudWatch
    good = serialize(_latency_document())
    missing_member = {"_aws": {"Timestamp": NOW_MS, "CloudWatchMetrics": [
        {"Namespace": "N", "Dimensions": [[]], "Metrics": [{"Name": "Absent"}]}]}}
    too_old = dict(json.loads(good))
    too_old["_aws"] = {**too_old["_aws"], "Timestamp": NOW_MS - 15 * 86400 * 1000}
    messages = [good, "START RequestId: 1 Version: $LATEST", '{"level": "INFO"}', missing_member, too_old]
    # when extracted
    result = extract_events(messages, now_ms=NOW_MS)
    # then only the valid document yields data; the two bad EMF events are reported with reasons
    assert result.emf_events == 3 and result.plain_events == 2
    assert len(result.datums) == 4
    assert [r.index for r in result.rejected] == [3, 4]
    assert "Absent" in result.rejected[0].reasons[0]
    assert "14 days" in result.rejected[1].reasons[0]


def test_without_a_clock_old_timestamps_are_kept() -> None:
    # given an old but otherwise valid document and no clock
    document = copy.deepcopy(_latency_document())  # the writer's nested members are read-only
    document["_aws"]["Timestamp"] = 1  # type: ignore[index]
    # when extracted without now_ms
    result = extract_events([document])
    # then nothing is rejected
    assert not result.rejected and len(result.datums) == 4


def _datum(**overrides: object) -> ExtractedDatum:
    fields: dict[str, object] = {
        "namespace": "N", "name": "m", "dimensions": (("a", "1"),), "timestamp_ms": NOW_MS,
        "unit": "Count", "storage_resolution": 60, "values": (1.0,), "counts": (1.0,),
        "sample_count": 1.0, "sum": 1.0, "minimum": 1.0, "maximum": 1.0,
    }
    fields.update(overrides)
    return ExtractedDatum(**fields)  # type: ignore[arg-type]


def test_put_metric_data_uses_statistic_sets_for_distributions() -> None:
    # given a distribution datum, a single value, and a 400-sample array
    distribution = _datum(values=(0.1, 0.2), counts=(3.0, 1.0), sample_count=4.0, sum=0.5,
                          minimum=0.05, maximum=0.2, distribution=True, unit="Seconds")
    single = _datum(name="single")
    many = _datum(name="many", values=tuple(float(i) for i in range(400)), counts=(1.0,) * 400)
    # when turned into PutMetricData requests
    (request,) = put_metric_data_requests([distribution, single, many])
    data = request["MetricData"]
    # then the distribution is an exact statistic set, the value a Value, the array chunks of <=150
    assert request["Namespace"] == "N"
    assert data[0]["StatisticValues"] == {"SampleCount": 4.0, "Sum": 0.5, "Minimum": 0.05, "Maximum": 0.2}
    assert data[0]["Unit"] == "Seconds" and data[0]["Dimensions"] == [{"Name": "a", "Value": "1"}]
    assert data[0]["Timestamp"].tzinfo is UTC and data[0]["Timestamp"].timestamp() * 1000 == NOW_MS
    assert data[1]["Value"] == 1.0
    chunks = [d for d in data if d["MetricName"] == "many"]
    assert [len(c["Values"]) for c in chunks] == [150, 150, 100]
    assert all(len(c["Values"]) <= METRICS_PUT_MAX_VALUES for c in chunks)


def test_put_metric_data_splits_by_namespace_and_datum_count() -> None:
    # given 2500 datums in one namespace and one in another, and an empty distribution
    datums = [_datum(name=f"m{i}") for i in range(2500)] + [_datum(namespace="Other")]
    empty = _datum(values=(), counts=(), sample_count=0.0, sum=0.0, distribution=True)
    # when turned into requests
    requests = put_metric_data_requests([*datums, empty])
    # then each request holds one namespace and at most 1000 datums; the empty distribution is left out
    assert [(r["Namespace"], len(r["MetricData"])) for r in requests] == [
        ("N", 1000), ("N", 1000), ("N", 500), ("Other", 1)]
    assert all(len(r["MetricData"]) <= METRICS_PUT_MAX_DATUMS for r in requests)


@pytest.mark.parametrize(("q", "expected"), [(0, 0.003), (50, 0.003), (55, 0.003), (56, 0.01), (99, 0.2), (100, 0.2)])
def test_percentile_by_nearest_rank(q: float, expected: float) -> None:
    # given 9 observations: 5 x 0.003, 3 x 0.01, 1 x 0.2
    values, counts = (0.2, 0.003, 0.01), (1.0, 5.0, 3.0)
    # then the q-th percentile is the value whose cumulative count first reaches q% of 9
    assert percentile(values, counts, q) == expected


def test_percentile_edges() -> None:
    # given one bucket: when it holds no samples, then there is no percentile; when q is over 100, then an error names it
    # no samples -> no percentile; out-of-range q -> an error naming it
    assert percentile((1.0,), (0.0,), 50) is None
    with pytest.raises(LocalError, match="101"):
        percentile((1.0,), (1.0,), 101)


def test_the_specifications_example_document() -> None:
    # given the example document of the EMF specification (a Lambda function's request time)
    message = (
        '{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"lambda-function-metrics",'
        '"Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time","Unit":"Milliseconds",'
        '"StorageResolution":60}]}]},"functionVersion":"$LATEST","time":100,'
        '"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019ee"}'
    )
    # when extracted
    (datum,) = extract_events([message]).datums
    # then it is the one metric the specification describes; requestId stays a log-only property
    assert (datum.namespace, datum.name, datum.dimensions) == (
        "lambda-function-metrics", "time", (("functionVersion", "$LATEST"),))
    assert (datum.values, datum.unit, datum.storage_resolution, datum.timestamp_ms) == (
        (100.0,), "Milliseconds", 60, 1574109732004)
