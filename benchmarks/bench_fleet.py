"""Fleet: can 1,000 targets be scraped every minute? One cycle of the deployed shape, in process.

The pieces, all on this machine:

* targets: one server answering on every loopback address (``benchmarks/fleet_targets.py``:
  the node_exporter page, 507 samples, per-address counters that grow), at the 127.0.x.y
  addresses moto gives EC2 instances of a VPC 127.0.0.0/16;
* AWS: a moto server (as the tests start it) holding the instances, the DynamoDB state table
  and the SQS fan-out queue (template.yaml's visibility timeout);
* the scrape function: separate processes, one per Lambda execution environment
  (``benchmarks/fleet_env.py``), each with its own ScrapeRuntime and AWS clients, set up by the
  ``PROMWATCH_*`` variables template.yaml gives the function (``max_targets_per_invocation``
  50, its default) with ``AWS_ENDPOINT_URL`` pointing at moto. One environment takes the
  scheduled invocation: ``ec2_sd_configs`` discovery, the first 50 targets, the rest fanned out
  (50 targets a message). :data:`CONSUMERS` others poll the queue as Lambda's SQS poller does
  (10 messages a batch, template.yaml's ``BatchSize``; ``MaximumConcurrency`` 20) and invoke
  with each batch, deleting the messages not reported failed, until the queue is empty.

A cycle's wall time runs from the scheduled invocation's start to the end of the last
invocation; function-seconds add up the invocations' wall times (what Lambda bills), CPU
seconds their processes' CPU time. AWS calls are counted with botocore's ``before-call``
event in every environment, per 1,000 targets; the poller's ReceiveMessage/DeleteMessageBatch
are Lambda's, not the function's, and listed apart (without its empty receives while waiting).
Two cycles per size: the first cold (new environments, no baselines; discovery runs), the
second warm (baselines, connections and the discovered list, ``refresh_interval: 5m``, kept).
The same 1,000 targets are also scraped by the CLI (``promwatch scrape --config F --state-file
DB``: one process, 16 workers, SQLite baselines, no fan-out), a new process for each run as
from cron (imports done beforehand, as the other environments' INIT).

Sizes: 100, 1,000 and 5,000 targets (``quick``: 100 and 1,000). moto is slow where AWS is
not: it creates 5,000 instances in about 30 s and lists them (DescribeInstances, one answer per
reservation whatever ``MaxResults`` says) in about 25 s, so discovery's clients wait up to
``fleet_env.DISCOVERY_READ_TIMEOUT_SECONDS`` here, and each cold cycle carries that listing;
moto serves every call from one process and closes each connection after its answer.
"""
from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks import fleet_env

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
CONSUMERS = 20
"""Environments polling the fan-out queue: template.yaml's ``MaximumConcurrency``."""
MAX_TARGETS_PER_INVOCATION = 50
TABLE = "promwatch-state"
QUEUE = "promwatch-fanout"
_CREATE_CHUNK = 1_000
_CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICK


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def _services() -> Iterator[dict[str, Any]]:
    """The moto server and the targets' server, started and stopped."""
    moto_port, targets_port = _free_port(), _free_port()
    moto = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1",
                             "-p", str(moto_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    targets = subprocess.Popen([sys.executable, "-m", "benchmarks.fleet_targets", str(targets_port)], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        endpoint = f"http://127.0.0.1:{moto_port}"
        _wait_http(f"{endpoint}/moto-api/")
        assert targets.stdout is not None and targets.stdout.readline().strip() == "ready"
        yield {"endpoint": endpoint, "moto": moto.pid, "targets": targets.pid, "port": targets_port}
    finally:
        for process in (moto, targets):
            process.terminate()
        for process in (moto, targets):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _aws_environ(endpoint: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}


def _provision(endpoint: str, targets: int, port: int, workdir: Path) -> dict[str, str]:
    """A fresh moto holding ``targets`` instances, the table and the queue; the config file."""
    import boto3

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    ec2 = session.client("ec2", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="127.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="127.0.0.0/16", AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    for start in range(0, targets, _CREATE_CHUNK):
        count = min(_CREATE_CHUNK, targets - start)
        tags = [{"Key": "team", "Value": "core"}, {"Key": "env", "Value": "prod"}, {"Key": "Name", "Value": "node"}]
        ec2.run_instances(ImageId="ami-12c6146b", MinCount=count, MaxCount=count, SubnetId=subnet,
                          InstanceType="t3.micro", TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    queue = session.client("sqs", endpoint_url=endpoint).create_queue(
        QueueName=QUEUE, Attributes={"VisibilityTimeout": "360"})["QueueUrl"]
    config = workdir / f"scrape-{targets}.yaml"
    config.write_text(f"""
global: {{scrape_interval: 1m, scrape_timeout: 10s}}
scrape_configs:
  - job_name: node
    ec2_sd_configs:
      - {{region: {REGION}, port: {port}, refresh_interval: 5m}}
    relabel_configs:
      - {{source_labels: [__meta_ec2_tag_env], regex: prod, action: keep}}
      - {{source_labels: [__meta_ec2_instance_id], target_label: instance_id}}
      - {{source_labels: [__meta_ec2_availability_zone], target_label: zone}}
""")
    return {"config": str(config), "queue": queue}


class _Environments:
    """The scheduled invocation's environment and the consumers', each a process."""

    def __init__(self, environ: dict[str, str], consumers: int) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["benchmarks.fleet_env", "promwatch.scrape", "botocore.session"])
        self.scheduled_done = context.Event()
        self.pipes = []
        self.processes = []
        for _ in range(consumers + 1):
            ours, theirs = context.Pipe()
            process = context.Process(target=fleet_env.serve, args=(theirs, environ, self.scheduled_done), daemon=True)
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)
        for pipe in self.pipes:
            assert pipe.recv() == "ready"

    def cycle(self, queue: str) -> tuple[list[dict[str, Any]], Counter[str]]:
        """One scheduled invocation and the fan-out it makes: every invocation's record, and
        the SQS poller's calls."""
        self.scheduled_done.clear()
        for pipe in self.pipes[1:]:
            pipe.send(("drain", queue))
        self.pipes[0].send(("schedule",))
        records = [self.pipes[0].recv()]
        self.scheduled_done.set()
        poller: Counter[str] = Counter()
        for pipe in self.pipes[1:]:
            drained = pipe.recv()
            records += drained["invocations"]
            poller.update(drained["poller"])
        return records, poller

    def command(self, *command: Any) -> Any:
        self.pipes[0].send(command)
        return self.pipes[0].recv()

    def close(self) -> dict[str, Any]:
        """Stop every process; the log records (warnings and errors) of all of them."""
        logs: Counter[str] = Counter()
        warnings: list[str] = []
        for pipe in self.pipes:
            pipe.send(("stop",))
            ended = pipe.recv()
            logs.update(ended["logs"])
            warnings += ended["warnings"]
        for process in self.processes:
            process.join(timeout=10)
        return {"logs": logs, "warnings": warnings[:5]}


def _measured(services: dict[str, Any], run: Any) -> tuple[Any, dict[str, float]]:
    """What ``run()`` returns and the CPU seconds moto and the targets' server spent meanwhile."""
    moto, targets = _cpu_seconds(services["moto"]), _cpu_seconds(services["targets"])
    returned = run()
    return returned, {"moto CPU s": _cpu_seconds(services["moto"]) - moto,
                     "targets CPU s": _cpu_seconds(services["targets"]) - targets}


def _rows(subject: str, targets: int, cycle: int, records: list[dict[str, Any]], services_cpu: dict[str, float],
          poller: Counter[str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The cycle row and the AWS calls row of one cycle's invocation records."""
    metrics: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    requests: Counter[str] = Counter()
    for record in records:
        metrics.update(record["metrics"])
        calls.update(record["calls"])
        requests.update(record["requests"])
    wall = max(r["ended"] for r in records) - min(r["started"] for r in records)
    function_s = sum(r["wall"] for r in records)
    cpu = sum(r["cpu"] for r in records)
    per_1k = 1_000 / targets
    problems = {k: metrics[k] for k in ("TargetsFailed", "TargetsSkipped", "TargetsBusy", "StateErrors",
                                        "TargetsUndelivered", "StateCommitFailures", "DiscoveryErrors") if metrics[k]}
    failed_messages = sum(r["result"].get("failed_messages", 0) for r in records if r["kind"] == "sqs")
    fanout_start = [r["started"] for r in records if r["kind"] == "sqs"]
    cycle_row = {
        "benchmark": "fleet: one scrape cycle",
        "subject": subject,
        "targets": targets,
        "cycle": "1 cold" if cycle == 1 else f"{cycle} warm",
        "up": metrics["TargetsUp"],
        "wall s": round(wall, 2),
        "function-s": round(function_s, 2),
        "CPU s": round(cpu, 2),
        "invocations": len(records),
        "slowest inv. s": round(max(r["wall"] for r in records), 2),
        "busiest inv. CPU s": round(max(r["cpu"] for r in records), 2),
        "max env RSS MB": round(max(r["max_rss_mb"] for r in records)),
        "first fan-out inv. at s": round(min(fanout_start) - records[0]["started"], 2) if fanout_start else "",
        "function-s /1k": round(function_s * per_1k, 2),
        "CPU s /1k": round(cpu * per_1k, 2),
        "AWS calls /1k": round(sum(v for k, v in calls.items() if k.startswith("function:")) * per_1k),
        "AWS retries": sum(requests.values()) - sum(calls.values()),
        **{k: round(v, 1) for k, v in services_cpu.items()},
        "problems": ", ".join(f"{k} {v}" for k, v in problems.items())
                    + (f", failed messages {failed_messages}" if failed_messages else ""),
    }
    calls_row: dict[str, Any] = {"benchmark": "fleet: AWS calls per 1,000 targets", "subject": subject,
                                 "targets": targets, "cycle": cycle_row["cycle"]}
    for name, count in sorted(calls.items()):
        calls_row[name.removeprefix("function:")] = round(count * per_1k, 1)
    for name, count in sorted((poller or {}).items()):
        if "(empty)" not in name:
            calls_row[f"poller {name}"] = round(count * per_1k, 1)
    return cycle_row, calls_row


def _lambda_cycles(services: dict[str, Any], targets: int, setup: dict[str, str],
                   cycles: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    environ = {**_aws_environ(services["endpoint"]), "PROMWATCH_SCRAPE_CONFIG": setup["config"],
               "PROMWATCH_STATE_TABLE": TABLE, "PROMWATCH_FANOUT_QUEUE_URL": setup["queue"],
               "PROMWATCH_MAX_TARGETS_PER_INVOCATION": str(MAX_TARGETS_PER_INVOCATION),
               "PROMWATCH_OUTPUT": "stdout", "PROMWATCH_STAGE": "bench"}
    environments = _Environments(environ, CONSUMERS)
    results = []
    try:
        for cycle in range(1, cycles + 1):
            (records, poller), cpu = _measured(services, lambda: environments.cycle(setup["queue"]))
            results.append(_rows(f"Lambda: schedule + SQS fan-out ({CONSUMERS} consumers)", targets, cycle, records,
                                 cpu, poller))
            print(f"  fleet {targets}: Lambda cycle {cycle}: {results[-1][0]['wall s']} s", file=sys.stderr, flush=True)
    finally:
        ended = environments.close()
    if ended["warnings"]:
        print(f"  fleet {targets}: logs {dict(ended['logs'])}; first: {ended['warnings']}", file=sys.stderr)
    return results


def _cli_cycles(services: dict[str, Any], targets: int, setup: dict[str, str], workdir: Path,
                cycles: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``promwatch scrape`` runs one after another, each in a new process (imports done) over
    the same SQLite file, as a cron job would run it."""
    results = []
    command = ("cli", setup["config"], str(workdir / f"state-{targets}.db"))
    for cycle in range(1, cycles + 1):
        environment = _Environments(_aws_environ(services["endpoint"]), 0)
        try:
            records, cpu = _measured(services, lambda environment=environment: [environment.command(*command)])
        finally:
            ended = environment.close()
        results.append(_rows("CLI: promwatch scrape --state-file", targets, cycle, records, cpu))
        if ended["warnings"]:
            print(f"  fleet {targets}: CLI logs {dict(ended['logs'])}; first: {ended['warnings']}", file=sys.stderr)
    return results


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Two cycles of each size through Lambda's shape, and of 1,000 targets through the CLI."""
    sizes = (100, 1_000) if quick else (100, 1_000, 5_000)
    results: list[tuple[dict[str, Any], dict[str, Any]]] = []
    with _services() as services, tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        for targets in sizes:
            started = time.monotonic()
            setup = _provision(services["endpoint"], targets, services["port"], Path(tmp))
            print(f"  fleet {targets}: provisioned in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
            results += _lambda_cycles(services, targets, setup, cycles=2)
            if targets == 1_000:
                results += _cli_cycles(services, targets, setup, Path(tmp), cycles=2)
    return [row for row, _ in results] + [calls for _, calls in results]


if __name__ == "__main__":
    for each in run(quick="--quick" in sys.argv):
        print(each)
