"""One execution environment of the fleet benchmark (``bench_fleet``), in a process of its own.

As a Lambda execution environment, it keeps one :class:`promwatch.scrape.ScrapeRuntime` (its
config cache, DynamoDB client, connection pool and discovery cache) from one invocation to the
next, and runs one invocation at a time. Commands come over a pipe:

* ``schedule``: one scheduled invocation (discovers, scrapes its share, fans out the rest).
* ``drain``: Lambda's SQS poller and the invocations it makes: receive up to 10 messages (the
  template's ``BatchSize``), invoke with them as Lambda's SQS event, delete the messages not in
  ``batchItemFailures``; until the queue is empty once the scheduled invocation is over.
* ``cli``: ``promwatch scrape --config F --state-file DB``, in this process.

Each invocation's record: wall and CPU seconds (the process's: it runs nothing else meanwhile),
its AWS calls by ``service.Operation`` (botocore's ``before-call`` event on every client the
process makes; ``before-send`` counts HTTP requests, retries included), and the self-metrics
its EMF output carried (the output is counted and thrown away, as CloudWatch's extraction is not
what is measured). The poller's own SQS calls are counted apart.
"""
from __future__ import annotations

import json
import logging
import os
import resource
import threading
import time
from collections import Counter
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from typing import Any

DISCOVERY_READ_TIMEOUT_SECONDS = 120.0
"""How long discovery's clients wait for an answer here: moto renders DescribeInstances at
~3 ms an instance and pages by reservation, so it answers 1,000 instances in 3-5 s and 5,000
in 15-25 s, past promwatch's 5 s read timeout (real EC2 answers a 1,000-instance page sooner)."""
LAMBDA_TIMEOUT_SECONDS = 60.0
"""template.yaml's ``Timeout`` of the scrape function: each invocation's deadline."""
SQS_BATCH_SIZE = 10
"""template.yaml's ``BatchSize`` of the fan-out event source."""
SCHEDULE_EVENT = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}, "version": "0",
                  "id": "1", "account": "123456789012", "time": "2026-12-04T15:00:00Z", "region": "us-east-1",
                  "resources": []}


class CallCounter:
    """AWS calls and HTTP requests by ``phase`` (function or poller) and ``service.Operation``."""

    def __init__(self) -> None:
        self.phase = "function"
        self.calls: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()

    def install(self) -> None:
        """Count the calls of every botocore client made from now on in this process."""
        import botocore.session

        original = botocore.session.Session.create_client
        counter = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-call", counter._on_call)
            client.meta.events.register("before-send", counter._on_send)
            return client

        botocore.session.Session.create_client = create_client

    def _name(self, event_name: str) -> str:
        _, service, operation = event_name.split(".", 2)
        return f"{self.phase}:{service}.{operation}"

    def _on_call(self, event_name: str, **_: Any) -> None:
        with self._lock:
            self.calls[self._name(event_name)] += 1

    def _on_send(self, event_name: str, **_: Any) -> None:
        with self._lock:
            self.requests[self._name(event_name)] += 1


class OutputCounter:
    """A text stream that counts EMF lines and adds up the cycle self-metrics they carry."""

    _SELF_METRICS = ("TargetsScraped", "TargetsUp", "TargetsFailed", "TargetsSkipped", "TargetsBusy",
                     "StateErrors", "TargetsUndelivered", "StateCommitFailures", "FanoutTargets", "DiscoveryErrors")

    def __init__(self) -> None:
        self.lines = 0
        self.bytes = 0
        self.metrics: Counter[str] = Counter()
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self.lines += text.count("\n")
            self.bytes += len(text)
            if '"Component":"scrape"' in text:
                for line in text.splitlines():
                    if '"Component":"scrape"' in line:
                        document = json.loads(line)
                        self.metrics.update({k: int(document[k]) for k in self._SELF_METRICS if k in document})
        return len(text)

    def flush(self) -> None:
        return None


