"""Histograms become distributions of the observations between two scrapes."""
from __future__ import annotations

import math
import random

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from promwatch.emf import EmfSettings, TargetInfo, Translation, translate, validate
from promwatch.emf.histograms import bucket_distribution, representative_values
from promwatch.exposition import parse
from promwatch.exposition.model import Family, Sample
from promwatch.state import TargetBaselines

T0 = 1_700_000_000_000
MINUTE = 60_000
TARGET = TargetInfo("prod/task-service", "10.0.0.1:3000")
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def run(families: list[Family], previous: TargetBaselines | None = None, now_ms: int = T0) -> Translation:
    result = translate(families, target=TARGET, previous=previous, settings=EmfSettings(), now_ms=now_ms)
    for document in result.documents:
        validate(document)
    return result


def distributions(result: Translation, name: str) -> dict[str, dict[str, object]]:
    return {d.get("route", ""): d[name] for d in result.documents if name in d}


def percentile(values: list[float], counts: list[float], q: float) -> float:
    """Nearest-rank percentile of a Values/Counts distribution (what CloudWatch approximates)."""
    rank = q * sum(counts)
    seen = 0.0
    for value, count in sorted(zip(values, counts, strict=True)):
        seen += count
        if seen >= rank:
            return value
    return max(values)


def test_counts_equal_the_observations_between_two_scrapes() -> None:
    # given a real prometheus_client histogram, scraped once after 2 observations
    registry = CollectorRegistry()
    latency = Histogram("http_request_duration_seconds", "Latency.", ["route"], registry=registry, buckets=BOUNDS)
    latency.labels("/a").observe(0.3)
    latency.labels("/a").observe(0.004)
    first = run(parse(generate_latest(registry).decode()))
    # when 5 more requests happen before the next scrape
    observed = [0.003, 0.2, 0.2, 0.7, 20.0]
    for value in observed:
        latency.labels("/a").observe(value)
    second = run(parse(generate_latest(registry).decode()), first.baselines, T0 + MINUTE)
    # then the distribution holds exactly those 5 observations, one value per bucket hit
    dist = distributions(second, "http_request_duration_seconds")["/a"]
    assert dist["Count"] == 5 and sum(dist["Counts"]) == 5  # type: ignore[arg-type]
    assert dist["Counts"] == [1, 2, 1, 1]
    assert dist["Sum"] == pytest.approx(sum(observed))
    values = dist["Values"]
    assert isinstance(values, list)
    assert 0 <= values[0] <= 0.005 and 0.1 <= values[1] <= 0.25 and 0.5 <= values[2] <= 1.0 and values[3] >= 10
    assert dist["Min"] == min(values) and dist["Max"] == max(values)
    # and the document carries the family name with unit Seconds; no _bucket/_sum/_count metrics
    [doc] = second.documents
    assert doc["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "http_request_duration_seconds", "Unit": "Seconds"}
    ]


def test_representative_values_stay_in_bounds_and_match_the_sum() -> None:
    # given many random observation sets
    rng = random.Random(3)
    for _ in range(200):
        observations = [rng.expovariate(4.0) for _ in range(rng.randint(1, 50))]
        counts = [0.0] * (len(BOUNDS) + 1)
        for value in observations:
            counts[next((i for i, b in enumerate(BOUNDS) if value <= b), len(BOUNDS))] += 1
        # when values are chosen
        values = representative_values(BOUNDS, counts, sum(observations))
        # then each lies in its bucket (closed bounds, first lower bound 0) ...
        lows = (0.0, *BOUNDS)
        for i, value in enumerate(values):
            high = BOUNDS[i] if i < len(BOUNDS) else math.inf
            assert lows[i] <= value <= high
        # ... and their weighted sum equals the observed sum (always achievable for real data)
        assert sum(v * c for v, c in zip(values, counts, strict=True)) == pytest.approx(sum(observations))


