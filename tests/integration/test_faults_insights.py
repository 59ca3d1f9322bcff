"""Fault injection: the Container Insights function's output (CloudWatch Logs PutLogEvents) and
its rules (SSM).

The function rolls up the performance events of a Kinesis batch record by record (or of a
Logs subscription event at once) and writes the roll-ups through the sink. A record whose
documents cannot be delivered is handed back to Lambda with the records after it
(``batchItemFailures``), so Lambda retries exactly those: every record's documents are
delivered once. A subscription event whose documents cannot be delivered fails the
invocation (Lambda retries it); nothing of it was delivered.
"""
from __future__ import annotations

import base64
import copy
import gzip
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
from promwatch.coldstart import aws_client
from promwatch.insights import InsightsRuntime, InsightsSettings
from promwatch.sinks import CloudWatchLogsSink, SinkDeliveryError
from promwatch_tools.insights_sample import sample_cluster_events

from tests.support.faultproxy import FaultProxy
from tests.support.scrapeworld import QUICK, checked, stdout_documents

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "faults-eks"
OUTPUT_GROUP = "/promwatch/insights-faults"


def _payload(events: list[dict[str, Any]]) -> bytes:
    """The gzipped subscription payload of these performance events."""
    return gzip.compress(json.dumps({
        "messageType": "DATA_MESSAGE", "owner": "123456789012",
        "logGroup": f"/aws/containerinsights/{CLUSTER}/performance", "logStream": "node-1",
        "subscriptionFilters": ["promwatch"],
        "logEvents": [{"id": str(i), "timestamp": int(e.get("Timestamp") or e["_aws"]["Timestamp"]), "message": json.dumps(e)}
                      for i, e in enumerate(events)],
    }).encode())


def kinesis_event(records: int) -> dict[str, Any]:
    """A Kinesis batch of ``records`` records, each with its own minute of performance events."""
    template = json.loads((ROOT / "events" / "insights" / "kinesis.json").read_text())["Records"][0]
    out = []
    for index in range(records):
        events = sample_cluster_events(CLUSTER, 1_796_400_000_000 + index * 60_000, 1, seed=index)
        record = copy.deepcopy(template)
        record["kinesis"]["data"] = base64.b64encode(_payload(events)).decode()
        record["kinesis"]["sequenceNumber"] = f"4959{index:04d}"
        record["eventID"] = f"shardId-000000000000:4959{index:04d}"
        out.append(record)
    return {"Records": out}


def subscription_event() -> dict[str, Any]:
    events = sample_cluster_events(CLUSTER, 1_796_400_000_000, 1, seed=7)
    return {"awslogs": {"data": base64.b64encode(_payload(events)).decode()}}


def logs_sink() -> CloudWatchLogsSink:
    return CloudWatchLogsSink(OUTPUT_GROUP, "insights", client=aws_client("logs", max_attempts=1, **QUICK),
                              base_delay=0.001, max_delay=0.01)


def delivered(aws: str) -> Counter[str]:
    """The roll-up documents in the output log group (read from moto directly), as a multiset."""
    logs = boto3.client("logs", endpoint_url=aws)
    events = [e for page in logs.get_paginator("filter_log_events").paginate(logGroupName=OUTPUT_GROUP)
              for e in page["events"]]
    return Counter(json.dumps(d, sort_keys=True) for d in checked(json.loads(e["message"]) for e in events)
                   if d.get("RollupRule"))


def expected(event: dict[str, Any], tmp_path: Path) -> Counter[str]:
    """The roll-up documents of ``event`` delivered by a sink that never fails (to a file)."""
    path = tmp_path / "expected.jsonl"
    InsightsRuntime(InsightsSettings(output=f"file:{path}")).handle(event)
    return Counter(json.dumps(d, sort_keys=True) for d in map(json.loads, path.read_text().splitlines())
                   if d.get("RollupRule"))


def test_kinesis_record_not_delivered_is_retried_with_the_later_ones_and_counted_once(
        proxy: FaultProxy, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a Kinesis batch of 4 records, the output log stream, and PutLogEvents failing for
    # good from the second record's documents on (the first record's are delivered),
    event = kinesis_event(4)
    logs = boto3.client("logs", endpoint_url=proxy.url)
    logs.create_log_group(logGroupName=OUTPUT_GROUP)
    logs.create_log_stream(logGroupName=OUTPUT_GROUP, logStreamName="insights")
    function = InsightsRuntime(InsightsSettings(), sink=logs_sink())
    proxy.add("error503", service="logs", operation="PutLogEvents", first=2, times=None)
    # when the batch is handled,
    response = function.handle(event)
    # then records 2..4 are batch item failures (Lambda retries them, the first is not sent again),
    ids = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    assert response == {"batchItemFailures": [{"itemIdentifier": i} for i in ids[1:]]}
    # and the self-metrics saying so (RecordsFailed, DocumentsUndelivered) went to stdout, not
    # to the failed sink;
    fallback = stdout_documents(capsys.readouterr().out)
    assert [d["RecordsFailed"] for d in fallback] == [3] and fallback[0]["DocumentsUndelivered"] > 0
    # and when Lambda retries those records with Logs back, every record's roll-ups are
    # delivered exactly once.
    proxy.clear()
    retried = {"Records": [r for r in event["Records"] if r["kinesis"]["sequenceNumber"] in ids[1:]]}
    assert function.handle(retried) == {"batchItemFailures": []}
    assert delivered(proxy.url) == expected(event, tmp_path)


def test_subscription_event_not_delivered_fails_the_invocation_and_its_retry_counts_once(
        proxy: FaultProxy, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a Logs subscription event, and PutLogEvents throttled for good,
    event = subscription_event()
    function = InsightsRuntime(InsightsSettings(), sink=logs_sink())
    # when it is handled, then the invocation fails (Lambda retries an async invocation twice),
    with proxy.fault("throttle", service="logs", operation="PutLogEvents", times=None), \
            pytest.raises(SinkDeliveryError):
        function.handle(event)
    # after reporting DocumentsUndelivered on stdout;
    (report,) = stdout_documents(capsys.readouterr().out)
    assert report["DocumentsUndelivered"] > 0 and report["DocumentsWritten"] == 0
    # and Lambda's retry, with Logs back, delivers the roll-ups once.
    function.handle(event)
    assert delivered(proxy.url) == expected(event, tmp_path)


def test_rules_unreadable_at_refresh_keeps_the_rules_in_hand(proxy: FaultProxy, aws: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    # Given rules in SSM read at the first invocation (TTL 300 s),
    rules = (ROOT / "layers" / "promwatch" / "promwatch" / "insights" / "default_rules.yaml").read_text()
    boto3.client("ssm", endpoint_url=aws).put_parameter(Name="/promwatch/rules", Value=rules, Type="String")
    now = [1_796_400_000.0]
    function = InsightsRuntime(InsightsSettings(rules="ssm:/promwatch/rules"), sink=logs_sink(), clock=lambda: now[0])
    before = function.rules
    now[0] += 301
    # when an invocation after the TTL finds SSM throttling for good,
    with proxy.fault("throttle", service="ssm", times=None), caplog.at_level(logging.WARNING, logger="promwatch.insights"):
        response = function.handle(kinesis_event(1))
    # then the invocation goes on with the rules in hand, and says so.
    assert response == {"batchItemFailures": []} and function.rules is before
    assert any("keeping the previous ones" in r.getMessage() for r in caplog.records)
