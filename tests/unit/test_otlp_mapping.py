"""Prometheus pages -> OTLP ResourceMetrics (promwatch.otlp.mapping), per the OpenTelemetry spec's
Prometheus compatibility section."""
from __future__ import annotations

import math
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from promwatch.exposition import Family, Sample, parse
from promwatch.limits import OTLP_MAX_LABELS_PER_DATA_POINT
from promwatch.otlp import ScrapeTarget, is_stale, otel_unit, to_resource_metrics
from promwatch.otlp.attributes import STALE_NAN_BITS
from promwatch.state import StartTime

NOW_MS = 1_700_000_000_000
TARGET = ScrapeTarget("api", "10.0.0.1:9100", "http://10.0.0.1:9100/metrics",
                      {"job": "api", "instance": "10.0.0.1:9100", "env": "prod"})


def _map(text: str, *, openmetrics: bool = False, now_ms: int = NOW_MS, starts: Any = None,
         target: ScrapeTarget = TARGET) -> Any:
    families = parse(text, content_type="application/openmetrics-text; version=1.0.0" if openmetrics else None)
    return to_resource_metrics(families, target=target, now_ms=now_ms, previous_starts=starts or {})


def _metrics(result: Any) -> dict[str, Any]:
    return {m.name: m for scope in result.resource_metrics.scope_metrics for m in scope.metrics}


def _attrs(kvs: Any) -> dict[str, str]:
    return {kv.key: kv.value.string_value for kv in kvs}


def test_counter_is_a_monotonic_cumulative_sum_named_as_exposed_with_start_from_created() -> None:
    # given an OpenMetrics counter with _created
    text = ('# TYPE http_requests counter\n# HELP http_requests Requests.\n'
            'http_requests_total{code="200"} 7\nhttp_requests_created{code="200"} 1600000000.5\n# EOF\n')
    # when it is mapped
    result = _map(text, openmetrics=True)
    # then it is one monotonic cumulative Sum named as the sample line, started at _created
    metric = _metrics(result)["http_requests_total"]
    assert metric.sum.is_monotonic and metric.sum.aggregation_temporality == 2
    point = metric.sum.data_points[0]
    assert point.as_double == 7
    assert point.start_time_unix_nano == 1_600_000_000_500_000_000
    assert point.time_unix_nano == NOW_MS * 1_000_000
    assert _attrs(point.attributes) == {"env": "prod", "code": "200"}
    assert metric.description == "Requests."
    assert _attrs(metric.metadata) == {"prometheus.type": "counter"}
    # and _created is not a metric of its own, nor is a start time stored for it
    assert "http_requests_created" not in _metrics(result)
    assert result.starts == {}


def test_created_exposed_as_its_own_gauge_family_gives_the_start_too() -> None:
    # given prometheus_client's text format: foo_created as a separate gauge
    text = ("# TYPE jobs_total counter\njobs_total 3\n# TYPE jobs_created gauge\njobs_created 1650000000\n")
    # when mapped
    metrics = _metrics(_map(text))
    # then the counter starts at it and no jobs_created gauge is sent
    assert metrics["jobs_total"].sum.data_points[0].start_time_unix_nano == 1_650_000_000 * 10**9
    assert "jobs_created" not in metrics


def test_created_after_the_scrape_falls_back_to_the_first_seen_start_and_is_counted() -> None:
    # given a counter and a histogram whose _created lie an hour after the scrape (a clock ahead)
    future = NOW_MS / 1000 + 3600
    text = (f'# TYPE c counter\nc_total 3\nc_created {future}\n'
            f'# TYPE h histogram\nh_bucket{{le="+Inf"}} 1\nh_count 1\nh_sum 1\nh_created {future}\n# EOF\n')
    # when mapped
    result = _map(text, openmetrics=True)
    metrics = _metrics(result)
    points = [metrics["c_total"].sum.data_points[0], metrics["h"].histogram.data_points[0]]
    # then no start follows its time: the first scrape that saw them is their start, and both are counted
    assert [(p.start_time_unix_nano, p.time_unix_nano) for p in points] == [(NOW_MS * 1_000_000,) * 2] * 2
    assert result.created_after_time == 2
    # and that start is kept for the next scrape, as for a series without _created
    assert len(result.starts) == 2


