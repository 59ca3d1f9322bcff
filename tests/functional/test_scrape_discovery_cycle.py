"""Discovered targets through the scrape function: a schedule invocation discovers, scrapes its
share and fans the rest out; the fan-out invocation scrapes what the message carries, without
discovering again."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from promwatch.discovery import DiscoveryEnv
from promwatch.httpclient import ConnectionPool
from promwatch.scrape import FanoutSender, ScrapeRuntime, ScrapeSettings
from promwatch.sinks import MemorySink
from promwatch.state import MemoryStateStore

from tests.support.canned import CannedPages

PAGE = b"# TYPE up_seconds gauge\nup_seconds 1\n"


class Queue:
    """An SQS client that keeps what it is sent."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.bodies += [entry["MessageBody"] for entry in Entries]
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}



def _sqs_event(bodies: list[str]) -> dict[str, Any]:
    return {"Records": [{
        "messageId": f"m-{i}", "receiptHandle": "r", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "s",
                       "ApproximateFirstReceiveTimestamp": "1"},
        "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1",
    } for i, body in enumerate(bodies)]}


def test_discovered_targets_fan_out_and_are_scraped_without_discovering_again(tmp_path: Path) -> None:
    # Given a job discovering three targets from a file (each with a label from its group),
    (tmp_path / "targets.json").write_text(json.dumps([
        {"targets": [f"10.0.0.{n}:9100" for n in (1, 2, 3)], "labels": {"rack": "r7"}}]))
    config = tmp_path / "scrape.yaml"
    config.write_text("scrape_configs: [{job_name: node, file_sd_configs: [{files: [targets.json]}]}]")
    pages = CannedPages()
    for n in (1, 2, 3):
        pages.pages[f"10.0.0.{n}:9100", "/metrics"] = PAGE
    pool = ConnectionPool(connect=pages.connect)

    def no_aws(service: str, region: str | None) -> object:
        raise AssertionError("no AWS call expected")

    queue = Queue()
    settings = ScrapeSettings(config_source=str(config), max_targets_per_invocation=1)
    scheduler_sink, worker_sink = MemorySink(), MemorySink()
    scheduler = ScrapeRuntime(settings, state_store=MemoryStateStore(), sink=scheduler_sink,  # type: ignore[arg-type]
                              fanout=FanoutSender("https://queue", client=queue),
                              discovery_env=DiscoveryEnv(aws_client=no_aws), pool=pool)
    # when the schedule runs, then it scrapes one target and sends the two others,
    result = scheduler.handle({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {},
                               "id": "1", "version": "0", "account": "1", "time": "2026-12-04T00:00:00Z",
                               "region": "us-east-1", "resources": []})
    assert result["targets"] == 1 and result["fanned_out_targets"] == 2
    # and a fan-out invocation whose config no longer finds the file still scrapes what it carries,
    (tmp_path / "targets.json").unlink()
    worker = ScrapeRuntime(settings, state_store=MemoryStateStore(), sink=worker_sink,  # type: ignore[arg-type]
                           discovery_env=DiscoveryEnv(aws_client=no_aws), pool=pool)
    assert worker.handle(_sqs_event(queue.bodies)) == {"batchItemFailures": []}
    # with the labels discovery gave them.
    scraped = {(d["instance"], d["rack"]) for d in worker_sink.documents if "up_seconds" in d}
    assert scraped == {("10.0.0.2:9100", "r7"), ("10.0.0.3:9100", "r7")}
