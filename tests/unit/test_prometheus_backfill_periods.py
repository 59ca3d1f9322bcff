"""Backfill from Prometheus, the pure parts: chunk planning, typing of series, per-period sums
(counter resets, histograms, gauges), documents."""
from __future__ import annotations

import math

import pytest
from promwatch.emf import EmfSettings, problems
from promwatch.emf.model import Distribution
from promwatch.httpclient import FetchRequest, FetchResponse, TargetRefusedError
from promwatch.scrape.backfill import (
    Continuation,
    HistogramSeries,
    PeriodContext,
    PrometheusAPI,
    PrometheusBackfillError,
    Series,
    TargetTimes,
    chunk_documents,
    chunk_end,
    classify,
    count_chunks,
    counter_periods,
    gauge_periods,
    histogram_periods,
    parse_matrix,
    parse_metadata,
    planned_range,
)

MIN = 60_000
HOUR = 60 * MIN
NOW_MS = 1_795_179_600_000  # 2026-11-20T13:00:00Z
TARGET = {"job": "api", "instance": "a:1"}


def _context(samples: list[tuple[int, float]], chunk_start: int = 0, step: int = MIN) -> PeriodContext:
    return PeriodContext(chunk_start, step, 5 * MIN, TargetTimes([(TARGET, [t for t, _ in samples])]))


# --- planning ----------------------------------------------------------------------------

def test_a_range_of_whole_periods_that_are_over_is_kept() -> None:
    # given an hour of whole minutes that is over, when planned with an hour chunk, then the range is kept as asked
    assert planned_range(NOW_MS - HOUR, NOW_MS, MIN, HOUR, NOW_MS + 45_000) == (NOW_MS - HOUR, NOW_MS)


@pytest.mark.parametrize(("start", "end", "message"), [
    # a start mid-minute: the 22:14:00 sample before it would be written
    (NOW_MS - HOUR + 7_000, NOW_MS, r"start 2026-11-20T12:00:07Z is not on a 60-second period boundary; "
                                    r"expected whole periods: 2026-11-20T12:00:00Z or 2026-11-20T12:01:00Z"),
    # an end mid-minute: the samples after it, up to the minute's end, would be written
    (NOW_MS - HOUR, NOW_MS - 30_000, r"end 2026-11-20T12:59:30Z .*: 2026-11-20T12:59:00Z or 2026-11-20T13:00:00Z"),
    # an end in the future is refused, not silently cut at now
    (NOW_MS - HOUR, NOW_MS + HOUR, r"end 2026-11-20T14:00:00Z is after .* expected an end at or before 2026-11-20T13:00:00Z"),
    (NOW_MS - HOUR, NOW_MS - 2 * HOUR, "empty or reversed"),
])
def test_a_range_writing_outside_start_end_or_the_past_is_refused(start: int, end: int, message: str) -> None:
    # given a range off the period boundaries, reversed, or ending in the future
    with pytest.raises(PrometheusBackfillError, match=message):
        # when planned, then it is refused with the boundaries to use instead
        planned_range(start, end, MIN, HOUR, NOW_MS + 45_000)


def test_chunks_of_partial_steps_are_refused_naming_both() -> None:
    # given a chunk of 1000s, not a whole number of 60s steps, when planned, then it is refused naming both
    with pytest.raises(PrometheusBackfillError, match="chunk_seconds 1000 is not a whole number of 60-second steps"):
        planned_range(NOW_MS - HOUR, NOW_MS, MIN, 1_000_000, NOW_MS)


def test_chunks_are_whole_steps_and_cover_the_range_once() -> None:
    # Given a 100-minute range, 45-second chunks asked for, 60-second steps
    start, end, bounds = 0, 100 * MIN, []
    at = start
    while at < end:
        bounds.append((at, chunk_end(at, end, 45_000, MIN)))
        at = bounds[-1][1]
    # Then each chunk is one step long, they tile the range, and count_chunks agrees
    assert all(b - a == MIN for a, b in bounds) and bounds[0][0] == start and bounds[-1][1] == end
    assert count_chunks(start, end, 45_000, MIN) == len(bounds) == 100
    assert count_chunks(0, 150 * MIN, HOUR, MIN) == 3 and chunk_end(2 * HOUR, 150 * MIN, HOUR, MIN) == 150 * MIN


def test_continuation_round_trips_and_rejects_garbage() -> None:
    # given a continuation token
    token = Continuation("abc", 1, 9, 5, 12, 34)
    # when encoded and decoded, then it comes back the same
    assert Continuation.decode(token.encode()) == token
    # and text that is no token is refused
    with pytest.raises(PrometheusBackfillError, match="not a Prometheus backfill continuation"):
        Continuation.decode("bm90IGEgdG9rZW4")