def test_counter_without_created_starts_at_first_sight_keeps_it_and_restarts_on_a_reset() -> None:
    text = "# TYPE jobs_total counter\njobs_total {}\n"
    # given a first scrape: the start is the point's own time
    first = _map(text.format(5))
    point = _metrics(first)["jobs_total"].sum.data_points[0]
    assert point.start_time_unix_nano == point.time_unix_nano == NOW_MS * 1_000_000
    # when the next scrape sees a higher value, with the stored start times
    second = _map(text.format(9), now_ms=NOW_MS + 60_000, starts=first.starts)
    # then the start stays
    assert _metrics(second)["jobs_total"].sum.data_points[0].start_time_unix_nano == NOW_MS * 1_000_000
    # and when a later scrape sees a lower value (the process restarted), the start moves to it
    third = _map(text.format(2), now_ms=NOW_MS + 120_000, starts=second.starts)
    assert _metrics(third)["jobs_total"].sum.data_points[0].start_time_unix_nano == (NOW_MS + 120_000) * 1_000_000
    assert list(third.starts.values()) == [StartTime(NOW_MS + 120_000, 2.0)]


def test_classic_histogram_has_the_page_bounds_without_inf_and_decumulated_counts() -> None:
    # given a histogram
    text = ('# TYPE rpc_seconds histogram\n'
            'rpc_seconds_bucket{le="0.1"} 2\nrpc_seconds_bucket{le="0.5"} 5\nrpc_seconds_bucket{le="+Inf"} 6\n'
            'rpc_seconds_sum 1.25\nrpc_seconds_count 6\n')
    # when mapped
    metric = _metrics(_map(text))["rpc_seconds"]
    # then it is an explicit-bucket cumulative histogram
    point = metric.histogram.data_points[0]
    assert metric.histogram.aggregation_temporality == 2
    assert list(point.explicit_bounds) == [0.1, 0.5]
    assert list(point.bucket_counts) == [2, 3, 1]
    assert (point.count, point.sum) == (6, 1.25)
    assert "le" not in _attrs(point.attributes)


def test_histogram_without_count_counts_its_inf_bucket_and_without_sum_has_no_sum() -> None:
    # given one histogram missing _count and one missing _sum
    text = ('# TYPE a histogram\na_bucket{le="1"} 1\na_bucket{le="+Inf"} 3\na_sum 1\n'
            '# TYPE b histogram\nb_bucket{le="1"} 1\nb_bucket{le="+Inf"} 2\nb_count 2\n')
    # when mapped
    result = _map(text)
    metrics = _metrics(result)
    # then the first's count is its +Inf bucket (as the EMF output takes it), the second has no sum
    assert metrics["a"].histogram.data_points[0].count == 3
    assert list(metrics["a"].histogram.data_points[0].bucket_counts) == [1, 2]
    assert not result.dropped
    assert not metrics["b"].histogram.data_points[0].HasField("sum")


def test_summary_has_quantiles_and_a_zero_sum_when_none_is_exposed() -> None:
    # given a summary with two quantiles and a count but no _sum
    text = ('# TYPE lat summary\nlat{quantile="0.5"} 0.2\nlat{quantile="0.9"} 0.7\nlat_count 10\n')
    # when mapped to OTLP
    point = _metrics(_map(text))["lat"].summary.data_points[0]
    # then the point has the quantiles, the count and a zero sum
    assert [(q.quantile, q.value) for q in point.quantile_values] == [(0.5, 0.2), (0.9, 0.7)]
    assert (point.count, point.sum) == (10, 0.0)


