"""The local PromQL subset evaluator of the demo's preview, over what arrived over OTLP (pure)."""
from __future__ import annotations

import math

import pytest
from promwatch.reconcile import templates, templates_promql
from promwatch_tools.local.otlpreceiver import ReceivedPoint
from promwatch_tools.local.otlpstore import format_le, sample_store
from promwatch_tools.local.promqleval import Evaluator, NotEvaluated, histogram_quantile, parse, query_series

JOB = "prod/task-service"
RESOURCE = {"service.namespace": "prod", "service.name": "task-service"}


def _sum(name: str, t: float, value: float, **attributes: str) -> ReceivedPoint:
    return ReceivedPoint(RESOURCE, "s", name, "sum", attributes, int(t * 1e9), 0, value=value, is_monotonic=True)


def _gauge(name: str, t: float, value: float, **attributes: str) -> ReceivedPoint:
    return ReceivedPoint(RESOURCE, "s", name, "gauge", attributes, int(t * 1e9), 0, value=value)


def _histogram(t: float, counts: tuple[int, ...], **attributes: str) -> ReceivedPoint:
    return ReceivedPoint(RESOURCE, "s", "latency_seconds", "histogram", attributes, int(t * 1e9), 0,
                         bounds=(0.1, 1.0), bucket_counts=counts, count=sum(counts), sum=1.0)


def _values(query: str, points: list[ReceivedPoint], *, range_s: float | None = None) -> dict[str, list[float]]:
    store = sample_store(points)
    lines = query_series(Evaluator(store, range_override_s=range_s), query, label="q", steps=store.times())
    return {line.label: list(line.values) for line in lines}


def test_rate_of_a_counter_is_its_increase_per_second_across_a_reset() -> None:
    # given a counter scraped every 10 s that restarts (100 -> 5) between the 2nd and 3rd scrape
    points = [_sum("requests_total", t, v) for t, v in ((0, 0.0), (10, 100.0), (20, 5.0), (30, 25.0))]
    # when its rate is evaluated over a window holding two scrapes
    got = _values("rate(requests_total[5m])", points, range_s=15)
    # then each step is the increase since the previous scrape per second, the reset counted from 0
    assert got == {"q": [10.0, 0.5, 2.0]}


def test_sum_by_keeps_one_line_per_group_and_drops_other_labels() -> None:
    # given one counter per route and code
    points = [_sum("requests_total", t, t * k, route=route, code=code)
              for t in (0, 10) for k, (route, code) in enumerate((("/a", "200"), ("/a", "500"), ("/b", "200")), 1)]
    # when summed by route
    got = _values("sum by (route) (rate(requests_total[5m]))", points)
    # then one line per route, named by the label that tells them apart
    assert got == {"q route=/a": [3.0], "q route=/b": [3.0]}


def test_histogram_quantile_interpolates_within_the_bucket_and_stops_at_the_last_bound() -> None:
    # given cumulative buckets: 10 below 0.1 s, 20 below 1 s, 20 in all
    buckets = {(("le", "0.1"),): 10.0, (("le", "1"),): 20.0, (("le", "+Inf"),): 20.0}
    # when the quantiles are computed
    # then p99 lies 0.98 of the way through the (0.1, 1] bucket, p25 half way through the first
    assert histogram_quantile(0.99, buckets)[()] == pytest.approx(0.1 + 0.9 * 0.98)
    assert histogram_quantile(0.25, buckets)[()] == pytest.approx(0.05)
    # and a quantile in the +Inf bucket is the last finite bound
    assert histogram_quantile(0.99, {(("le", "1"),): 1.0, (("le", "+Inf"),): 10.0})[()] == 1.0


def test_the_packs_p99_query_reads_the_histogram_as_it_arrived_over_otlp() -> None:
    # given a histogram whose (non-cumulative) OTLP buckets grow by 5 below 0.1 s and 5 in (0.1, 1]
    points = [_histogram(t, (5 * i, 5 * i, 0)) for i, t in enumerate((0, 10, 20))]
    # when the nodejs pack's p99 query is evaluated
    query = templates_promql.quantiles("latency_seconds", JOB)[-1].query
    got = _values(query, points)
    # then it is the p99 of the per-second bucket rates
    assert got["q"] == pytest.approx([0.1 + 0.9 * 0.98] * 2)


