"""The embedded emulator: lifecycle, the stack's resources from template.yaml, extraction into CloudWatch."""
from __future__ import annotations

import os
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from promwatch.emf import Distribution, Metric, MetricGroup, serialize, write_group
from promwatch_tools.local.cloudwatch import LogExtractor
from promwatch_tools.local.emulator import emulated_aws
from promwatch_tools.local.lambdalogs import FunctionLogs
from promwatch_tools.local.query import MetricReader, namespace_windows
from promwatch_tools.local.stack import create_stack, load_template, plan_stack
from promwatch_tools.local.widgets import parse_search

from tests.support.clock import recent_hour_ms

ROOT = Path(__file__).resolve().parents[2]


def test_emulator_answers_then_stops_and_the_environment_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    # given no endpoint in the environment
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_PROFILE", "someone-real")
    # when the emulator runs
    with emulated_aws() as emulator:
        # then boto3 reaches it through the environment, with no profile in the way
        assert os.environ["AWS_ENDPOINT_URL"] == emulator.endpoint and "AWS_PROFILE" not in os.environ
        boto3.client("sqs").create_queue(QueueName="probe")
        assert emulator.client("sqs").list_queues()["QueueUrls"][0].endswith("/probe")
    # and afterwards it no longer answers and the environment is as it was
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{emulator.endpoint}/moto-api/", timeout=2)
    assert "AWS_ENDPOINT_URL" not in os.environ and os.environ["AWS_PROFILE"] == "someone-real"


def test_the_stack_resources_of_template_yaml_exist_in_the_emulator(aws: str) -> None:
    # given the project's template, with the insights trigger on Kinesis
    plan = plan_stack(load_template(ROOT / "template.yaml"), stack_name="it",
                      parameters={"InsightsTrigger": "kinesis"})
    # when created
    resources = create_stack(plan)
    # then the state table has its key schema and TTL
    dynamodb = boto3.client("dynamodb")
    (table,) = [r.name for r in resources.of_type("AWS::DynamoDB::Table")]
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert described["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    # and the fan-out queue redrives to its dead-letter queue
    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=resources.physical_ids["FanoutQueue"],
                                          AttributeNames=["RedrivePolicy"])["Attributes"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=resources.physical_ids["FanoutDeadLetterQueue"],
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert dlq_arn in attributes["RedrivePolicy"]
    # and the log groups exist with their retention, and the subscription feeds the stream
    logs = boto3.client("logs")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
    assert groups["/aws/lambda/it-scrape"]["retentionInDays"] == 30
    (subscription,) = logs.describe_subscription_filters(
        logGroupName="/aws/containerinsights/demo/performance")["subscriptionFilters"]
    (stream,) = resources.of_type("AWS::Kinesis::Stream")
    assert subscription["destinationArn"] == stream.attributes["Arn"]
    assert boto3.client("kinesis").describe_stream_summary(StreamName=stream.name)["StreamDescriptionSummary"]


def test_a_subscription_to_a_function_is_left_out(aws: str) -> None:
    # given the template's default insights trigger: a subscription straight to the function
    plan = plan_stack(load_template(ROOT / "template.yaml"), stack_name="it")
    # when created
    resources = create_stack(plan)
    # then that filter is reported as skipped (functions run in-process), the rest is created
    assert [(r.type, "in-process" in why) for r, why in resources.skipped] == [
        ("AWS::Logs::SubscriptionFilter", True)]
    assert resources.of_type("AWS::DynamoDB::Table")


def _statistics(cloudwatch: Any, dims: dict[str, str], start: datetime) -> dict[str, float]:
    queries = [{"Id": stat.lower(), "MetricStat": {"Metric": {
        "Namespace": "prod/task-service", "MetricName": "http_request_duration_seconds",
        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]}, "Period": 600, "Stat": stat}}
        for stat in ("Sum", "SampleCount", "Average", "Minimum", "Maximum")]
    results = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=start,
                                         EndTime=start + timedelta(minutes=10))["MetricDataResults"]
    return {r["Id"]: sum(r["Values"]) for r in results}


