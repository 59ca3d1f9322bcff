"""Insights against the moto server: backfill from a real FilterLogEvents, and the Kinesis path.

moto delivers a Logs subscription filter's records to a Kinesis stream, so the stream path is
exercised end to end: PutLogEvents -> subscription -> Kinesis records -> handler -> EMF.
"""
from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from promwatch.emf import problems
from promwatch.insights import (
    InsightsRuntime,
    InsightsSettings,
    compile_rules,
    parse_event,
    parse_rules,
    rollup_documents,
)
from promwatch_tools.insights_sample import sample_cluster_events

from tests.support.clock import recent_hour_ms

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "moto-eks"
LOG_GROUP = f"/aws/containerinsights/{CLUSTER}/performance"


class ListSink:
    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []

    def write(self, documents: list[dict[str, Any]], *, ticket: object = None) -> None:
        self.documents.extend(documents)

    def flush(self) -> None:
        """Nothing is buffered."""

    def data(self) -> list[str]:
        return sorted(json.dumps(d) for d in self.documents if d.get("RollupRule"))


class Deadline:
    """A deadline whose clock loses ``step_ms`` at every look (as a Lambda context tells it)."""

    def __init__(self, remaining_ms: int, step_ms: int) -> None:
        self.remaining_ms, self.step_ms = remaining_ms, step_ms

    def get_remaining_time_in_millis(self) -> int:
        self.remaining_ms -= self.step_ms
        return self.remaining_ms


@pytest.fixture
def minute_rules(tmp_path: Path) -> Path:
    """The builtin rules without the hourly one, so 10-minute chunks line up with every period."""
    config = yaml.safe_load((ROOT / "config" / "insights.yaml").read_text())
    config["rules"] = [rule for rule in config["rules"] if not rule.get("period")]
    path = tmp_path / "insights.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _put(logs: Any, events: list[dict[str, Any]], stream: str) -> None:
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    batch = [{"timestamp": int(e.get("Timestamp") or e["_aws"]["Timestamp"]), "message": json.dumps(e)} for e in events]
    for start in range(0, len(batch), 500):
        logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream, logEvents=batch[start : start + 500])


@pytest.fixture
def performance_log(aws: str) -> Iterator[tuple[Any, int, list[dict[str, Any]]]]:
    """30 minutes of a sample cluster in the performance log group, ending at a recent full hour."""
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)
    end_ms = recent_hour_ms()
    events = sample_cluster_events(CLUSTER, end_ms - 1_800_000, 30, seed=11)
    _put(logs, events, "ip-10-0-1-17.ec2.internal")
    yield logs, end_ms, events


def _iso(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_ms / 1000))


def test_backfill_resumes_with_a_continuation_and_does_not_double_count(
    performance_log: tuple[Any, int, list[dict[str, Any]]], minute_rules: Path
) -> None:
    logs, end_ms, events = performance_log
    settings = InsightsSettings(rules=str(minute_rules), backfill_chunk_seconds=600, backfill_margin_ms=5_000)
    request = {"cluster": CLUSTER, "start": _iso(end_ms - 1_800_000), "end": _iso(end_ms)}
    # Given the insights function reading the log group through the real boto3 client, a minute after the end
    sink = ListSink()
    function = InsightsRuntime(settings, sink=sink, logs=logs, clock=lambda: end_ms / 1000 + 60)
    # When the first invocation only has time for one chunk
    first = function.handle({"backfill": request}, remaining_ms=Deadline(30_000, 10_000).get_remaining_time_in_millis)["backfill"]
    assert (first["done"], first["chunks_done"], first["chunks_total"]) == (False, 1, 3)
    # and later invocations resume from the continuation until done
    continuation = first["continuation"]
    invocations = 1
    while continuation:
        result = function.handle({"backfill": {**request, "continuation": continuation}},
                                 remaining_ms=Deadline(30_000, 10_000).get_remaining_time_in_millis)["backfill"]
        continuation = result["continuation"]
        invocations += 1
    # Then each chunk was written once: the EMF equals the roll-up of every event exactly once
    assert invocations == 3
    expected = rollup_documents((parse_event(e) for e in events), compile_rules(parse_rules(minute_rules.read_text())))
    assert sink.data() == sorted(json.dumps(d) for d in expected)
    assert all(problems(d) == [] for d in sink.documents)


