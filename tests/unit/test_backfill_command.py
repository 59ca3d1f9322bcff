"""``promwatch backfill insights --remote``: the lambda:Invoke loop, with botocore's Stubber."""
from __future__ import annotations

import io
import json
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
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    error = {"errorMessage": "backfill start 2026-10-01T00:00:00+00:00 ... is older than 14 days", "errorType": "BackfillError"}
    with Stubber(client) as stub:
        stub.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _payload(error)})
        with pytest.raises(RuntimeError, match="older than 14 days"):
            remote_invoker("promwatch-insights", client)({"backfill": {}})
