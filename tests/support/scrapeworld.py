"""A scrape set-up for the fault-injection tests: canned targets whose counter follows the
test's script, the DynamoDB state table and the CloudWatch Logs sink reached through the
fault proxy, and what was published, read back from the moto server directly.

Each target is a real HTTP server on 127.0.0.1 that serves ``requests_total`` (a counter the test moves: 0 -> 30 -> 80) and
``temperature`` (a gauge). The sum of the published increases of ``requests_total`` must equal
the counter's true increase: nothing lost, nothing counted twice.

A slow target takes its time on the world's :class:`VirtualClock`, the monotonic clock the
scrape measures its deadlines with, not on the machine's: a test of the Lambda deadline gets
the same outcome however busy the machine is.
"""
from __future__ import annotations

import http.server
import json
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3
from promwatch.coldstart import aws_client
from promwatch.emf import problems
from promwatch.scrape import ScrapeRuntime, ScrapeSettings, parse_config, run_cycle
from promwatch.scrape.report import CycleReport
from promwatch.sinks import CloudWatchLogsSink
from promwatch.state import DynamoDBStateStore

from tests.support.clock import recent_hour_ms

T0 = recent_hour_ms() / 1000
"""Clock of cycle 0, a recent hour (CloudWatch Logs refuses events older than 14 days); each cycle is
``CYCLE_SECONDS`` later (claims of a cycle that died lapse by then: the job timeout plus the
claim margin is 70 s)."""
CYCLE_SECONDS = 120.0
JOB = "app"
LOG_GROUP = "/promwatch/faults"
LOG_STREAM = "scrape"
COUNTER = "requests_total"
GAUGE = "temperature"
QUICK = {"read_timeout": 0.5, "connect_timeout": 0.5}
"""Client timeouts of the tests: a hung call gives up fast."""
SCHEDULE = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}, "version": "0", "id": "1",
            "account": "123456789012", "time": "2026-12-04T15:00:00Z", "region": "us-east-1", "resources": []}
"""The EventBridge schedule's event."""


def sqs_event(*bodies: str, ids: Iterable[str] | None = None) -> dict[str, Any]:
    """An SQS event of the fan-out queue carrying ``bodies`` (message ids ``m0``, ``m1``... unless given)."""
    names = list(ids) if ids is not None else [f"m{i}" for i in range(len(bodies))]
    return {"Records": [
        {"messageId": name, "receiptHandle": f"r-{name}", "body": body,
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795532400000",
                        "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1795532400010"},
         "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:promwatch-fanout", "awsRegion": "us-east-1"}
        for name, body in zip(names, bodies, strict=True)]}


def page(value: float) -> bytes:
    """A target's page with the counter at ``value``."""
    return (f"# TYPE requests counter\nrequests_total {value:g}\n"
            f"# TYPE temperature gauge\ntemperature 21.5\n").encode()


class VirtualClock:
    """Monotonic seconds that pass only when a slow target answers (by its delay).

    It counts its readings, so that a target can wait until the client has looked at the time
    after the target's delay passed: the client checks its deadline before each read.
    """

    START = 1000.0

    def __init__(self) -> None:
        self._now = self.START
        self._readings = 0
        self._read = threading.Condition()

    def __call__(self) -> float:
        with self._read:
            self._readings += 1
            self._read.notify_all()
            return self._now

    def advance(self, seconds: float) -> int:
        """Let ``seconds`` pass; how many readings were taken before."""
        with self._read:
            self._now += seconds
            return self._readings

    def wait_reading_after(self, readings: int, timeout: float) -> bool:
        """Wait until the clock is read once more than ``readings`` (False: ``timeout`` real seconds passed)."""
        with self._read:
            return self._read.wait_for(lambda: self._readings > readings, timeout)


class _Target(http.server.BaseHTTPRequestHandler):
    server: _TargetServer

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        body = page(self.server.value)
        head = (f"HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        if not self.server.delay:
            self.wfile.write(head + body)
            return
        # A slow answer: its delay passes on the virtual clock, then the status line goes out
        # and the rest waits for the client's next look at the clock (its deadline check before
        # reading on), which therefore sees the time after the delay.
        readings = self.server.clock.advance(self.server.delay)
        status, rest = head.split(b"\r\n", 1)
        try:
            self.wfile.write(status + b"\r\n")
            if not self.server.clock.wait_reading_after(readings, timeout=30.0):
                return
            self.wfile.write(rest + body)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up at its deadline: nobody to answer


class _TargetServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, delay: float, clock: VirtualClock) -> None:
        super().__init__(("127.0.0.1", 0), _Target)
        self.value = 0.0
        self.delay = delay
        self.clock = clock


class Environment:
    """What one execution environment keeps: its state store and sink (their own clients,
    made through the proxy that ``AWS_ENDPOINT_URL`` names)."""

    def __init__(self, table: str, stream: str = LOG_STREAM) -> None:
        self.store = DynamoDBStateStore(table, client=aws_client("dynamodb", **QUICK))
        self.sink = CloudWatchLogsSink(LOG_GROUP, stream, client=aws_client("logs", max_attempts=1, **QUICK),
                                       base_delay=0.001, max_delay=0.01)