def test_up_equals_zero_keeps_only_the_targets_that_are_down() -> None:
    # given two targets, one down
    points = [_gauge("up", 0, 1.0, instance="a:1"), _gauge("up", 0, 0.0, instance="b:1")]
    # when filtered as the up alarm's query does
    got = _values(f"{templates_promql.selector('up', JOB)} == 0", points)
    # then only the down target remains
    assert got == {"q": [0.0]}


@pytest.mark.parametrize(("matcher", "expected"), [
    ('route="/a"', ["/a"]), ('route!="/a"', ["/b", "/c"]), ('route=~"/(a|b)"', ["/a", "/b"]),
    ('route!~"/a|/b"', ["/c"]), ('"@resource.service.name"="task-service", route="/c"', ["/c"]),
])
def test_selector_matchers_select_as_prometheus_does(matcher: str, expected: list[str]) -> None:
    # given a gauge per route
    points = [_gauge("inflight", 0, 1.0, route=route) for route in ("/a", "/b", "/c")]
    store = sample_store(points)
    # when selected with a matcher (regexes anchored)
    lines = query_series(Evaluator(store), f'inflight{{{matcher}}}', label=None, steps=store.times())
    # then the matching series are drawn
    assert sorted(dict(line.dimensions)["route"] for line in lines) == expected


@pytest.mark.parametrize(("query", "reason"), [
    ("absent(up)", "function absent() is not evaluated locally"),
    ("topk(3, up)", "aggregation topk is not evaluated locally"),
    ("quantile by (job) (0.9, up)", "aggregation quantile is not evaluated locally"),
    ("up % 2", "operator '%' is not evaluated locally"),
    ("-up", "'-' at column 1 is not evaluated locally"),
    ("up offset 5m", "'offset' is not evaluated locally"),
    ("up and up", "operator 'and' is not evaluated locally"),
    ("rate(up[5m:1m])", "subqueries are not evaluated locally"),
    ("rate(up)", "is not valid PromQL"),
])
def test_what_is_outside_the_subset_is_named_not_drawn_blank(query: str, reason: str) -> None:
    # given a query outside the subset (or not PromQL at all)
    # when parsed, then the refusal says why
    with pytest.raises(NotEvaluated, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse(query)


def test_every_promql_chart_the_job_packs_generate_is_evaluated_locally() -> None:
    # given the PromQL variants of the job packs
    dashboards = [templates.nodejs_dashboard(JOB, query_language="promql"),
                  templates.node_exporter_dashboard("node", query_language="promql"),
                  *templates.dashboard_for_families(JOB, [("a_total", "counter"), ("b", "histogram"), ("c", "gauge")],
                                                    query_language="promql")]
    queries = [q.query for d in dashboards for w in d.widgets for q in w.promql]
    # when each is parsed for local evaluation, then none is outside the subset
    assert queries
    for query in queries:
        parse(query)


def test_the_store_lays_histograms_out_as_cumulative_le_buckets_with_resource_labels() -> None:
    # given one OTLP histogram point
    store = sample_store([_histogram(0, (1, 2, 3), route="/a")])
    # then its buckets are cumulative, +Inf holds the count, and resource attributes are @resource labels
    buckets = {dict(labels)["le"]: samples[0][1] for labels, samples in store.series.items()
               if dict(labels)["__name__"] == "latency_seconds_bucket"}
    assert buckets == {"0.1": 1.0, "1": 3.0, "+Inf": 6.0}
    (labels,) = [k for k in store.series if dict(k)["__name__"] == "latency_seconds_count"]
    assert dict(labels)["@resource.service.name"] == "task-service" and dict(labels)["route"] == "/a"
    assert format_le(math.inf) == "+Inf" and format_le(0.25) == "0.25"