def test_percentiles_are_sane() -> None:
    # given 1000 latencies, mostly fast with a slow tail
    rng = random.Random(11)
    observations = [rng.lognormvariate(math.log(0.08), 0.6) for _ in range(1000)]
    counts = [0.0] * (len(BOUNDS) + 1)
    for value in observations:
        counts[next((i for i, b in enumerate(BOUNDS) if value <= b), len(BOUNDS))] += 1
    # when turned into a distribution
    dist = bucket_distribution(BOUNDS, counts, sum(observations))
    assert dist is not None
    # then p50/p90/p99 fall in the same bucket as the true percentiles
    ordered = sorted(observations)
    for q in (0.5, 0.9, 0.99):
        true = ordered[int(q * len(ordered)) - 1]
        estimate = percentile(list(dist.values), list(dist.counts), q)
        bucket = next(i for i, b in enumerate(BOUNDS) if true <= b)
        low = BOUNDS[bucket - 1] if bucket else 0.0
        assert low <= estimate <= BOUNDS[bucket], (q, true, estimate)


def test_sum_beyond_the_buckets_goes_to_the_inf_bucket() -> None:
    # given one observation of 100 s above the last bound 10
    values = representative_values(BOUNDS, [0.0] * len(BOUNDS) + [1.0], 100.0)
    # then the +Inf bucket's value is the observation itself
    assert values[-1] == pytest.approx(100.0)


def test_negative_bounds_get_a_lower_bound_below_the_first() -> None:
    # given temperature-like buckets (-10, 0, 10]
    values = representative_values((-10.0, 0.0, 10.0), [1.0, 1.0, 1.0, 0.0], None)
    # then the first bucket's value is below -10 and the others at their midpoints
    assert values[0] == -15.0 and values[1:3] == [-5.0, 5.0]


def test_interval_without_observations_publishes_no_point() -> None:
    # given a histogram that did not move between scrapes
    page = [Family("lat", "histogram", "", "", [
        Sample("lat_bucket", {"le": "1.0"}, 3.0), Sample("lat_bucket", {"le": "+Inf"}, 3.0),
        Sample("lat_sum", {}, 1.2), Sample("lat_count", {}, 3.0),
    ])]
    first = run(page)
    second = run(page, first.baselines, T0 + MINUTE)
    # then there is no distribution (it cannot be empty) and nothing is dropped
    assert distributions(second, "lat") == {} and second.dropped == []


def test_histogram_reset_uses_the_post_reset_counts() -> None:
    # given a histogram with 10 observations, then a restart with 2
    def page(n_low: float, n_all: float, total: float) -> list[Family]:
        return [Family("lat", "histogram", "", "", [
            Sample("lat_bucket", {"le": "1.0"}, n_low), Sample("lat_bucket", {"le": "+Inf"}, n_all),
            Sample("lat_sum", {}, total), Sample("lat_count", {}, n_all),
        ])]

    first = run(page(8, 10, 12.0))
    second = run(page(1, 2, 2.5), first.baselines, T0 + MINUTE)
    # then the distribution holds the 2 post-restart observations
    dist = distributions(second, "lat")[""]
    assert dist["Count"] == 2 and dist["Counts"] == [1, 1] and dist["Sum"] == 2.5


def test_new_histogram_series_on_a_scraped_target_counts_from_zero() -> None:
    # given a target scraped without the /new route
    base = [Sample("lat_bucket", {"route": "/a", "le": "+Inf"}, 1.0), Sample("lat_count", {"route": "/a"}, 1.0),
            Sample("lat_sum", {"route": "/a"}, 0.1)]
    first = run([Family("lat", "histogram", "", "", base)])
    new = [Sample("lat_bucket", {"route": "/new", "le": "0.5"}, 2.0), Sample("lat_bucket", {"route": "/new", "le": "+Inf"}, 3.0),
           Sample("lat_count", {"route": "/new"}, 3.0), Sample("lat_sum", {"route": "/new"}, 1.7)]
    # when /new appears with 3 observations
    second = run([Family("lat", "histogram", "", "", base + new)], first.baselines, T0 + MINUTE)
    # then all 3 are in its distribution
    assert distributions(second, "lat")["/new"]["Count"] == 3


