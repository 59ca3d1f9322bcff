"""Counter increases from baselines: first scrape, new series, resets, ``_created``, retention."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promwatch.emf import EmfSettings, ScrapeStats, TargetInfo, Translation, translate, validate
from promwatch.exposition.model import Family, Sample
from promwatch.state import TargetBaselines

T0 = 1_700_000_000_000
MINUTE = 60_000
TARGET = TargetInfo("prod/task-service", "10.0.0.1:3000")


def run(
    families: list[Family],
    previous: TargetBaselines | None = None,
    now_ms: int = T0,
    settings: EmfSettings | None = None,
    target: TargetInfo = TARGET,
    scrape: ScrapeStats | None = None,
) -> Translation:
    result = translate(
        families, target=target, previous=previous, settings=settings or EmfSettings(), now_ms=now_ms, scrape=scrape
    )
    for document in result.documents:
        validate(document)
    return result


def values(result: Translation, name: str) -> dict[str, Any]:
    """route (or "") -> value of metric ``name`` across the documents."""
    return {d.get("route", ""): d[name] for d in result.documents if name in d}


def requests(counts: Mapping[str, float], created: Mapping[str, float] | None = None) -> list[Family]:
    samples = [Sample("http_requests_total", {"route": r}, v) for r, v in counts.items()]
    samples += [Sample("http_requests_created", {"route": r}, c) for r, c in (created or {}).items()]
    return [Family("http_requests", "counter", "Requests.", "", samples)]


def test_first_scrape_of_a_target_only_records_baselines() -> None:
    # given a target never scraped before
    # when it is scraped
    first = run(requests({"/a": 10.0}))
    # then no increase is published (10 is the process' whole history) but a baseline is kept
    assert values(first, "http_requests_total") == {}
    assert first.baselines is not None
    assert first.baselines.counters['http_requests_total{route="/a"}'].value == 10.0


def test_second_scrape_publishes_the_increase_under_the_exposed_name() -> None:
    # given a first scrape at 10
    first = run(requests({"/a": 10.0}))
    # when the counter is at 25 one minute later
    second = run(requests({"/a": 25.0}), first.baselines, T0 + MINUTE)
    # then the increase 15 is published as http_requests_total (with _total), unit Count
    assert values(second, "http_requests_total") == {"/a": 15}
    [doc] = second.documents
    assert doc["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "http_requests_total", "Unit": "Count"}]
    assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["job", "instance", "route"]]
    assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "prod/task-service"
    assert doc["_aws"]["Timestamp"] == T0 + MINUTE


def test_unchanged_counter_publishes_zero() -> None:
    # given a counter that did not move
    first = run(requests({"/a": 10.0}))
    # when scraped again, then 0 is published: a zero is a reading
    assert values(run(requests({"/a": 10.0}), first.baselines, T0 + MINUTE), "http_requests_total") == {"/a": 0}


def test_first_requests_on_a_new_route_are_not_lost() -> None:
    # given a target already scraped, with route /a only (client libraries expose a labelled
    # series once it is first observed)
    first = run(requests({"/a": 10.0}))
    # when route /b appears with 3 requests
    second = run(requests({"/a": 12.0, "/b": 3.0}), first.baselines, T0 + MINUTE)
    # then all 3 count (the awsemfexporter loses them), and /a gets its 2
    assert values(second, "http_requests_total") == {"/a": 2, "/b": 3}


def test_target_restart_makes_the_post_reset_value_the_increase() -> None:
    # given a counter at 100
    first = run(requests({"/a": 100.0}))
    # when the process restarted and served 4 requests since
    second = run(requests({"/a": 4.0}), first.baselines, T0 + MINUTE)
    # then the increase is 4, never negative or wrapped
    assert values(second, "http_requests_total") == {"/a": 4}
    # and the next scrape counts from the new baseline
    third = run(requests({"/a": 9.0}), second.baselines, T0 + 2 * MINUTE)
    assert values(third, "http_requests_total") == {"/a": 5}


def test_newer_created_is_a_reset_even_when_the_value_grew() -> None:
    # given a counter at 5 created at t=100
    first = run(requests({"/a": 5.0}, {"/a": 100.0}))
    # when it restarted (created moved forward) and already counts 8
    second = run(requests({"/a": 8.0}, {"/a": 1_700_000_030.0}), first.baselines, T0 + MINUTE)
    # then the increase is 8, not 3
    assert values(second, "http_requests_total") == {"/a": 8}


def test_created_before_the_previous_scrape_means_the_new_series_is_not_new() -> None:
    # given a scraped target, and a series that was created long before but never seen
    first = run(requests({"/a": 1.0}))
    second = run(
        requests({"/a": 1.0, "/old": 500.0}, {"/old": (T0 - 3600_000) / 1000}), first.baselines, T0 + MINUTE
    )
    # then only its baseline is recorded (its 500 did not happen in this minute)
    assert "/old" not in values(second, "http_requests_total")
    third = run(requests({"/a": 1.0, "/old": 502.0}), second.baselines, T0 + 2 * MINUTE)
    assert values(third, "http_requests_total")["/old"] == 2


def test_created_within_one_interval_counts_on_the_first_scrape() -> None:
    # given a fresh pod (new instance, so no baselines) whose counter was created 20 s ago
    target = TARGET._replace(instance="10.0.0.9:3000", scrape_interval_seconds=60.0)
    fresh = requests({"/a": 7.0, "/old": 50.0}, {"/a": (T0 - 20_000) / 1000, "/old": (T0 - 600_000) / 1000})
    # when scraped for the first time
    first = run(fresh, target=target)
    # then the fresh series' whole value is published; the older one only records a baseline
    assert values(first, "http_requests_total") == {"/a": 7}


def test_created_samples_of_the_text_format_refine_resets_and_are_not_published() -> None:
    # given prometheus_client's text format: "foo_total" counter + separate "foo_created" gauge family
    def page(value: float, created: float) -> list[Family]:
        return [
            Family("jobs_total", "counter", "", "", [Sample("jobs_total", {}, value)]),
            Family("jobs_created", "gauge", "", "", [Sample("jobs_created", {}, created)]),
        ]

    first = run(page(5.0, 100.0))
    # when the process restarted with a newer created and a higher value
    second = run(page(9.0, 200.0), first.baselines, T0 + MINUTE)
    # then the reset is seen (9, not 4) and jobs_created is not a metric
    assert values(second, "jobs_total") == {"": 9}
    assert values(second, "jobs_created") == {}


def test_series_missing_for_a_while_keeps_its_baseline_within_retention() -> None:
    # given a series seen at 40, then missing from one scrape
    first = run(requests({"/a": 1.0, "/flaky": 40.0}))
    second = run(requests({"/a": 2.0}), first.baselines, T0 + MINUTE)
    assert second.baselines is not None
    assert second.baselines.counters['http_requests_total{route="/flaky"}'].seen_ms == T0
    # when it comes back at 41
    third = run(requests({"/a": 3.0, "/flaky": 41.0}), second.baselines, T0 + 2 * MINUTE)
    # then its increase is 1, not 41 (it is not a new series)
    assert values(third, "http_requests_total")["/flaky"] == 1


def test_series_missing_beyond_retention_is_forgotten() -> None:
    # given a retention of 2 minutes and a series gone for 3
    settings = EmfSettings(series_retention_seconds=120)
    first = run(requests({"/a": 1.0, "/gone": 40.0}), settings=settings)
    later = run(requests({"/a": 2.0}), first.baselines, T0 + 3 * MINUTE, settings=settings)
    # then its baseline is dropped
    assert later.baselines is not None
    assert 'http_requests_total{route="/gone"}' not in later.baselines.counters


def test_summary_sum_and_count_are_increases_and_quantiles_gauges() -> None:
    # given a summary scraped twice
    def page(count: float, total: float, p99: float) -> list[Family]:
        return [Family("rpc_seconds", "summary", "", "seconds", [
            Sample("rpc_seconds", {"quantile": "0.5"}, 0.1),
            Sample("rpc_seconds", {"quantile": "0.99"}, p99),
            Sample("rpc_seconds_sum", {}, total),
            Sample("rpc_seconds_count", {}, count),
        ])]

    first = run(page(10, 2.0, 0.8))
    second = run(page(15, 3.5, 0.9), first.baselines, T0 + MINUTE)
    # then quantiles are gauges with a quantile dimension; _sum/_count are increases
    quantiles = {d["quantile"]: d["rpc_seconds"] for d in second.documents if "quantile" in d}
    assert quantiles == {"0.5": 0.1, "0.99": 0.9}
    [totals] = [d for d in second.documents if "rpc_seconds_count" in d]
    assert totals["rpc_seconds_count"] == 5 and totals["rpc_seconds_sum"] == 1.5
    units = {m["Name"]: m.get("Unit") for d in second.documents for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units == {"rpc_seconds": "Seconds", "rpc_seconds_sum": "Seconds", "rpc_seconds_count": "Count"}


def test_target_down_publishes_only_up_zero_and_keeps_baselines() -> None:
    # given a scraped target
    first = run(requests({"/a": 1.0}))
    # when the next scrape fails
    down = run([], first.baselines, T0 + MINUTE, scrape=ScrapeStats(up=False, duration_seconds=10.0))
    # then only the scrape metrics are published, with up=0, and the baselines are unchanged
    [doc] = down.documents
    assert doc["up"] == 0 and doc["scrape_duration_seconds"] == 10
    assert doc["scrape_samples_scraped"] == 0
    assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["job", "instance"]]
    assert down.baselines is first.baselines
    # and a target down on its very first scrape has nothing to store
    assert run([], None, scrape=ScrapeStats(up=False, duration_seconds=1.0)).baselines is None


def test_scrape_metrics_like_prometheus_when_up() -> None:
    # given a successful scrape of a target with an extra target label
    target = TARGET._replace(labels={"team": "checkout"})
    stats = ScrapeStats(up=True, duration_seconds=0.25, samples_scraped=12, samples_post_metric_relabeling=10)
    result = run(requests({"/a": 1.0}), target=target, scrape=stats)
    # then up and its companions are published by the target labels
    [doc] = [d for d in result.documents if "up" in d]
    assert (doc["up"], doc["scrape_duration_seconds"], doc["scrape_samples_scraped"]) == (1, 0.25, 12)
    assert doc["scrape_samples_post_metric_relabeling"] == 10
    assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["job", "instance", "team"]]


def test_non_finite_counter_is_dropped_and_counted() -> None:
    # given a counter that reads NaN
    first = run(requests({"/a": 1.0}))
    second = run(requests({"/a": float("nan")}), first.baselines, T0 + MINUTE)
    # then nothing is published, one drop is counted, and the old baseline is retained
    assert values(second, "http_requests_total") == {}
    assert second.drop_counts() == {"non_finite": 1}
    assert second.baselines is not None
    assert second.baselines.counters['http_requests_total{route="/a"}'].value == 1.0


def test_duplicate_series_is_dropped_and_counted() -> None:
    # given the same series twice in one exposition
    family = Family("x", "counter", "", "", [Sample("x_total", {}, 1.0), Sample("x_total", {}, 2.0)])
    # then the second is a counted drop
    assert run([family]).drop_counts() == {"duplicate_series": 1}