class Environment:
    """The process's runtime, counters and the measuring of its invocations."""

    def __init__(self, settings_environ: dict[str, str]) -> None:
        os.environ.update(settings_environ)
        self.calls = CallCounter()
        self.calls.install()
        self.output = OutputCounter()
        self.log_records: Counter[str] = Counter()
        self.first_warnings: list[str] = []
        logging.getLogger("promwatch").addHandler(_CountingHandler(self))
        logging.getLogger("promwatch").setLevel(logging.WARNING)
        self._runtime: Any = None
        self._poller: Any = None

    @property
    def runtime(self) -> Any:
        """The environment's ScrapeRuntime (INIT: made on first use, as the handler module makes it)."""
        if self._runtime is None:
            from promwatch.scrape import ScrapeRuntime, ScrapeSettings
            from promwatch.sinks import StdoutSink

            self._runtime = ScrapeRuntime(ScrapeSettings.from_env(), sink=StdoutSink(stream=self.output),
                                          discovery_env=discovery_env())
        return self._runtime

    def init(self) -> None:
        """What Lambda's INIT builds before the first invocation (functions/scrape/app.py: the
        runtime), and the poller's SQS client."""
        from promwatch.coldstart import aws_client

        assert self.runtime is not None
        self.calls.phase = "poller"
        self._poller = aws_client("sqs")

    def measure(self, kind: str, work: Any) -> dict[str, Any]:
        """Run ``work()`` as one invocation and return its record."""
        calls, requests = self.calls.calls.copy(), self.calls.requests.copy()
        lines, metrics = self.output.lines, self.output.metrics.copy()
        self.calls.phase = "function"
        started, cpu_started = time.monotonic(), time.process_time()
        result = work()
        ended, cpu_ended = time.monotonic(), time.process_time()
        self.calls.phase = "poller"
        return {
            "kind": kind, "started": started, "ended": ended, "wall": ended - started, "cpu": cpu_ended - cpu_started,
            "calls": dict(self.calls.calls - calls), "requests": dict(self.calls.requests - requests),
            "emf_lines": self.output.lines - lines, "metrics": dict(self.output.metrics - metrics), "result": result,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }

    def schedule(self) -> dict[str, Any]:
        """One scheduled invocation."""
        runtime = self.runtime  # INIT happens outside the invocation
        return self.measure("schedule", lambda: _summary(runtime.handle(
            SCHEDULE_EVENT, deadline=time.monotonic() + LAMBDA_TIMEOUT_SECONDS)))

    def drain(self, queue_url: str, scheduled_done: Event) -> dict[str, Any]:
        """Poll the fan-out queue and invoke with each batch until it is empty and the
        scheduled invocation is over: the invocations' records and the poller's calls
        (receives that brought messages, receives that waited in vain, deletes)."""
        runtime = self.runtime
        records: list[dict[str, Any]] = []
        poller: Counter[str] = Counter()
        while True:
            over = scheduled_done.is_set()
            self.calls.phase = "poller"
            received = self._poller.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=SQS_BATCH_SIZE, WaitTimeSeconds=0 if over else 1,
                AttributeNames=["All"]).get("Messages", [])
            poller["sqs.ReceiveMessage" if received else "sqs.ReceiveMessage (empty)"] += 1
            if not received:
                if over:
                    return {"invocations": records, "poller": dict(poller)}
                continue
            event = sqs_event(received, queue_url)
            record = self.measure("sqs", lambda event=event: runtime.handle(
                event, deadline=time.monotonic() + LAMBDA_TIMEOUT_SECONDS))
            failed = {f["itemIdentifier"] for f in record["result"]["batchItemFailures"]}
            done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(received) if m["MessageId"] not in failed]
            if done:
                self._poller.delete_message_batch(QueueUrl=queue_url, Entries=done)
                poller["sqs.DeleteMessageBatch"] += 1
            record["result"] = {"messages": len(received), "failed_messages": len(failed)}
            records.append(record)

    def cli(self, config: str, state_file: str) -> dict[str, Any]:
        """What ``promwatch scrape --config CONFIG --state-file STATE_FILE`` does (a new
        process each run: discovery and connections start afresh), in this process."""
        from promwatch.discovery import DiscoveryCache
        from promwatch.httpclient import ConnectionPool
        from promwatch.scrape import discoverer, load_config, run_cycle
        from promwatch.sinks import StdoutSink
        from promwatch_tools.statefile import SqliteStateStore

        def scrape() -> dict[str, Any]:
            with SqliteStateStore(state_file) as store:
                report = run_cycle(load_config(config), state_store=store, sink=StdoutSink(stream=self.output),
                                   discover=discoverer(DiscoveryCache(), discovery_env()), pool=ConnectionPool())
            return _summary(report.to_dict())

        return self.measure("cli", scrape)


def discovery_env() -> Any:
    """Discovery's AWS clients as promwatch makes them, but waiting longer for moto's answers."""
    from promwatch.coldstart import aws_client
    from promwatch.discovery import DiscoveryEnv

    clients: dict[tuple[str, str | None], Any] = {}

    def client(service: str, region: str | None) -> Any:
        if (service, region) not in clients:
            clients[service, region] = aws_client(service, region_name=region,
                                                  read_timeout=DISCOVERY_READ_TIMEOUT_SECONDS)
        return clients[service, region]

    return DiscoveryEnv(aws_client=client)


class _CountingHandler(logging.Handler):
    def __init__(self, env: Environment) -> None:
        super().__init__(logging.WARNING)
        self.env = env

    def emit(self, record: logging.LogRecord) -> None:
        self.env.log_records[record.levelname] += 1
        if len(self.env.first_warnings) < 5:
            self.env.first_warnings.append(record.getMessage()[:300])


def sqs_event(messages: list[dict[str, Any]], queue_url: str) -> dict[str, Any]:
    """Lambda's SQS event for ``messages`` (ReceiveMessage's answer)."""
    name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    return {"Records": [
        {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
         "attributes": {k: m["Attributes"][k] for k in ("ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                                        "ApproximateFirstReceiveTimestamp")},
         "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
         "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{name}", "awsRegion": "us-east-1"}
        for m in messages]}


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if not isinstance(v, list | dict)}


def serve(conn: Connection, settings_environ: dict[str, str], scheduled_done: Event) -> None:
    """The process's loop: one command at a time from ``conn``, its answer back."""
    env = Environment(settings_environ)
    env.init()
    conn.send("ready")
    while True:
        command, *args = conn.recv()
        if command == "stop":
            conn.send({"logs": dict(env.log_records), "warnings": env.first_warnings})
            return
        if command == "schedule":
            conn.send(env.schedule())
        elif command == "drain":
            conn.send(env.drain(args[0], scheduled_done))
        elif command == "cli":
            conn.send(env.cli(*args))
