"""CloudWatchLogsSink against the moto server: creation on demand, order, large volumes."""
from __future__ import annotations

import json
from typing import Any

import boto3
from promwatch.emf import validate, write_group
from promwatch.limits import LOGS_MAX_BATCH_EVENTS
from promwatch.selfmetrics import self_metrics
from promwatch.sinks import CloudWatchLogsSink, sink_from_settings

from tests.support.clock import recent_hour_ms

# Recent enough for CloudWatch Logs (moto refuses events older than 14 days, as AWS does).
T0 = recent_hour_ms()


def _docs(n: int, start: int = T0) -> list[dict[str, Any]]:
    return [
        doc
        for i in range(n)
        for doc in write_group(
            self_metrics({"Seq": i}, dimensions={"Component": "sinks-it"}, timestamp_ms=start + i)
        )
    ]


def _all_messages(client: Any, group: str, stream: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
    while True:
        page = client.get_log_events(**kwargs)
        messages.extend(json.loads(e["message"]) for e in page["events"])
        if not page["events"] or page["nextForwardToken"] == kwargs.get("nextToken"):
            return messages
        kwargs["nextToken"] = page["nextForwardToken"]


def test_events_land_in_a_new_group_in_chronological_order(aws: str) -> None:
    # given a log group that does not exist yet and documents out of order
    client = boto3.client("logs")
    sink = CloudWatchLogsSink("/promwatch/it/new", "s1", client=client)
    docs = _docs(5)
    headers: list[Any] = []
    client.meta.events.register(
        "before-send.logs.PutLogEvents", lambda request, **_: headers.append(request.headers)
    )
    # when they are written through the sink
    with sink:
        sink.write([docs[3], docs[0], docs[4], docs[1], docs[2]])
    # then the group and stream exist and the events are there, oldest first, valid EMF
    messages = _all_messages(client, "/promwatch/it/new", "s1")
    assert [m["Seq"] for m in messages] == [0, 1, 2, 3, 4]
    for message in messages:
        validate(message)
    assert all(h["x-amzn-logs-format"] in ("json/emf", b"json/emf") for h in headers)


def test_large_volume_is_split_into_several_calls_and_nothing_is_lost(aws: str) -> None:
    # given more documents than one PutLogEvents call may carry, to an existing group
    client = boto3.client("logs")
    client.create_log_group(logGroupName="/promwatch/it/big")
    calls: list[int] = []
    client.meta.events.register(
        "provide-client-params.logs.PutLogEvents", lambda params, **_: calls.append(len(params["logEvents"]))
    )
    docs = _docs(LOGS_MAX_BATCH_EVENTS + 2_500)
    # when written via the one-string output setting
    sink = sink_from_settings("logs:/promwatch/it/big:bulk", client=client)
    sink.write(docs)
    sink.flush()
    # then several calls within limits carried every document, in order
    assert len(calls) >= 2 and max(calls) <= LOGS_MAX_BATCH_EVENTS
    seqs = [m["Seq"] for m in _all_messages(client, "/promwatch/it/big", "bulk")]
    assert seqs == list(range(len(docs)))
    assert sink.stats.written == len(docs)


def test_sink_made_without_a_client_reaches_the_endpoint_from_the_environment(aws: str) -> None:
    # given only AWS_ENDPOINT_URL pointing at the emulator (as in Lambda, only the region)
    sink = sink_from_settings("logs:/promwatch/it/env:s")
    # when it writes
    sink.write(_docs(2))
    sink.flush()
    # then the events are in the emulator
    messages = _all_messages(boto3.client("logs"), "/promwatch/it/env", "s")
    assert [m["Seq"] for m in messages] == [0, 1]