# --- the HTTP API's answers ---------------------------------------------------------------

def test_matrix_answer_gives_raw_samples_in_milliseconds() -> None:
    # given a Prometheus matrix answer with a whole, a fractional and a NaN sample time
    text = ('{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"x_total","job":"a"},'
            '"values":[[1796259300,"4308"],[1796259360.5,"NaN"]]}]}}')
    # when parsed
    (series,) = parse_matrix(text)
    # then the labels are kept and times are in milliseconds, NaN values kept
    assert series.labels == {"__name__": "x_total", "job": "a"}
    assert series.samples[0] == (1796259300000, 4308.0) and series.samples[1][0] == 1796259360500
    assert math.isnan(series.samples[1][1])


@pytest.mark.parametrize("text, message", [
    ('{"status":"error","error":"parse error"}', "parse error"),
    ('{"status":"success","data":{"resultType":"vector","result":[]}}', "expected a matrix"),
    ("<html>", "not JSON"),
    ('{"status":"success","data":{"resultType":"matrix","result":[{"values":[]}]}}', "a series is not"),
])
def test_answers_that_are_not_a_matrix_are_refused(text: str, message: str) -> None:
    # given an answer that is an error, not a matrix, not JSON or a series without metric, when parsed, then it is refused
    with pytest.raises(PrometheusBackfillError, match=message):
        parse_matrix(text)


def test_metadata_gives_each_family_its_first_type() -> None:
    # given metadata with a typed family and one with no entries
    text = '{"status":"success","data":{"req":[{"type":"counter","help":"","unit":""}],"odd":[]}}'
    # when parsed, then each family with a type maps to its first type
    assert parse_metadata(text) == {"req": "counter"}


# --- typing ---------------------------------------------------------------------------------

def _series(name: str, samples: list[tuple[int, float]], **labels: str) -> Series:
    return Series({"__name__": name, **TARGET, **labels}, samples)


def test_without_metadata_names_decide_and_are_reported() -> None:
    # Given a counter, a histogram with sum and count, a summary and a gauge, and no metadata
    one = [(0, 1.0)]
    got = classify([
        _series("req_total", one), _series("req_created", one),
        _series("lat_bucket", one, le="0.5"), _series("lat_bucket", one, le="+Inf"),
        _series("lat_sum", one), _series("lat_count", one),
        _series("rpc", one, quantile="0.9"), _series("rpc_count", one),
        _series("temp", one),
    ], {})
    # Then counters are _total and the summary's count, the histogram has its parts, the rest is gauge
    assert sorted(s.name for s in got.counters) == ["req_total", "rpc_count"]
    assert sorted(s.name for s in got.gauges) == ["rpc", "temp"]
    (histogram,) = got.histograms
    assert histogram.name == "lat" and sorted(histogram.buckets) == [0.5, math.inf] and histogram.sums and histogram.counts
    assert got.by_names == {"req", "lat", "rpc", "temp"}


def test_metadata_overrides_names() -> None:
    # Given metadata saying requests (no _total) is a counter and queue_total a gauge
    got = classify([_series("requests", [(0, 1.0)]), _series("queue_total", [(0, 1.0)])],
                   {"requests": "counter", "queue_total": "gauge"})
    assert [s.name for s in got.counters] == ["requests"] and [s.name for s in got.gauges] == ["queue_total"]
    assert not got.by_names


def test_a_bucket_whose_bound_is_not_a_number_is_malformed() -> None:
    # given a histogram bucket whose le is not a number, when classified
    got = classify([_series("lat_bucket", [(0, 1.0)], le="fast")], {})
    # then it is counted as malformed and no histogram is made
    assert got.malformed == 1 and not got.histograms


# --- counters -------------------------------------------------------------------------------

def test_counter_increases_per_period_with_a_reset() -> None:
    # Given a counter scraped every 15 s from the target's first scrape, reset at 90 s
    samples = [(0, 10.0), (15_000, 12.0), (30_000, 15.0), (45_000, 15.0), (60_000, 20.0), (75_000, 21.0),
               (90_000, 2.0), (105_000, 5.0)]
    sums, skipped = counter_periods(samples, TARGET, _context(samples))
    # Then the first sample is the baseline, the reset counts its post-reset value, and the
    # periods add up to the increases: 2 + 3 + 0 | 5 + 1 + 2 + 3
    assert sums == {0: 5.0, MIN: 11.0} and skipped == 0


def test_samples_before_the_chunk_are_only_previous_scrapes() -> None:
    # given scrapes at 0s and 30s before the chunk and two inside it
    samples = [(0, 10.0), (30_000, 12.0), (60_000, 15.0), (90_000, 19.0)]
    # when the counter increases are summed for a chunk starting at the first minute
    sums, _ = counter_periods(samples, TARGET, _context(samples, chunk_start=MIN))
    # then the earlier samples only serve as previous scrapes: the minute gets 15->19 plus 12->15
    assert sums == {MIN: 7.0}


