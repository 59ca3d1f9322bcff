"""FanoutSender: every SendMessageBatch call is tried; what could not be sent is named."""
from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from promwatch.scrape.fanout import FanoutError, FanoutSender, read_batch, split_batches
from promwatch.scrape.targets import Target


def _targets(count: int) -> list[Target]:
    return [Target(job_name="app", url=f"http://10.0.0.{i}:9100/metrics", address=f"10.0.0.{i}:9100",
                   labels={"job": "app", "instance": f"10.0.0.{i}:9100"}) for i in range(count)]


class Queue:
    """An SQS client whose calls answer from a script: a response, or an exception to raise."""

    def __init__(self, *answers: dict[str, Any] | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[list[dict[str, str]]] = []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.calls.append(Entries)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_refused_entries_name_their_targets_and_the_rest_goes_out() -> None:
    # given 12 one-target messages (two calls) and SQS refusing the 4th message of the first call
    targets = _targets(12)
    queue = Queue({"Failed": [{"Id": "3", "Code": "InternalError", "Message": "try again", "SenderFault": False}]},
                  {"Failed": []})
    # when they are sent
    with pytest.raises(FanoutError) as raised:
        FanoutSender("https://queue", client=queue).send(split_batches(targets, 1))
    # then both calls were made, and only the refused message's target is unsent
    assert [len(call) for call in queue.calls] == [10, 2]
    assert raised.value.unsent == (targets[3].key,) and raised.value.sent_messages == 11
    assert "InternalError: try again" in str(raised.value)


@pytest.mark.parametrize("error", [
    EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com/"),
    ClientError({"Error": {"Code": "RequestThrottled", "Message": "slow down"}}, "SendMessageBatch"),
])
def test_a_failed_call_is_a_fanout_error_naming_its_targets(error: Exception) -> None:
    # given 12 one-target messages and the first call failing (after botocore's retries)
    targets = _targets(12)
    queue = Queue(error, {"Failed": []})
    # when they are sent, then the second call still goes out and the first's 10 targets are named
    with pytest.raises(FanoutError) as raised:
        FanoutSender("https://queue", client=queue).send(split_batches(targets, 1))
    assert raised.value.unsent == tuple(t.key for t in targets[:10]) and raised.value.sent_messages == 2
    assert [read_batch(e["MessageBody"]).keys for e in queue.calls[1]] == [[targets[10].key], [targets[11].key]]