class ScrapeWorld:
    """Targets ``127.0.0.1:PORT`` of job ``app``, their counters, and what was published.

    Parameters
    ----------
    moto
        The moto server's URL (read-back goes there directly, never through the proxy).
    table
        The state table (made by the ``table`` fixture).
    targets
        How many targets.
    delay
        Seconds each target takes to answer, on :attr:`clock` (the scrapes' monotonic clock).
    """

    def __init__(self, moto: str, table: str, targets: int = 1, *, delay: float = 0.0) -> None:
        self.moto = moto
        self.table = table
        self.clock = VirtualClock()
        self.servers = {}
        for _ in range(targets):
            server = _TargetServer(delay, self.clock)
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            self.servers[f"127.0.0.1:{server.server_address[1]}"] = server
        self.hosts = list(self.servers)
        listed = ", ".join(f"'{host}'" for host in self.hosts)
        self.config = parse_config(
            f"global: {{scrape_interval: 1m}}\nscrape_configs: [{{job_name: {JOB}, static_configs: [{{targets: [{listed}]}}]}}]"
        )
        self.cycle = 0
        self.values: dict[str, float] = {}
        self.set(0)

    def set(self, value: float, *hosts: str) -> None:
        """Move the counter of ``hosts`` (all when none) to ``value``."""
        for host in hosts or self.hosts:
            self.values[host] = value
            self.servers[host].value = value

    def close(self) -> None:
        """Stop the targets (slow answers still pending are dropped)."""
        for server in self.servers.values():
            server.shutdown()
            server.server_close()

    def environment(self, stream: str = LOG_STREAM) -> Environment:
        """A new execution environment (fresh clients: no retry quota spent), writing to ``stream``."""
        return Environment(self.table, stream)

    def now(self) -> float:
        return T0 + CYCLE_SECONDS * self.cycle

    def run(self, env: Environment, *, advance: bool = True, **kwargs: Any) -> CycleReport:
        """One cycle of the next tick (``advance=False``: of the current one, as an invocation
        running at the same time as another)."""
        self.cycle += advance
        now = self.now()
        return run_cycle(self.config, state_store=env.store, sink=env.sink, clock=lambda: now, stage="faults",
                         monotonic=self.clock, **kwargs)

    def runtime(self, env: Environment, tmp_path: Path, **settings: Any) -> ScrapeRuntime:
        """The scrape function's runtime for these targets (config in a file), with the
        environment's store and sink; ``settings``: more :class:`ScrapeSettings`."""
        config = tmp_path / "scrape.yaml"
        listed = ", ".join(f"'{host}'" for host in self.hosts)
        config.write_text(f"scrape_configs: [{{job_name: {JOB}, static_configs: [{{targets: [{listed}]}}]}}]")
        return ScrapeRuntime(ScrapeSettings(config_source=str(config), stage="faults", **settings),
                             state_store=env.store, sink=env.sink, monotonic=self.clock)

    def key(self, host: str) -> str:
        return f"{JOB}|http://{host}/metrics"

    # --- what was published ----------------------------------------------------------------

    def delivered(self) -> list[dict[str, Any]]:
        """Every EMF document in the sinks' log group, in time order (read from moto, not through the proxy)."""
        logs = boto3.client("logs", endpoint_url=self.moto)
        events: list[dict[str, Any]] = []
        try:
            for response in logs.get_paginator("filter_log_events").paginate(logGroupName=LOG_GROUP):
                events += response["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        events.sort(key=lambda e: (e["timestamp"], e["ingestionTime"]))
        return checked(json.loads(e["message"]) for e in events)

    def baseline_version(self, host: str) -> int:
        """The stored version of the target's baselines (0: none)."""
        item = boto3.client("dynamodb", endpoint_url=self.moto).get_item(
            TableName=self.table, Key={"pk": {"S": f"{JOB}#{host}"}}, ConsistentRead=True).get("Item")
        return int(item["version"]["N"]) if item else 0


def checked(documents: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents, each a valid EMF document."""
    listed = list(documents)
    for document in listed:
        assert problems(document) == [], document
    return listed


def stdout_documents(out: str) -> list[dict[str, Any]]:
    """The EMF documents written to stdout (captured)."""
    return checked(json.loads(line) for line in out.splitlines() if line.startswith("{"))


def increases(documents: Iterable[dict[str, Any]]) -> Counter[str]:
    """Published increases of the counter, summed per instance."""
    total: Counter[str] = Counter()
    for document in documents:
        if COUNTER in document:
            total[document["instance"]] += document[COUNTER]
    return total


def published(documents: Iterable[dict[str, Any]], metric: str) -> list[tuple[str, float]]:
    """``(instance, value)`` of each data document carrying ``metric``."""
    return [(d["instance"], d[metric]) for d in documents if metric in d and "Component" not in d]


def self_metric(documents: Iterable[dict[str, Any]], name: str, **dimensions: str) -> float:
    """The sum of self-metric ``name`` (namespace Promwatch) over the documents matching ``dimensions``."""
    return sum(d[name] for d in documents
               if name in d and "Component" in d and all(d.get(k) == v for k, v in dimensions.items()))