def test_a_series_new_on_a_scraped_target_counts_from_zero() -> None:
    # Given a target scraped since 0 (another series) and a counter first seen at 120 s
    counter = [(120_000, 4.0), (150_000, 6.0)]
    context = PeriodContext(0, MIN, 5 * MIN, TargetTimes([(TARGET, [0, 30_000, 60_000, 90_000, 120_000, 150_000])]))
    sums, _ = counter_periods(counter, TARGET, context)
    # Then its first value is an increase (the live path's rule for a new series)
    assert sums == {2 * MIN: 6.0}


def test_non_finite_samples_are_skipped_and_counted() -> None:
    # given a NaN sample between two counter samples
    samples = [(0, 1.0), (30_000, math.nan), (60_000, 4.0)]
    # when the counter increases are summed
    sums, skipped = counter_periods(samples, TARGET, _context(samples))
    # then the NaN is skipped and counted and the increase spans it
    assert sums == {MIN: 3.0} and skipped == 1


def test_fractional_increases_have_no_binary_noise() -> None:
    # given counter values with binary-inexact decimals
    samples = [(0, 1.2), (30_000, 2.45)]
    # when the increase is summed, then it is the exact decimal difference
    assert counter_periods(samples, TARGET, _context(samples))[0] == {0: 1.25}


# --- gauges ---------------------------------------------------------------------------------

def test_gauge_periods_are_statistic_sets() -> None:
    # given gauge samples in two minutes
    samples = [(0, 3.0), (20_000, 1.0), (40_000, 3.0), (60_000, 7.0)]
    # when made into periods
    sets, _ = gauge_periods(samples, _context(samples))
    # then each minute is a statistic set of its values with counts, sum, min and max
    assert sets[0] == Distribution((1.0, 3.0), (1.0, 2.0), 7.0, 1.0, 3.0)
    assert sets[MIN] == Distribution((7.0,), (1.0,), 7.0, 7.0, 7.0)


# --- histograms -----------------------------------------------------------------------------

def _histogram(scrapes: list[tuple[int, float, float, float, float]]) -> HistogramSeries:
    """(time, cumulative le=0.1, le=1, +Inf, sum) per scrape."""
    histogram = HistogramSeries("lat", dict(TARGET))
    for t, a, b, inf, total in scrapes:
        for le, value in ((0.1, a), (1.0, b), (math.inf, inf)):
            histogram.buckets.setdefault(le, {})[t] = value
        histogram.sums[t] = total
        histogram.counts[t] = inf
    return histogram


def test_histogram_periods_are_distributions_of_the_observations_with_resets() -> None:
    # Given scrapes every 30 s: baseline, +2 obs, +3 obs, then a reset to 1 obs
    histogram = _histogram([(0, 1, 2, 2, 0.5), (30_000, 2, 4, 4, 1.5), (60_000, 2, 6, 7, 4.0), (90_000, 0, 1, 1, 0.3)])
    context = PeriodContext(0, MIN, 5 * MIN, TargetTimes([(TARGET, histogram.times())]))
    periods, malformed = histogram_periods(histogram, context)
    # Then period 0 holds the 2 observations since the baseline, period 1 the 3 plus the reset's 1
    assert malformed == 0
    assert periods[0].count == 2.0 and periods[0].sum == 1.0
    assert periods[MIN].count == 4.0 and periods[MIN].sum == pytest.approx(2.8)
    # 3 observations in (0.1, 1] and (1, +Inf] after the reset's 1 in (0.1, 1]: bucket counts add up
    assert sum(periods[MIN].counts) == 4.0 and len(periods[MIN].values) == 2


def test_a_scrape_without_an_inf_bucket_is_malformed() -> None:
    # given a histogram scrape whose buckets lack +Inf
    histogram = HistogramSeries("lat", dict(TARGET), buckets={0.1: {0: 1.0}})
    # when made into periods
    context = PeriodContext(0, MIN, 5 * MIN, TargetTimes([(TARGET, [0])]))
    # then nothing is written and the scrape is counted as malformed
    assert histogram_periods(histogram, context) == ({}, 1)


@pytest.mark.parametrize("change", ["a bucket going down", "+Inf other than _count", "a fractional count"])
def test_a_scrape_that_breaks_the_live_histogram_rules_is_malformed(change: str) -> None:
    # Given three scrapes, the second of them not a histogram by the rules the live outputs apply
    histogram = _histogram([(0, 1, 2, 2, 0.5), (30_000, 2, 4, 4, 1.5), (60_000, 2, 6, 7, 4.0)])
    if change == "a bucket going down":
        histogram.buckets[0.1][30_000] = 5.0
    elif change == "+Inf other than _count":
        histogram.counts[30_000] = 5.0
    else:
        histogram.buckets[1.0][30_000] = 3.5
    context = PeriodContext(0, MIN, 5 * MIN, TargetTimes([(TARGET, histogram.times())]))
    # when made into periods
    periods, malformed = histogram_periods(histogram, context)
    # then that scrape is counted as malformed and the others still make the observations
    assert malformed == 1
    assert sum(d.count for d in periods.values()) == 5.0