def test_gauge_and_unknown_are_gauges_info_and_stateset_are_non_monotonic_sums() -> None:
    # given a gauge, an unknown, an info and a stateset family
    text = ('# TYPE temp gauge\ntemp 21.5\n# TYPE thing unknown\nthing 3\n'
            '# TYPE build info\nbuild_info{version="1.2"} 1\n'
            '# TYPE mode stateset\nmode{mode="a"} 1\nmode{mode="b"} 0\n# EOF\n')
    # when mapped to OTLP
    metrics = _metrics(_map(text, openmetrics=True))
    # then gauge and unknown are gauges
    assert metrics["temp"].WhichOneof("data") == "gauge"
    assert metrics["thing"].WhichOneof("data") == "gauge"
    # and info and stateset are non-monotonic sums that keep their labels and values
    assert metrics["build_info"].sum.is_monotonic is False
    assert _attrs(metrics["build_info"].sum.data_points[0].attributes)["version"] == "1.2"
    assert [p.as_double for p in metrics["mode"].sum.data_points] == [1, 0]
    assert not metrics["mode"].sum.is_monotonic


def test_job_and_instance_become_the_resource_with_namespace_and_target_info() -> None:
    # given a job with a namespace, and a page with target_info
    target = TARGET._replace(job="prod/api", labels={"job": "prod/api", "instance": TARGET.instance, "env": "prod"})
    text = '# TYPE target info\ntarget_info{region="eu"} 1\n# TYPE up2 gauge\nup2 1\n# EOF\n'
    result = _map(text, openmetrics=True, target=target)
    # then the resource names the service, the instance and the URL's parts, plus target_info's labels
    resource = result.resource_metrics.resource.attributes
    assert _attrs(kv for kv in resource if kv.key != "server.port") == {
        "service.namespace": "prod", "service.name": "api", "service.instance.id": "10.0.0.1:9100",
        "server.address": "10.0.0.1", "url.scheme": "http", "region": "eu",
    }
    # and server.port is an int, as the semantic conventions define it
    (port,) = [kv.value for kv in resource if kv.key == "server.port"]
    assert port.WhichOneof("value") == "int_value" and port.int_value == 9100
    # and target_info is not a metric; job and instance are not point attributes, env is
    metrics = _metrics(result)
    assert "target_info" not in metrics
    assert _attrs(metrics["up2"].gauge.data_points[0].attributes) == {"env": "prod"}


def test_nan_staleness_and_too_many_labels_are_dropped_and_counted() -> None:
    # given a NaN gauge, a staleness marker, and a series over the label limit
    stale = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]
    many = {f"l{i}": "v" for i in range(OTLP_MAX_LABELS_PER_DATA_POINT)}
    families = [
        Family("a", "gauge", "", "", [Sample("a", {}, math.nan), Sample("a", {"x": "1"}, stale),
                                      Sample("a", {"x": "2"}, 1.0)]),
        Family("b", "gauge", "", "", [Sample("b", many, 1.0)]),
    ]
    # when mapped
    result = to_resource_metrics(families, target=TARGET, now_ms=NOW_MS, previous_starts={})
    # then only the plain point remains, and every drop is counted by reason
    assert is_stale(stale) and not is_stale(math.nan)
    assert [p.as_double for p in _metrics(result)["a"].gauge.data_points] == [1.0]
    assert "b" not in _metrics(result)
    assert dict(result.dropped) == {"otlp_nan": 1, "otlp_stale": 1, "otlp_label_limit": 1}
    assert result.points == 1


def test_exemplars_carry_trace_and_span_ids_and_the_other_labels() -> None:
    # given a counter sample with an exemplar naming a trace, a span and a user
    text = ('# TYPE req counter\nreq_total 5 # {trace_id="0af7651916cd43dd8448eb211c80319c",'
            'span_id="b7ad6b7169203331",user="u1"} 1 1700000000.5\n# EOF\n')
    # when mapped to OTLP
    point = _metrics(_map(text, openmetrics=True))["req_total"].sum.data_points[0]
    exemplar = point.exemplars[0]
    # then the exemplar carries the trace and span ids as bytes, the user label and its time in nanoseconds
    assert exemplar.trace_id.hex() == "0af7651916cd43dd8448eb211c80319c"
    assert exemplar.span_id.hex() == "b7ad6b7169203331"
    assert _attrs(exemplar.filtered_attributes) == {"user": "u1"}
    assert exemplar.time_unix_nano == 1_700_000_000_500_000_000


