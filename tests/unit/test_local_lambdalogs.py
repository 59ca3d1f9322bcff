"""Lambda's log shipping, emulated: stdout lines become log events (no network: a recording client)."""
from __future__ import annotations

from typing import Any

from promwatch.limits import LOGS_MAX_BATCH_EVENTS
from promwatch_tools.local.lambdalogs import FunctionLogs


class RecordingLogs:
    """Stands in for a CloudWatch Logs client; keeps every call."""

    def __init__(self) -> None:
        self.streams: list[str] = []
        self.batches: list[list[dict[str, Any]]] = []

    def create_log_stream(self, *, logGroupName: str, logStreamName: str) -> None:
        self.streams.append(logStreamName)

    def put_log_events(self, *, logGroupName: str, logStreamName: str, logEvents: list[dict[str, Any]]) -> None:
        self.batches.append(logEvents)


def test_each_line_printed_during_an_invocation_is_one_event() -> None:
    # given a function's log stream
    client = RecordingLogs()
    logs = FunctionLogs("/aws/lambda/fn", client=client, clock_ms=lambda: 1000)
    # when an invocation prints lines, one in pieces and one unterminated, plus blank lines
    with logs.capturing():
        print("START RequestId: 1")
        print('{"_aws":', end="")
        print(' {}}')
        print()
        print("END", end="")
    # then each non-blank line is an event, in order, in one stream created once
    assert [e["message"] for batch in client.batches for e in batch] == ["START RequestId: 1", '{"_aws": {}}', "END"]
    assert len(client.streams) == 1 and logs.shipped == 3
    # and a second invocation reuses the stream (one execution environment)
    with logs.capturing():
        print("again")
    assert len(client.streams) == 1 and client.batches[-1][0]["message"] == "again"


def test_large_output_is_split_into_batches_within_the_limits() -> None:
    # given more lines than one PutLogEvents call may carry
    client = RecordingLogs()
    logs = FunctionLogs("/aws/lambda/fn", client=client, clock_ms=lambda: 1000)
    # when they are written and shipped
    logs.write("".join(f"line {i}\n" for i in range(LOGS_MAX_BATCH_EVENTS + 5)))
    logs.ship()
    # then they go in two calls, none above the event limit, nothing lost
    assert [len(b) for b in client.batches] == [LOGS_MAX_BATCH_EVENTS, 5]
    assert client.batches[1][-1]["message"] == f"line {LOGS_MAX_BATCH_EVENTS + 4}"