def test_extracted_distributions_give_cloudwatch_the_exact_statistics(aws: str) -> None:
    # given two scrapes' latency distributions (exact Sum/Min/Max, bucket-representative values)
    # written as Lambda writes them: lines of the function's stdout, shipped to its log group
    now_ms = recent_hour_ms()
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/fn")
    shipped = FunctionLogs("/aws/lambda/fn", client=logs, clock_ms=lambda: now_ms)
    with shipped.capturing():
        print("START RequestId: 1 Version: $LATEST")
        for offset, dist in ((0, Distribution((0.003, 0.01), (6, 2), sum=0.031, minimum=0.0021, maximum=0.012)),
                             (5000, Distribution((0.01, 0.3), (3, 1), sum=0.29, minimum=0.008, maximum=0.31))):
            group = MetricGroup("prod/task-service", now_ms + offset,
                                {"job": "prod/task-service", "route": "/tasks"}, [["job", "route"]],
                                [Metric("http_request_duration_seconds", dist, "Seconds")])
            for document in write_group(group):
                print(serialize(document))
    # when the extractor reads the log group back and puts the metrics into CloudWatch
    cloudwatch = boto3.client("cloudwatch")
    extractor = LogExtractor(logs_client=logs, cloudwatch_client=cloudwatch, clock_ms=lambda: now_ms + 60_000)
    result = extractor.extract_groups(["/aws/lambda/fn"])
    # then the plain line is ignored, both documents are extracted, and a second read adds nothing
    assert (result.emf_events, result.plain_events, len(result.datums)) == (2, 1, 2)
    assert extractor.extract_groups(["/aws/lambda/fn"]).emf_events == 0
    # and CloudWatch's statistics are those of the 12 observations: exact sum, count, min, max
    start = datetime.fromtimestamp(now_ms / 1000, tz=UTC) - timedelta(minutes=2)
    stats = _statistics(cloudwatch, {"job": "prod/task-service", "route": "/tasks"}, start)
    assert stats["samplecount"] == 12
    assert stats["sum"] == pytest.approx(0.321)
    assert stats["average"] == pytest.approx(0.321 / 12)
    assert (stats["minimum"], stats["maximum"]) == (pytest.approx(0.0021), pytest.approx(0.31))


def test_reader_expands_search_and_computes_percentiles(aws: str) -> None:
    # given latency distributions of two routes extracted into CloudWatch
    now_ms = recent_hour_ms()
    documents = []
    for route, values in (("/tasks", (0.002, 0.004)), ("/tasks/:id", (0.05, 0.2))):
        documents += write_group(MetricGroup(
            "prod/task-service", now_ms, {"job": "prod/task-service", "route": route}, [["job", "route"]],
            [Metric("http_request_duration_seconds", Distribution(values, (99, 1)), "Seconds")]))
    extractor = LogExtractor(logs_client=boto3.client("logs"), cloudwatch_client=boto3.client("cloudwatch"),
                             clock_ms=lambda: now_ms + 60_000)
    extractor.extract_messages(documents)
    reader = MetricReader(boto3.client("cloudwatch"), extractor.datums,
                          namespace_windows(extractor.datums, min_period_s=5))
    # when a dashboard's SEARCH asks for p50 and SampleCount by route
    search = 'SEARCH(\'{{"prod/task-service",job,route}} MetricName="http_request_duration_seconds"\', \'{}\', 60)'
    p50 = parse_search(search.format("p50"))
    count = parse_search(search.format("SampleCount"))
    assert p50 is not None and count is not None
    series, notes = reader.series([p50, count])
    # then each route is a line, percentiles come from the samples and counts from CloudWatch
    by_label = {s.label: s.values for s in series}
    assert not notes
    assert by_label == {"p50 route=/tasks": (0.002,), "p50 route=/tasks/:id": (0.05,),
                        "SampleCount route=/tasks": (100.0,), "SampleCount route=/tasks/:id": (100.0,)}


def test_the_emulator_offers_an_otlp_receiver_for_its_region_and_credentials() -> None:
    # given the emulator's description (no server needed for the receiver itself)
    from botocore.credentials import Credentials
    from promwatch.exposition import Family, Sample
    from promwatch.otlp import OtlpSink, ScrapeTarget, sigv4_signer, to_resource_metrics
    from promwatch_tools.local.emulator import Emulator

    emulator = Emulator("http://127.0.0.1:1")
    metrics = to_resource_metrics([Family("g", "gauge", "", "", [Sample("g", {}, 2.0)])],
                                  target=ScrapeTarget("j", "i:1", "http://i:1/metrics", {}), now_ms=1,
                                  previous_starts={}).resource_metrics
    # when its OTLP receiver gets a request signed with the emulator's credentials for its region
    with emulator.otlp_receiver() as receiver:
        sink = OtlpSink(receiver.url, sigv4_signer(emulator.region, Credentials("testing", "testing", "testing")))
        sink.add(metrics, ticket="t")
        sink.flush()
        # then it accepted it, and what arrived can be read back
        assert receiver.refusals == []
        assert [(p.name, p.kind, p.value) for p in receiver.points()] == [("g", "gauge", 2.0)]