def test_scope_labels_pick_the_instrumentation_scope_and_scope_info_its_attributes() -> None:
    # given otel_scope_info for a scope, a counter in that scope and a gauge in none
    text = ('# TYPE otel_scope info\notel_scope_info{otel_scope_name="lib",otel_scope_version="1",k="v"} 1\n'
            '# TYPE hits counter\nhits_total{otel_scope_name="lib",otel_scope_version="1"} 1\n'
            '# TYPE other gauge\nother 2\n# EOF\n')
    # when mapped to OTLP
    scopes = {s.scope.name: s for s in _map(text, openmetrics=True).resource_metrics.scope_metrics}
    # then the counter is under the named scope with its version and attributes, the gauge under promwatch's
    assert set(scopes) == {"lib", "promwatch"}
    assert scopes["lib"].scope.version == "1"
    assert _attrs(scopes["lib"].scope.attributes) == {"k": "v"}
    assert [m.name for m in scopes["lib"].metrics] == ["hits_total"]
    assert _attrs(scopes["lib"].metrics[0].sum.data_points[0].attributes) == {"env": "prod"}


def test_utf8_names_are_kept_and_gaugehistograms_dropped_and_counted() -> None:
    # given a family with UTF-8 names and a gaugehistogram of two samples
    families = [Family("café.temp", "gauge", "", "", [Sample("café.temp", {"zoné": "é"}, 1.0)]),
                Family("gh", "gaugehistogram", "", "", [Sample("gh_bucket", {"le": "+Inf"}, 1.0),
                                                        Sample("gh_gcount", {}, 1.0)])]
    # when mapped to OTLP
    result = to_resource_metrics(families, target=TARGET, now_ms=NOW_MS, previous_starts={})
    # then the UTF-8 names are kept and the gaugehistogram samples are dropped and counted
    assert _attrs(_metrics(result)["café.temp"].gauge.data_points[0].attributes)["zoné"] == "é"
    assert result.dropped["otlp_unsupported_type"] == 2


def test_units_follow_opentelemetry_notation() -> None:
    # given Prometheus unit names, when converted, then they are OpenTelemetry's notation (unknown ones kept)
    assert [otel_unit(u) for u in ("seconds", "bytes", "ratio", "bytes_per_second", "widgets", "")] == [
        "s", "By", "1", "By/s", "widgets", ""]


def test_scrape_gauges_are_sent_as_gauges() -> None:
    # given the scrape gauge up, when mapped to OTLP
    result = to_resource_metrics([], target=TARGET, now_ms=NOW_MS, previous_starts={}, scrape_gauges={"up": 0.0})
    # then it is sent as a gauge
    assert _metrics(result)["up"].gauge.data_points[0].as_double == 0.0


@given(st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12))
def test_histogram_buckets_recumulate_to_the_page(increments: list[int]) -> None:
    # given any cumulative bucket counts (the last is +Inf)
    cumulative = [sum(increments[: i + 1]) for i in range(len(increments))]
    lines = [f'h_bucket{{le="{i + 1}"}} {c}' for i, c in enumerate(cumulative[:-1])]
    lines += [f'h_bucket{{le="+Inf"}} {cumulative[-1]}', f"h_count {cumulative[-1]}", "h_sum 0"]
    # when mapped
    point = _metrics(_map("# TYPE h histogram\n" + "\n".join(lines) + "\n"))["h"].histogram.data_points[0]
    # then the bucket counts add up to the page's cumulative counts, one bound fewer than buckets
    assert len(point.explicit_bounds) == len(point.bucket_counts) - 1
    assert [sum(point.bucket_counts[: i + 1]) for i in range(len(point.bucket_counts))] == cumulative
    assert point.count == cumulative[-1]


@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=15))
def test_a_counter_start_moves_exactly_when_its_value_goes_down(values: list[int]) -> None:
    # given a counter without _created scraped once a minute with these values
    starts: Any = {}
    seen: list[int] = []
    for minute, value in enumerate(values):
        result = _map(f"# TYPE c_total counter\nc_total {value}\n", now_ms=NOW_MS + minute * 60_000, starts=starts)
        seen.append(_metrics(result)["c_total"].sum.data_points[0].start_time_unix_nano)
        starts = result.starts
    # then the start is the first scrape's, moved to the scrape of every decrease
    expected, start = [], NOW_MS
    for minute, value in enumerate(values):
        if minute and value < values[minute - 1]:
            start = NOW_MS + minute * 60_000
        expected.append(start * 1_000_000)
    assert seen == expected


