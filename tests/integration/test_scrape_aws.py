"""The scrape pipeline against a moto server: DynamoDB baselines shared by separate processes,
fan-out over SQS, config from SSM and S3, credentials from SSM / Secrets Manager, CloudWatch
Logs output."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server
from promwatch.emf import problems
from promwatch.httpclient import SecretResolver
from promwatch.scrape import ConfigLoader, ScrapeRuntime, ScrapeSettings, parse_config
from promwatch.scrape.request import authorization_header
from promwatch.sinks import StdoutSink

from tests.conftest import free_port

PROMWATCH = str(Path(sys.executable).with_name("promwatch"))
TABLE = "promwatch-state"


class Exporter:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("http_requests", "Requests.", ["route"], registry=self.registry)
        self.port = free_port()
        self.server, _ = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
def exporters() -> Iterator[list[Exporter]]:
    running = [Exporter() for _ in range(3)]
    yield running
    for exporter in running:
        exporter.server.shutdown()



def _documents(out: str) -> list[dict[str, Any]]:
    documents = [json.loads(line) for line in out.splitlines() if line.strip()]
    for document in documents:
        assert problems(document) == [], document
    return documents


def _scrape_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMWATCH, "scrape", *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ), check=False)


def test_baselines_in_dynamodb_survive_separate_processes(table: str, exporters: list[Exporter], tmp_path: Path) -> None:
    # Given an exporter and a config, and the baselines table in DynamoDB,
    exporter = exporters[0]
    config = tmp_path / "scrape.yaml"
    config.write_text(f"scrape_configs: [{{job_name: api, static_configs: [{{targets: ['{exporter.address}']}}]}}]")
    exporter.requests.labels("/a").inc(10)
    # when one process scrapes, 7 requests happen, and another process scrapes,
    first = _scrape_process("--config", str(config), "--state-table", table)
    exporter.requests.labels("/a").inc(7)
    second = _scrape_process("--config", str(config), "--state-table", table)
    # then the first counts the series from zero (its _created is less than one interval old)
    # and the second, in another process, reports exactly the 7 since the first.
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert [d["http_requests_total"] for d in _documents(first.stdout) if "http_requests_total" in d] == [10]
    increases = [d["http_requests_total"] for d in _documents(second.stdout) if "http_requests_total" in d]
    assert increases == [7]


def test_fanout_over_sqs_with_partial_batch_response(aws: str, exporters: list[Exporter], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # Given 3 targets, one invocation's share of 1 target and a fan-out queue,
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="promwatch-fanout")["QueueUrl"]
    config = tmp_path / "scrape.yaml"
    targets = ", ".join(f"'{e.address}'" for e in exporters)
    config.write_text(f"scrape_configs: [{{job_name: api, static_configs: [{{targets: [{targets}]}}]}}]")
    settings = ScrapeSettings(config_source=str(config), fanout_queue_url=queue_url, max_targets_per_invocation=1)
    runtime = ScrapeRuntime(settings, sink=StdoutSink())
    # when the schedule fires,
    report = runtime.handle({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {},
                             "version": "0", "id": "1", "account": "123456789012", "time": "2026-11-24T15:00:00Z",
                             "region": "us-east-1", "resources": []})
    # then it scrapes one target itself and sends the other two in two messages;
    assert (report["targets"], report["fanned_out_targets"], report["fanout_messages"]) == (1, 2, 2)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 2
    capsys.readouterr()
    # and the queue-triggered invocation scrapes exactly those, with no batch item failure.
    event = {"Records": [
        {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795532400000",
                        "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1795532400010"},
         "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:promwatch-fanout", "awsRegion": "us-east-1"}
        for m in messages]}
    assert runtime.handle(event) == {"batchItemFailures": []}
    scraped = {d["instance"] for d in _documents(capsys.readouterr().out) if d.get("up") == 1}
    assert scraped == {e.address for e in exporters[1:]}


def test_config_from_ssm_and_s3(aws: str) -> None:
    # Given the same config in an SSM parameter and an S3 object,
    text = "scrape_configs: [{job_name: from-aws, static_configs: [{targets: ['10.0.0.1:9100']}]}]"
    boto3.client("ssm").put_parameter(Name="/promwatch/scrape", Value=text, Type="String")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="promwatch-config")
    s3.put_object(Bucket="promwatch-config", Key="scrape.yaml", Body=text.encode())
    loader = ConfigLoader()
    # then both sources load it; a missing parameter is a ConfigError naming it.
    assert loader.load("ssm:/promwatch/scrape").scrape_configs[0].job_name == "from-aws"
    assert loader.load("s3://promwatch-config/scrape.yaml").scrape_configs[0].job_name == "from-aws"
    from promwatch.scrape import ConfigError

    with pytest.raises(ConfigError, match="ssm:/promwatch/missing"):
        loader.load("ssm:/promwatch/missing")


def test_credentials_from_ssm_and_secrets_manager(aws: str) -> None:
    # Given a password in SSM (SecureString) and a token in Secrets Manager,
    boto3.client("ssm").put_parameter(Name="/promwatch/pw", Value="s3cret", Type="SecureString")
    boto3.client("secretsmanager").create_secret(Name="promwatch/token", SecretString="t0ken")
    config = parse_config("""
scrape_configs:
  - {job_name: basic, basic_auth: {username: scraper, password: "ssm:/promwatch/pw"}}
  - {job_name: bearer, authorization: {credentials: "secretsmanager:promwatch/token"}}
""")
    resolver = SecretResolver()
    # then the Authorization headers carry the resolved values, and the config never showed them.
    basic, bearer = config.scrape_configs
    assert authorization_header(basic, resolver) == "Basic c2NyYXBlcjpzM2NyZXQ="
    assert authorization_header(bearer, resolver) == "Bearer t0ken"
    assert "s3cret" not in repr(config)


def test_cloudwatch_logs_output(aws: str, exporters: list[Exporter]) -> None:
    # Given --output logs:GROUP:STREAM,
    exporter = exporters[0]
    result = _scrape_process(f"http://{exporter.address}/metrics", "--job", "api",
                             "--output", "logs:/promwatch/scrape-test:run-1")
    # then nothing goes to stdout and the EMF documents are in the log stream, each valid.
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    events = boto3.client("logs").get_log_events(logGroupName="/promwatch/scrape-test", logStreamName="run-1")["events"]
    documents = _documents("\n".join(e["message"] for e in events))
    assert [d["up"] for d in documents if "up" in d] == [1]