def test_gaugehistogram_is_a_distribution_of_current_counts_with_gauges() -> None:
    # given an OpenMetrics gaugehistogram of queue item ages
    family = Family("queue_age_seconds", "gaugehistogram", "", "seconds", [
        Sample("queue_age_seconds_bucket", {"le": "1.0"}, 4.0),
        Sample("queue_age_seconds_bucket", {"le": "10.0"}, 6.0),
        Sample("queue_age_seconds_bucket", {"le": "+Inf"}, 7.0),
        Sample("queue_age_seconds_gsum", {}, 30.0),
        Sample("queue_age_seconds_gcount", {}, 7.0),
    ])
    # when translated on the first scrape (no baselines needed: it is not cumulative)
    [doc] = run([family]).documents
    # then the distribution holds the current counts and _gsum/_gcount are gauges
    assert doc["queue_age_seconds"]["Counts"] == [4, 2, 1] and doc["queue_age_seconds"]["Sum"] == 30
    assert doc["queue_age_seconds_gsum"] == 30 and doc["queue_age_seconds_gcount"] == 7


def test_histogram_with_more_than_100_buckets_is_split_over_documents() -> None:
    # given a histogram with 150 buckets, each with observations
    bounds = [float(i) for i in range(1, 151)]
    def page(scale: float) -> list[Family]:
        samples = [Sample("big_bucket", {"le": str(b)}, scale * (i + 1)) for i, b in enumerate(bounds)]
        samples += [Sample("big_bucket", {"le": "+Inf"}, scale * 150), Sample("big_count", {}, scale * 150),
                    Sample("big_sum", {}, scale * 11_000.0)]
        return [Family("big", "histogram", "", "", samples)]

    first = run(page(1))
    second = run(page(2), first.baselines, T0 + MINUTE)
    # then no document holds more than 100 values, and the counts add up to the 150 observations
    chunks = [d["big"] for d in second.documents]
    assert len(chunks) == 2 and all(len(c["Values"]) <= 100 for c in chunks)
    assert sum(c["Count"] for c in chunks) == 150
    assert sum(c["Sum"] for c in chunks) == pytest.approx(11_000.0)


def test_malformed_bucket_is_counted() -> None:
    # given a bucket whose le is not a number
    family = Family("lat", "histogram", "", "", [
        Sample("lat_bucket", {"le": "fast"}, 1.0), Sample("lat_bucket", {"le": "+Inf"}, 1.0),
        Sample("lat_count", {}, 1.0), Sample("lat_sum", {}, 0.1),
    ])
    # then it is dropped with reason malformed, and the rest of the histogram is kept
    result = run([family])
    assert result.drop_counts() == {"malformed": 1}
    assert result.baselines is not None and 'lat' in result.baselines.histograms


def test_histogram_with_a_count_and_no_buckets_publishes_its_mean() -> None:
    # given a histogram whose buckets metric relabelling dropped: only _count and _sum are left
    def page(count: float, total: float) -> list[Family]:
        return parse(f"# TYPE lat histogram\nlat_count {count}\nlat_sum {total}\n", "prometheus")

    # when two scrapes are translated (found by fuzzing: the first one raised IndexError)
    first = run(page(3, 1.2))
    second = run(page(5, 2.0), first.baselines, T0 + MINUTE)
    # then the second publishes the 2 observations between them at their mean
    assert first.documents == [] and second.dropped == []
    dist = distributions(second, "lat")[""]
    assert dist["Count"] == 2 and dist["Sum"] == pytest.approx(0.8) and dist["Values"] == [pytest.approx(0.4)]
