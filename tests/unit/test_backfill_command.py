"""``promwatch backfill insights --remote``: the lambda:Invoke loop, with botocore's Stubber."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from promwatch_tools.commands.backfill import remote_invoker


def _payload(body: dict[str, Any]) -> StreamingBody:
    raw = json.dumps(body).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def test_remote_invoke_returns_the_function_response() -> None:
    # Given the deployed function answering one backfill invocation
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    event = {"backfill": {"cluster": "prod", "start": "2026-11-20T00:00:00Z", "end": "2026-11-20T02:00:00Z"}}
    answer = {"backfill": {"done": True, "continuation": None, "chunks_done": 2, "chunks_total": 2}}
    with Stubber(client) as stub:
        stub.add_response("invoke", {"StatusCode": 200, "Payload": _payload(answer)},
                          {"FunctionName": "promwatch-insights", "Payload": json.dumps(event).encode()})
        # When invoked through the remote invoker, Then the response comes back as a dict
        assert remote_invoker("promwatch-insights", client)(event) == answer


def test_remote_function_error_is_raised_with_its_message() -> None:
    # given a remote insights function that answers with a function error
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    error = {"errorMessage": "backfill start 2026-10-01T00:00:00+00:00 ... is older than 14 days", "errorType": "BackfillError"}
    with Stubber(client) as stub:
        stub.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _payload(error)})
        # when invoked, then the error is raised with the function's message
        with pytest.raises(RuntimeError, match="older than 14 days"):
            remote_invoker("promwatch-insights", client)({"backfill": {}})


def test_insights_checkpoint_refuses_a_sub_range_of_a_complete_backfill_however_spelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from promwatch_tools.cli import main
    from promwatch_tools.commands import backfill

    events: list[dict[str, Any]] = []

    def function(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return {"backfill": {"chunks_done": 1, "chunks_total": 1, "events": 3, "documents": 2,
                             "end": event["backfill"]["end"], "next": None, "continuation": None}}

    monkeypatch.setattr(backfill, "remote_invoker", lambda name: function)
    remote = ["--remote", "--function-name", "promwatch-insights", "--checkpoint", f"{tmp_path}/c.json"]
    # Given a complete insights backfill of a day
    assert main(["backfill", "insights", "--cluster", "prod", "--start", "2026-11-20T00:00:00Z",
                 "--end", "2026-11-21T00:00:00Z", *remote]) == 0
    # When an hour of it comes again, as unix seconds
    assert main(["backfill", "insights", "--cluster", "prod", "--start", "1795136400", "--end", "1795140000", *remote]) == 1
    # Then it is refused naming the complete backfill, and not invoked
    assert "overlaps insights cluster=prod 2026-11-20T00:00:00Z .. 2026-11-21T00:00:00Z (complete" in capsys.readouterr().err
    assert len(events) == 1
