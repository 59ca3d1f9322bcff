"""How the demo feeds Container Insights events: performance log events, the agent's one-minute
batches, and the records the subscription put on the Kinesis stream."""
from __future__ import annotations

import json
from typing import Any


def performance_log_events(events: list[dict[str, Any]], start_ms: int) -> list[dict[str, Any]]:
    """Performance events as log events in chronological order (PutLogEvents requires it).

    An event without a ``Timestamp`` member (the ADOT layout puts it elsewhere) is logged at
    the time of the event before it, as the agent would have written it in the same batch.
    """
    out: list[dict[str, Any]] = []
    current = start_ms
    for event in events:
        stamp = event.get("Timestamp")
        if isinstance(stamp, str | int) and str(stamp).isdigit():
            current = int(stamp)
        out.append({"timestamp": current, "message": json.dumps(event)})
    return sorted(out, key=lambda e: int(e["timestamp"]))


def by_minute(messages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Log events in batches of one minute each, as the agent flushes them (pure)."""
    batches: dict[int, list[dict[str, Any]]] = {}
    for message in messages:
        batches.setdefault(int(message["timestamp"]) // 60_000, []).append(message)
    return [batches[minute] for minute in sorted(batches)]


def read_stream(kinesis: Any, stream: str) -> list[dict[str, Any]]:
    """Every record on the stream's shards, oldest first per shard (with its shard id)."""
    records: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            records.extend({**r, "ShardId": shard["ShardId"]} for r in page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records
