"""promwatch cost's pure parts: prices, the month's arithmetic, the OTLP billed size, the JSON shape."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2 as pb
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from promwatch_tools.cost import Prices, PricesError, load_prices, override
from promwatch_tools.cost.estimate import (
    ADOT_SIDECAR_MEMORY_GB,
    ADOT_SIDECAR_VCPU,
    FunctionShape,
    estimate,
    estimate_job,
    tiered_metric_cost,
)
from promwatch_tools.cost.measure import JobMeasurement
from promwatch_tools.cost.otlpsize import billed_bytes
from promwatch_tools.cost.report import as_json, as_table

ARM_1GB = FunctionShape(memory_mb=1024, architecture="arm64")


def _measured(job: str = "app", *, metrics: int = 10, targets: int = 1, **figures: float) -> JobMeasurement:
    measurement = JobMeasurement(job=job, interval_seconds=figures.pop("interval_seconds", 60.0), targets=targets,
                                 targets_up=targets)
    measurement.metrics = {("ns", f"m{i}", ()) for i in range(metrics)}
    for name, value in figures.items():
        setattr(measurement, name, value)
    return measurement


def test_custom_metrics_are_priced_on_the_tiers() -> None:
    prices = Prices()
    # the first 10,000 at $0.30, the next 240,000 at $0.10, the next 750,000 at $0.05, then $0.02
    assert tiered_metric_cost(10_000, prices) == pytest.approx(3_000)
    assert tiered_metric_cost(10_001, prices) == pytest.approx(3_000.10)
    assert tiered_metric_cost(250_000, prices) == pytest.approx(27_000)
    assert tiered_metric_cost(1_000_100, prices) == pytest.approx(27_000 + 37_500 + 2)
    assert tiered_metric_cost(0, prices) == 0


def test_a_month_of_one_target_a_minute() -> None:
    # given one target scraped every minute: 1 MB of EMF a cycle, 100 KB of OTLP as billed,
    # 2,000 bytes of compressed baselines, 0.05 CPU s a cycle
    measured = _measured(emf_bytes=1_000_000, emf_gzip_bytes=100_000, put_log_events=1, otlp_billed_bytes=100_000,
                         cpu_seconds=0.05, baseline_bytes=[2_000], fanout_bytes_per_target=200)
    # when its month is estimated
    cost = estimate_job(measured, Prices(), ARM_1GB)
    # then 730 h / 1 min = 43,800 cycles, each ingesting 1 MB (0.5 $/GB) and storing 0.1 MB (0.03 $/GB)
    assert cost.cycles == 43_800
    assert cost.emf_gb == pytest.approx(43.8)
    assert cost.usd["emf"] == pytest.approx(43.8 * 0.50 + 4.38 * 0.03)
    assert cost.usd["otlp"] == pytest.approx(4.38 * 0.50)
    # and DynamoDB: claim + save (2,100-byte item: 3 WRU) + release, one strongly consistent read
    assert (cost.write_units, cost.read_units) == (43_800 * 5, 43_800 * 1)
    assert cost.dynamodb_calls == 43_800 * 4
    # and Lambda: one invocation a cycle; (0.05 + 0.0039) CPU s at 1024/1769 of a vCPU, 1 GB
    seconds = 0.0539 / (1024 / 1769)
    assert cost.seconds_per_cycle == pytest.approx(seconds)
    assert cost.usd["lambda"] == pytest.approx(43_800 * 0.20e-6 + 43_800 * seconds * 0.0000133334)
    # and no fan-out below 50 targets
    assert cost.sqs_requests == 0 and cost.usd["sqs"] == 0
    # and the sidecar: 32m CPU and 24Mi in the one pod, all month
    assert cost.usd["adot_sidecar"] == pytest.approx(730 * (0.032 * 0.04048 + 24 / 1024 * 0.004445))


def test_targets_beyond_fifty_fan_out_over_sqs() -> None:
    # given 1,050 targets: 1,000 fanned out in 20 messages of 50, sent 10 a call
    measured = _measured(targets=1_050, fanout_bytes_per_target=200, baseline_bytes=[500] * 1_050)
    cost = estimate_job(measured, Prices(), ARM_1GB)
    # then each cycle is 1 scheduled + 2 fan-out invocations; each call carries 500 targets
    # (100 KB: two 64 KB chunks), sent and received, plus one DeleteMessageBatch per batch
    chunks = math.ceil(500 * 200 / 65_536)
    assert chunks == 2
    assert cost.invocations == 43_800 * 3
    assert cost.sqs_requests == 43_800 * (2 * 2 * chunks + 2)


def test_metrics_are_priced_on_the_total_and_shared_by_count() -> None:
    # given two jobs of 6,000 metrics each (12,000 in the account: 10,000 at $0.30, 2,000 at $0.10)
    costs, total = estimate([_measured("a", metrics=6_000), _measured("b", metrics=6_000)], Prices(), ARM_1GB)
    # then each job carries half of $3,200, and the total adds up
    assert [c.emf_metrics_usd for c in costs] == [pytest.approx(1_600), pytest.approx(1_600)]
    assert total["emf"] == pytest.approx(sum(c.usd["emf"] for c in costs))
    assert total["emf"] == pytest.approx(3_200)


def test_sidecar_prices_can_be_a_node_share() -> None:
    # given EKS on EC2: a node's price per vCPU-hour and GB-hour instead of Fargate's
    prices = override(Prices(), {"sidecar_vcpu_hour": 0.024, "sidecar_gb_hour": 0.006}, origin="test")
    cost = estimate_job(_measured(targets=3), prices, ARM_1GB)
    # then three pods' sidecars cost their requests at those prices
    assert cost.usd["adot_sidecar"] == pytest.approx(3 * 730 * (ADOT_SIDECAR_VCPU * 0.024 + ADOT_SIDECAR_MEMORY_GB * 0.006))


@pytest.mark.parametrize(("values", "message"), [
    ({"metric_month": 0.3}, r"unknown price 'metric_month'; expected one of .*metric_month_tier1"),
    ({"logs_ingestion_gb": -1}, r"price 'logs_ingestion_gb' is -1; expected a number >= 0"),
    ({"logs_ingestion_gb": "cheap"}, r"price 'logs_ingestion_gb' is 'cheap'"),
    ({"logs_ingestion_gb": True}, r"price 'logs_ingestion_gb' is True"),
])
def test_bad_price_overrides_are_refused_naming_them(values: dict[str, object], message: str) -> None:
    # given an unknown price, a negative one, a string or a boolean, when overridden, then it is refused naming it
    with pytest.raises(PricesError, match=message):
        override(Prices(), values, origin="prices.yaml")


def test_a_prices_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    # given a prices file naming two prices
    path = tmp_path / "prices.yaml"
    path.write_text("otel_metrics_ingestion_gb: 0.35\nlambda_request: 0\n")
    # when loaded
    prices = load_prices(path)
    # then those two are overridden and the others keep their defaults
    assert (prices.otel_metrics_ingestion_gb, prices.lambda_request) == (0.35, 0.0)
    assert prices.logs_ingestion_gb == Prices().logs_ingestion_gb
    # when the file is a list, then it is refused naming what it expected
    path.write_text("[1, 2]\n")
    with pytest.raises(PricesError, match=r"prices.yaml: expected a mapping of price names to USD, got list"):
        load_prices(path)
    # when the file is missing, then it is refused naming it
    with pytest.raises(PricesError, match=r"missing.yaml: cannot be read"):
        load_prices(path.with_name("missing.yaml"))


def test_otlp_bytes_are_counted_per_point_with_name_and_resource() -> None:
    # given a resource with two attributes and a gauge of two points
    resource = pb.ResourceMetrics(resource=Resource(attributes=[
        KeyValue(key="service.name", value=AnyValue(string_value="task-service")),
        KeyValue(key="service.instance.id", value=AnyValue(string_value="10.0.0.1:3000")),
    ]))
    metric = resource.scope_metrics.add().metrics.add(name="queue_depth")
    for value in (1.0, 2.0):
        metric.gauge.data_points.add(as_double=value, time_unix_nano=1_700_000_000_000_000_000)
    points = metric.gauge.data_points
    # then each point counts its own bytes plus the metric name and the whole resource
    expected = sum(p.ByteSize() for p in points) + 2 * (len("queue_depth") + resource.resource.ByteSize())
    assert billed_bytes([resource]) == expected
    assert billed_bytes([resource]) > resource.ByteSize()


def test_json_has_exactly_the_documented_shape() -> None:
    # given one measured job of 27 metrics
    costs, total = estimate([_measured("prod/task-service", metrics=27)], Prices(), ARM_1GB)
    # when estimated and written as JSON
    document = as_json(costs, total)
    keys = {"emf", "otlp", "adot_sidecar", "lambda", "dynamodb", "sqs"}
    # then the document has jobs and the totals, and each job the documented keys
    assert set(document) == {"jobs", "total_usd_per_month"}
    assert document["jobs"][0]["job"] == "prod/task-service" and document["jobs"][0]["metrics"] == 27
    assert set(document["jobs"][0]) == {"job", "metrics", "usd_per_month"}
    assert set(document["jobs"][0]["usd_per_month"]) == keys == set(document["total_usd_per_month"])


def test_the_table_names_the_unconfirmed_price_and_the_targets_down() -> None:
    costs, total = estimate([_measured()], Prices(), ARM_1GB)
    text = as_table(costs, total, Prices(), ARM_1GB, ["app 10.0.0.9:80: connection refused"])
    assert "otel_metrics_ingestion_gb = 0.5  <- NOT CONFIRMED" in text
    assert "us-east-1 list prices taken 2026-12-05" in text
    assert "app 10.0.0.9:80: connection refused" in text
    # and a price given with --prices is marked as such, confirmed or not
    mine = override(Prices(), {"otel_metrics_ingestion_gb": 0.35}, origin="test")
    text = as_table(costs, total, mine, ARM_1GB, [])
    assert "otel_metrics_ingestion_gb = 0.35  <- from --prices" in text


def test_a_job_is_priced_at_the_schedule_not_its_scrape_interval() -> None:
    # Given the same job at scrape_interval 15 s and 60 s, under the template's rate(1 minute)
    fast = estimate_job(_measured(interval_seconds=15.0, emf_bytes=1_000, cpu_seconds=0.01), Prices(), ARM_1GB)
    slow = estimate_job(_measured(interval_seconds=60.0, emf_bytes=1_000, cpu_seconds=0.01), Prices(), ARM_1GB)
    # Then both are scraped, and priced, once a minute: each invocation scrapes every target once
    assert fast.cycles == slow.cycles == 43_800 and fast.scraped_every_seconds == 60.0
    assert fast.usd == slow.usd
    # And a slower schedule prices fewer cycles
    hourly = FunctionShape(memory_mb=1024, architecture="arm64", schedule="rate(1 hour)")
    assert estimate_job(_measured(), Prices(), hourly).cycles == 730


@pytest.mark.parametrize("expression", ["cron(0/5 * * * ? *)", "rate(0 minutes)", "rate(5 weeks)"])
def test_a_schedule_that_cannot_be_priced_is_named(expression: str) -> None:
    from promwatch_tools.cost.errors import CostError

    # given a schedule that is a cron or a rate with no price, when its seconds are asked for, then it is named
    with pytest.raises(CostError, match=r"cannot be priced; expected rate\(N minutes\|hours\|days\)"):
        _ = FunctionShape(memory_mb=1024, schedule=expression).schedule_seconds


def test_the_table_says_jobs_are_priced_at_the_schedule() -> None:
    # given a job scraped every 15 seconds
    costs, total = estimate([_measured(interval_seconds=15.0)], Prices(), ARM_1GB)
    # when the estimate is written as a table
    table = as_table(costs, total, Prices(), ARM_1GB, [])
    # then the table says jobs are priced at the scrape function's schedule
    assert "scraped every s" in table and "Priced at the scrape function's schedule, rate(1 minute)" in table
