"""The Container Insights decoder and event model, through the insights function's handler.

Input framing: the first byte picks how the rest reaches
:func:`promwatch.insights.handle_stream_event` (its value modulo 4; seeds use ``0``-``3``):

``0``
    a CloudWatch Logs subscription payload (JSON), gzip'd and base64'd into ``awslogs.data``;
``1``
    the same payload as a Kinesis record's data, next to a record whose data is the rest as is
    (not gzip'd);
``2``
    a whole Lambda event (JSON);
``3``
    one log event's message (a performance event, JSON), in a subscription payload.

Documented errors: :class:`~promwatch.insights.EventDecodeError` for an event of neither shape
or whose subscription data cannot be decoded; malformed events and records are counted and
skipped, never raised. Properties: no Kinesis record is handed back for retry (the sink never
fails here), and every document written -- roll-ups and self-metrics -- is valid EMF.
"""
from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from promwatch.emf import problems
from promwatch.insights import BUILTIN_RULES, EventDecodeError, compile_rules, handle_stream_event, load_rules
from promwatch.sinks import MemorySink

from fuzz.harness import Harness, check, repo_files
from fuzz.mutators import JSON, structured

MAX_LEN = 8192
SUBSCRIPTION, KINESIS, EVENT, MESSAGE = range(4)
_RULES = compile_rules(load_rules(BUILTIN_RULES))
_NOW = 1_795_168_900.0



def _packed(payload: bytes) -> str:
    return base64.b64encode(gzip.compress(payload, mtime=0)).decode("ascii")


def _kinesis_record(sequence: str, data: str) -> dict[str, Any]:
    return {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "fuzz", "sequenceNumber": sequence,
                    "data": data, "approximateArrivalTimestamp": _NOW},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"shardId-000000000000:{sequence}",
        "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/fuzz",
        "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/fuzz",
    }


def _subscription_payload(messages: list[str]) -> bytes:
    return json.dumps({
        "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/containerinsights/fuzz/performance",
        "logStream": "fuzz", "subscriptionFilters": ["promwatch"],
        "logEvents": [{"id": str(i), "timestamp": 1_795_168_800_000, "message": m} for i, m in enumerate(messages)],
    }).encode()


def lambda_event(data: bytes) -> Any:
    """The Lambda event an input stands for (None when a mode ``2`` input is not JSON)."""
    mode, rest = (data[0] % 4, data[1:]) if data else (EVENT, b"")
    if mode == SUBSCRIPTION:
        return {"awslogs": {"data": _packed(rest)}}
    if mode == KINESIS:
        return {"Records": [_kinesis_record("1", _packed(rest)), _kinesis_record("2", base64.b64encode(rest).decode())]}
    if mode == MESSAGE:
        return {"awslogs": {"data": _packed(_subscription_payload([rest.decode("utf-8", "replace")]))}}
    try:
        return json.loads(rest)
    except (ValueError, RecursionError):  # Lambda events are JSON: there is no event to handle
        return None


def test_one_input(data: bytes) -> None:
    """Handle the input's event and check what was written."""
    event = lambda_event(data)
    if event is None:
        return
    sink = MemorySink()
    try:
        response = handle_stream_event(event, rules=_RULES, sink=sink, stage="fuzz", clock=lambda: _NOW)
    except EventDecodeError:
        return
    check(not response.get("batchItemFailures"), f"records handed back with a sink that never fails: {response}")
    for document in sink.documents:
        found = problems(document)
        check(not found, f"the handler wrote a document that is not valid EMF: {found}\n{document!r}")


def _payload_seeds() -> list[bytes]:
    """The repository's subscription payloads, a few log events per seed (smaller inputs mutate faster)."""
    payloads: list[bytes] = []
    for path in repo_files("events/insights/*.json"):
        event = json.loads(path.read_bytes())
        packed = [event["awslogs"]["data"]] if "awslogs" in event else [
            record["kinesis"]["data"] for record in event.get("Records", [])
        ]
        for data in packed:
            try:
                payload = json.loads(gzip.decompress(base64.b64decode(data)))
            except (OSError, ValueError):  # the fixture's deliberately malformed record
                continue
            events = payload.get("logEvents", [])
            for start in range(0, max(len(events), 1), 3):
                payloads.append(json.dumps({**payload, "logEvents": events[start:start + 3]}).encode())
    return payloads


def seeds() -> list[bytes]:
    """Payloads, events and messages of ``events/insights`` and ``tests/fixtures/insights``."""
    payloads = _payload_seeds()
    events = [path.read_bytes() for path in repo_files("events/insights/*.json")]
    messages = [
        line for path in repo_files("tests/fixtures/insights/*.jsonl") for line in path.read_bytes().splitlines()
        if line.strip()
    ]
    return (
        [b"0" + p for p in payloads] + [b"1" + p for p in payloads[:4]]
        + [b"2" + e for e in events] + [b"3" + m for m in messages]
    )


HARNESS = Harness(
    name="insights",
    test_one_input=test_one_input,
    seeds=seeds,
    share=4,
    max_len=MAX_LEN,
    mutator=structured(JSON, prefix=1),
    dictionary=(
        '"messageType"', '"DATA_MESSAGE"', '"CONTROL_MESSAGE"', '"logGroup"', '"logEvents"', '"message"',
        '"timestamp"', '"id"', '"Type"', '"Timestamp"', '"Version"', '"_aws"', '"kubernetes"',
        '"pod_owners"', '"owner_kind"', '"owner_name"', '"ReplicaSet"', '"Job"', '"labels"',
        '"pod-template-hash"', '"Pod"', '"Node"', '"Container"', '"ClusterName"', '"Namespace"',
        '"Records"', '"eventSource"', '"aws:kinesis"', '"kinesis"', '"sequenceNumber"', '"data"',
        '"awslogs"', "1e308", "-1", "1795168800000", "null", "true", "NaN", "Infinity", "\\u0000",
        "\\ud800",
    ),
)