def test_subscription_to_kinesis_records_are_rolled_up(aws: str) -> None:
    # Given a Kinesis stream fed by the performance log group's subscription filter (moto delivers it)
    logs, kinesis = boto3.client("logs"), boto3.client("kinesis")
    kinesis.create_stream(StreamName="promwatch-insights", ShardCount=1)
    stream_arn = kinesis.describe_stream(StreamName="promwatch-insights")["StreamDescription"]["StreamARN"]
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.put_subscription_filter(
        logGroupName=LOG_GROUP, filterName="promwatch-insights", filterPattern="",
        destinationArn=stream_arn, roleArn="arn:aws:iam::123456789012:role/promwatch-logs-to-kinesis",
    )
    start_ms = recent_hour_ms()
    events = sample_cluster_events(CLUSTER, start_ms, 3, seed=2)
    _put(logs, events, "ip-10-0-2-33.ec2.internal")
    # When the stream's records reach the handler as a Lambda Kinesis event
    shard = kinesis.describe_stream(StreamName="promwatch-insights")["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="promwatch-insights", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert records
    lambda_event = {"Records": [
        {
            "kinesis": {
                "kinesisSchemaVersion": "1.0", "partitionKey": record["PartitionKey"],
                "sequenceNumber": record["SequenceNumber"], "data": base64.b64encode(record["Data"]).decode(),
                "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
            },
            "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{shard}:{record['SequenceNumber']}",
            "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/promwatch-insights",
            "awsRegion": "us-east-1", "eventSourceARN": stream_arn,
        }
        for record in records
    ]}
    sink = ListSink()
    response = InsightsRuntime(InsightsSettings(), sink=sink, clock=lambda: start_ms / 1000 + 600).handle(lambda_event)
    # Then no record fails and the roll-ups (merged across records) equal the events' roll-up
    assert response == {"batchItemFailures": []}
    rules = compile_rules(parse_rules((ROOT / "config" / "insights.yaml").read_text()))
    expected = rollup_documents((parse_event(e) for e in events), rules)
    assert _pooled(sink.documents) == _pooled(expected)


def _pooled(documents: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[float, float]]:
    """CloudWatch's view: Values/Counts pooled per rule, dimensions, period and metric."""
    pooled: dict[tuple[Any, ...], dict[float, float]] = {}
    for document in documents:
        if "RollupRule" not in document:
            continue
        directive = document["_aws"]["CloudWatchMetrics"][0]
        dimensions = tuple((name, document[name]) for name in directive["Dimensions"][0])
        for definition in directive["Metrics"]:
            key = (document["RollupRule"], dimensions, document["_aws"]["Timestamp"], definition["Name"])
            counts = pooled.setdefault(key, {})
            value = document[definition["Name"]]
            for v, c in zip(value["Values"], value["Counts"], strict=True):
                counts[v] = counts.get(v, 0) + c
    return pooled


def test_backfill_of_a_missing_log_group_says_so(aws: str) -> None:
    from promwatch.insights.backfill import BackfillError

    # given no Container Insights log group for the cluster
    end_ms = recent_hour_ms()
    function = InsightsRuntime(InsightsSettings(), sink=ListSink(), logs=boto3.client("logs"),
                                clock=lambda: end_ms / 1000 + 60)
    # when a backfill of an hour is asked for it
    request = {"cluster": "absent", "start": _iso(end_ms - 3_600_000), "end": _iso(end_ms)}
    # then it is refused naming the log group that does not exist
    with pytest.raises(BackfillError, match="'/aws/containerinsights/absent/performance' does not exist"):
        function.handle({"backfill": request})