# --- documents ------------------------------------------------------------------------------

def test_chunk_documents_use_the_job_settings_and_are_valid_emf() -> None:
    # Given a counter and a gauge of one target, and a job with its own namespace and a declaration
    counter = _series("req_total", [(0, 1.0), (30_000, 3.0), (60_000, 6.0)], route="/a")
    gauge = _series("temp", [(0, 20.0), (60_000, 21.0)])
    settings = EmfSettings.model_validate({"namespace": "prod/api", "metric_declarations": [
        {"dimensions": [["job", "route"]], "metric_name_selectors": ["^req_total$"]}]})
    made = chunk_documents([counter, gauge], {}, chunk_start_ms=0, step_ms=MIN, history_ms=5 * MIN,
                           settings=settings, job="api", now_ms=NOW_MS)
    # Then the counter's increases are published with the declared dimensions, the undeclared gauge dropped
    assert all(not problems(d) for d in made.documents)
    assert [(d["_aws"]["Timestamp"], d["req_total"]) for d in made.documents] == [(0, 2.0), (MIN, 3.0)]
    directive = made.documents[0]["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "prod/api" and directive["Dimensions"] == [["job", "route"]]
    assert made.dropped == {"not_declared": 2} and made.points == 2


# --- the HTTP adapter -------------------------------------------------------------------------

def test_the_adapter_asks_for_a_range_selector_at_the_chunk_end() -> None:
    # given a fetcher that records what it is asked and answers an empty matrix
    asked: list[FetchRequest] = []

    def fetcher(request: FetchRequest) -> FetchResponse:
        asked.append(request)
        body = '{"status":"success","data":{"resultType":"matrix","result":[]}}'
        return FetchResponse(body, "application/json", 200, len(body), request.url)

    # when samples are asked for a selector over a range, then nothing is found
    assert PrometheusAPI("http://prometheus:9090/prom/", fetcher=fetcher).samples('{job="a b"}', NOW_MS - 1, 3_899_999) == []
    # and the query is the selector with a millisecond range, evaluated at the chunk end, asking for JSON
    assert asked[0].url == ("http://prometheus:9090/prom/api/v1/query?query=%7Bjob%3D%22a+b%22%7D%5B3899999ms%5D"
                            "&time=1795179599.999")
    assert asked[0].accept == "application/json"


@pytest.mark.parametrize(("url", "environ"), [
    ("http://169.254.169.254/latest", {}),  # instance metadata: refused everywhere
    ("http://127.0.0.1:9090", {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}),  # loopback: refused inside Lambda
])
def test_the_adapter_goes_through_the_target_guard(url: str, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # given a metadata address, or a loopback one inside Lambda
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    # when the adapter is asked for metadata, then the target guard refuses it
    with pytest.raises(TargetRefusedError, match="refused"):
        PrometheusAPI(url).metadata()


def test_a_label_named_like_its_metric_is_renamed_as_live() -> None:
    # Given a gauge with a label of its own name (a stateset exposed as a gauge, say)
    gauge = _series("mode", [(0, 1.0)], mode="fast")
    made = chunk_documents([gauge], {}, chunk_start_ms=0, step_ms=MIN, history_ms=5 * MIN,
                           settings=EmfSettings(), job=None, now_ms=NOW_MS)
    # Then the document holds both, the label as mode_label (the live writer's rule), in the job's default namespace
    (document,) = made.documents
    assert not problems(document) and document["mode_label"] == "fast" and document["mode"]["Sum"] == 1.0
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "api"


def test_native_histogram_samples_are_counted_not_dropped_silently() -> None:
    # Given a matrix with a native histogram series (Prometheus answers "histograms", not "values")
    text = ('{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"rpc","job":"api",'
            '"instance":"a:1"},"histograms":[[30,{"count":"3","sum":"1","buckets":[]}],[90,{"count":"5","sum":"2"}]]}]}}')
    series = parse_matrix(text)
    made = chunk_documents(series, {}, chunk_start_ms=MIN, step_ms=MIN, history_ms=5 * MIN, settings=EmfSettings(),
                           job=None, now_ms=NOW_MS)
    # Then the chunk's one (the other is history before it) is counted as dropped, with its reason
    assert made.documents == [] and made.dropped == {"native_histogram": 1}