def test_histogram_without_an_inf_bucket_ends_with_count() -> None:
    # given a page with finite buckets and _count only
    text = ('# TYPE h histogram\nh_bucket{le="1"} 2\nh_count 6\nh_sum 3\n')
    point = _metrics(_map(text))["h"].histogram.data_points[0]
    # then the overflow bucket holds what the finite ones do not, up to _count
    assert point.count == 6 and list(point.bucket_counts) == [2, 4]


@pytest.mark.parametrize("series", [
    'h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 5\nh_count 3\n',      # +Inf above _count
    'h_bucket{le="1"} 2\nh_bucket{le="+Inf"} 5\nh_count 6\n',      # +Inf below _count
    'h_bucket{le="1"} 1.5\nh_bucket{le="+Inf"} 2.5\nh_count 2.5\n',  # fractional counts
    'h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_count 2.5\n',    # fractional _count
    'h_bucket{le="1"} 3\nh_bucket{le="2"} 2\nh_bucket{le="+Inf"} 3\nh_count 3\n',  # going down
    'h_bucket{le="-Inf"} 0\nh_bucket{le="+Inf"} 1\nh_count 1\n',   # -Inf bound
    'h_bucket{le="+Inf"} -1\nh_count -1\n',                       # negative
    'h_bucket{le="+Inf"} +Inf\nh_count +Inf\n',                   # infinite
])
def test_inconsistent_histograms_are_dropped_as_malformed_not_sent(series: str) -> None:
    # given a histogram series whose buckets and count do not make a histogram
    text = "# TYPE h histogram\n" + series + "h_sum 3\n"
    # when mapped
    result = _map(text)
    # then nothing is sent for it and all its samples are counted as malformed
    assert "h" not in _metrics(result)
    assert result.dropped["otlp_malformed"] == series.count("\n") + 1


@pytest.mark.parametrize("count", ["2.5", "-1", "+Inf"])
def test_summary_whose_count_is_not_a_whole_number_is_dropped_as_malformed(count: str) -> None:
    # given a summary whose count is fractional, negative or infinite, when mapped to OTLP
    result = _map(f'# TYPE lat summary\nlat{{quantile="0.5"}} 0.2\nlat_count {count}\nlat_sum 1\n')
    # then the summary is dropped and its three samples counted as malformed
    assert "lat" not in _metrics(result)
    assert result.dropped["otlp_malformed"] == 3


def test_a_series_exposed_twice_is_sent_once_and_the_repeat_counted_as_duplicate_series() -> None:
    # given a page that repeats a gauge, a counter, a whole histogram series and a summary series
    text = ('# TYPE g gauge\ng{a="1"} 1\ng{a="1"} 2\n'
            '# TYPE c_total counter\nc_total 5\nc_total 6\n'
            '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_count 2\nh_sum 3\n'
            'h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_count 2\nh_sum 3\n'
            '# TYPE s summary\ns{quantile="0.5"} 1\ns_count 4\ns_sum 2\ns{quantile="0.5"} 9\ns_count 4\n')
    # when mapped
    result = _map(text)
    metrics = _metrics(result)
    # then each series is one point, the first exposed, and the repeats are counted as EMF counts them
    assert [p.as_double for p in metrics["g"].gauge.data_points] == [1.0]
    assert [p.as_double for p in metrics["c_total"].sum.data_points] == [5.0]
    assert [list(p.bucket_counts) for p in metrics["h"].histogram.data_points] == [[1, 1]]
    assert [[q.value for q in p.quantile_values] for p in metrics["s"].summary.data_points] == [[1.0]]
    assert result.dropped == {"duplicate_series": 2 + 4 + 2}


def test_series_that_become_one_with_the_target_labels_are_sent_once() -> None:
    # given a page series without env and one with the target's env: the same attributes once merged
    text = '# TYPE g gauge\ng 1\ng{env="prod"} 2\n'
    result = _map(text)
    # then one point is sent, the other counted
    assert [p.as_double for p in _metrics(result)["g"].gauge.data_points] == [1.0]
    assert result.dropped == {"duplicate_series": 1}
