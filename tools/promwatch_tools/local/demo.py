"""``promwatch demo``: the whole pipeline against the embedded AWS emulator, with a preview.

Stages (each one reports and the run goes on without it if its piece is missing):

1. start the emulator (moto server) and point boto3 at it;
2. create the stack's data resources from template.yaml (table, queues, log groups, stream,
   subscription filter);
3. start the task-service (and node_exporter when installed) and write a scrape config;
4. run the scrape function in-process on its schedule, as EventBridge would, with traffic
   between cycles; its stdout goes to its log group, as in Lambda;
5. feed Container Insights performance events of a small cluster into their log group; the
   subscription filter puts them on the Kinesis stream; the insights function drains it;
6. emulate CloudWatch's extraction of the EMF in the functions' log groups into metrics;
7. apply the dashboards spec to the emulator (or make dashboards for what landed);
8. write the HTML preview and print a summary.

Every process it starts is stopped on the way out, on errors and Ctrl-C too.
"""
from __future__ import annotations

import base64
import random
import shutil
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from promwatch.safeload import load_yaml, read_text

from promwatch_tools.insights_sample import sample_cluster_events
from promwatch_tools.local.cloudwatch import LogExtractor, read_log_messages
from promwatch_tools.local.demo_otlp import copy_project_config, emf_bytes
from promwatch_tools.local.emulator import Emulator, emulated_aws, free_port, stop_process, wait_until_answers
from promwatch_tools.local.errors import LocalError, SampleAppError
from promwatch_tools.local.insightsfeed import by_minute, performance_log_events, read_stream
from promwatch_tools.local.lambdalogs import FunctionLogs
from promwatch_tools.local.otlpreceiver import OtlpReceiver
from promwatch_tools.local.report import DemoReport
from promwatch_tools.local.sampleapp import (
    RunningApp,
    TrafficPlanner,
    drive,
    find_app_dir,
    running_task_service,
)
from promwatch_tools.local.stack import StackResources, create_stack, load_template, plan_stack

TASK_SERVICE_JOB = "prod/task-service"
NODE_JOB = "node"
STACK_NAME = "promwatch-local"
STACK_PARAMETERS = {"Stage": "dev", "InsightsTrigger": "kinesis"}
"""Parameter overrides of the local stack (those the template declares): the Kinesis path,
because the emulator delivers Logs subscriptions to streams but runs no functions."""
NODE_FAMILIES = (
    "node_cpu_seconds_total|node_load1|node_memory_MemAvailable_bytes|node_memory_MemTotal_bytes"
    "|node_network_receive_bytes_total|node_network_transmit_bytes_total|node_filesystem_avail_bytes"
)


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """How long and how hard the demo runs, and where it writes."""

    root: Path = field(default_factory=Path.cwd)
    out_dir: Path = Path("out/demo")
    cycles: int = 6
    interval_s: float = 5.0
    requests_per_cycle: int = 60
    insights_minutes: int = 10
    seed: int = 7
    node_exporter: bool = True

    @classmethod
    def quick(cls, root: Path, out_dir: Path) -> DemoOptions:
        """A short run (for tests): 3 cycles, 2 s apart, fewer requests and events."""
        return cls(root=root, out_dir=out_dir, cycles=3, interval_s=2.0, requests_per_cycle=25,
                   insights_minutes=3, node_exporter=False)


def find_project_root(start: Path) -> Path:
    """The project directory (holding template.yaml): ``start`` or one above it, else the source tree's.

    Raises
    ------
    LocalError
        When none holds template.yaml.
    """
    for candidate in (start, *start.parents, Path(__file__).resolve().parents[3]):
        if (candidate / "template.yaml").is_file():
            return candidate
    raise LocalError(f"no template.yaml in {start} or above it; expected --root naming the promwatch project")


def scheduled_event(now: datetime, *, region: str, account_id: str, rule: str) -> dict[str, Any]:
    """The event EventBridge sends a scheduled target (pure, given the clock)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account_id}:rule/{rule}"],
        "detail": {},
    }


def kinesis_event(records: list[dict[str, Any]], *, stream_arn: str, region: str) -> dict[str, Any]:
    """The event a Kinesis event source mapping passes to a function for ``records`` (pure)."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode(),
                    "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{record['ShardId']}:{record['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::123456789012:role/{STACK_NAME}-insights",
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


def scrape_config(
    task_service: str, node_exporter: str | None, *, interval_s: float, project: dict[str, Any] | None = None,
    otlp_endpoint: str | None = None,
) -> dict[str, Any]:
    """The demo's scrape config (pure).

    With the project's config (``config/scrape.yaml``), its ``prod/task-service`` and
    ``node`` jobs are kept as they are (declarations, relabelling, namespaces) with their
    targets pointed at the running apps; other jobs are left out. Without it, the
    task-service is job ``prod/task-service`` with every label but ``instance`` a dimension,
    and node_exporter job ``node`` keeps a few families. With ``otlp_endpoint`` the
    task-service job is sent both ways: ``outputs: [emf, {type: otlp, endpoint: ...}]``.
    """
    config = _scrape_jobs(task_service, node_exporter, interval_s=interval_s, project=project)
    if otlp_endpoint:
        for job in config["scrape_configs"]:
            if job.get("job_name") == TASK_SERVICE_JOB:
                job["outputs"] = ["emf", {"type": "otlp", "endpoint": otlp_endpoint}]
    return config


def _scrape_jobs(
    task_service: str, node_exporter: str | None, *, interval_s: float, project: dict[str, Any] | None
) -> dict[str, Any]:
    seconds = max(1, round(interval_s))
    timing = {"scrape_interval": f"{seconds}s", "scrape_timeout": f"{seconds}s"}
    targets = {TASK_SERVICE_JOB: task_service, NODE_JOB: node_exporter}
    if project and any(job.get("job_name") == TASK_SERVICE_JOB for job in project.get("scrape_configs") or []):
        kept: list[dict[str, Any]] = []
        for job in project["scrape_configs"]:
            target = targets.get(job.get("job_name"))
            if target is None:
                continue
            labels = {k: v for c in job.get("static_configs") or [] for k, v in (c.get("labels") or {}).items()}
            job = {k: v for k, v in job.items() if k not in ("scrape_interval", "scrape_timeout")}
            job["static_configs"] = [{"targets": [target], **({"labels": labels} if labels else {})}]
            kept.append(job)
        return {"global": {**(project.get("global") or {}), **timing}, "scrape_configs": kept}
    jobs: list[dict[str, Any]] = [{
        "job_name": TASK_SERVICE_JOB,
        "static_configs": [{"targets": [task_service], "labels": {"service": "task-service"}}],
        "emf": {"log_only_labels": ["instance", "service"]},
    }]
    if node_exporter:
        jobs.append({
            "job_name": NODE_JOB,
            "static_configs": [{"targets": [node_exporter]}],
            "metric_relabel_configs": [
                {"source_labels": ["__name__"], "regex": NODE_FAMILIES, "action": "keep"},
                {"source_labels": ["mode"], "regex": "(irq|softirq|steal|nice|guest.*)", "action": "drop"},
                {"source_labels": ["fstype"], "regex": "(tmpfs|overlay|squashfs)", "action": "drop"},
            ],
            "emf": {"log_only_labels": ["instance"]},
        })
    return {"global": timing, "scrape_configs": jobs}


@contextmanager
def running_node_exporter() -> Iterator[str | None]:
    """Start Debian's prometheus-node-exporter on a free port; yields ``host:port`` or None if absent."""
    binary = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if binary is None:
        yield None
        return
    port = free_port()
    process = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/metrics", timeout_s=15, alive=lambda: process.poll() is None)
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(process)


def _local_function(name: str, options: DemoOptions, parameters: dict[str, str], env: dict[str, str]) -> Any:
    from promwatch_tools.local.invoke import LocalFunction

    return LocalFunction(name, template=options.root / "template.yaml", parameters=parameters,
                         env=env, stack_name=STACK_NAME)


class Demo:
    """One run of the demo; :meth:`run` does every stage and returns the report."""

    def __init__(self, options: DemoOptions, *, echo: Callable[[str], None] = print) -> None:
        self.options = options
        self.template = load_template(options.root / "template.yaml")
        declared = self.template.get("Parameters") or {}
        self.parameters = {k: v for k, v in STACK_PARAMETERS.items() if k in declared}
        self.report = DemoReport(started=time.time())
        self._print = echo
        self.traffic = TrafficPlanner(random.Random(options.seed))

    def echo(self, line: str) -> None:
        """Print a progress line (and keep it for the preview page)."""
        self.report.log.append(line)
        self._print(line)

    def run(self) -> DemoReport:
        """Run every stage; the emulator and the apps are stopped whatever happens."""
        out_dir = self.options.root / self.options.out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:
            emulator = stack.enter_context(emulated_aws())
            self.report.emulator = emulator.endpoint
            self.echo(f"emulator  moto server at {emulator.endpoint} (AWS_ENDPOINT_URL); no AWS account, no Docker")
            resources = self._create_stack(emulator)
            extractor = LogExtractor(logs_client=emulator.client("logs"), cloudwatch_client=emulator.client("cloudwatch"))
            app, kind = self._start_app(stack)
            self.report.task_service = app.url
            node = stack.enter_context(running_node_exporter()) if self.options.node_exporter else None
            self.report.node_exporter = node
            self.echo(f"apps      task-service {app.url} ({kind})"
                      + (f"; node_exporter http://{node}" if node else ""))
            receiver = stack.enter_context(emulator.otlp_receiver())
            self.report.otlp_url = receiver.url
            config_dir = copy_project_config(self.options.root / "config", out_dir / "config")
            project_config = self.options.root / "config" / "scrape.yaml"
            project = load_yaml(read_text(project_config)) if project_config.is_file() else None
            config_path = config_dir / "scrape.yaml"
            config_path.write_text(yaml.safe_dump(
                scrape_config(app.target, node, interval_s=self.options.interval_s, project=project,
                              otlp_endpoint=receiver.url), sort_keys=False))
            self.echo(f"config    {config_path}: " + ("the jobs of config/scrape.yaml" if project else "built-in jobs")
                      + f" pointed at the running apps; {TASK_SERVICE_JOB} sent both ways: EMF and OTLP to "
                      f"{receiver.url} (SigV4 with the emulator's credentials)")
            self._scrape(emulator, resources, app, config_path, extractor, receiver)
            self._insights(emulator, resources, extractor)
            from promwatch_tools.local.demo_results import write_preview

            self.report.preview = write_preview(
                emulator, extractor, out_dir=out_dir, root=self.options.root, report=self.report,
                period_s=max(1, round(self.options.interval_s)), echo=self.echo, receiver=receiver,
                spec_dir=config_dir / "dashboards",
            )
        self.report.finished = time.time()
        return self.report

    def _start_app(self, stack: ExitStack) -> tuple[RunningApp, str]:
        """The Express task-service; its Python stand-in when Node.js is not available."""
        try:
            app = stack.enter_context(running_task_service(find_app_dir(self.options.root)))
            return app, "Express + prometheus-api-metrics"
        except SampleAppError as error:
            self.echo(f"apps      the Express task-service cannot run here ({str(error).splitlines()[0]}); "
                      "using its Python stand-in")
        from promwatch_tools.local.pyapp import running_python_task_service

        return stack.enter_context(running_python_task_service()), "Python stand-in, prometheus_client"

    def _create_stack(self, emulator: Emulator) -> StackResources:
        plan = plan_stack(self.template, stack_name=STACK_NAME, parameters=self.parameters, region=emulator.region)
        resources = create_stack(plan, client=emulator.client)
        self.report.resources = [(r.type, r.name) for r in resources.created]
        kinds = Counter(r.type.split("::")[-1] for r in resources.created)
        self.echo("stack     " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
                  + " created from template.yaml")
        for resource, reason in resources.skipped:
            self.echo(f"stack     {resource.logical_id} not created: {reason}")
        return resources

    def _scrape(self, emulator: Emulator, resources: StackResources, app: RunningApp, config: Path,
                extractor: LogExtractor, receiver: OtlpReceiver) -> None:
        env = {"PROMWATCH_SCRAPE_CONFIG": str(config.resolve()), "PROMWATCH_OUTPUT": "stdout",
               "PROMWATCH_FANOUT_QUEUE_URL": resources.physical_ids.get("FanoutQueue", "")}
        function = _local_function("ScrapeFunction", self.options, self.parameters, env)
        logs = FunctionLogs(function.spec.log_group, client=emulator.client("logs"))
        # No traffic before the first scrape: every request made is then one the pipeline must
        # count (series that first appear after a target's first scrape count from zero).
        for cycle in range(self.options.cycles):
            started = time.monotonic()
            event = scheduled_event(datetime.now(UTC), region=emulator.region,
                                    account_id="123456789012", rule=f"{STACK_NAME}-scrape-schedule")
            with logs.capturing():
                result = function.invoke(event)
            if not result.ok:
                raise LocalError(f"scrape invocation {cycle + 1} failed: {result.error}")
            self.report.scrape_results.append(result.payload)
            extraction = extractor.extract_groups([function.spec.log_group])
            if cycle < self.options.cycles - 1:
                made = drive(app.url, self.traffic.plan(self.options.requests_per_cycle))
                self.report.requests_made.update(made)
            self.echo(f"scrape    cycle {cycle + 1}/{self.options.cycles}: {result.duration_ms:.0f} ms, "
                      f"{extraction.emf_events} EMF events -> {len(extraction.datums)} metric data"
                      + (f", {len(extraction.rejected)} rejected" if extraction.rejected else "")
                      + f"; OTLP: {len(receiver.requests())} requests accepted so far")
            if cycle < self.options.cycles - 1:
                time.sleep(max(0.0, self.options.interval_s - (time.monotonic() - started)))
        self.report.scrape_log_group = function.spec.log_group
        self.report.emf_bytes = emf_bytes(read_log_messages(function.spec.log_group, client=emulator.client("logs")),
                                          namespace=TASK_SERVICE_JOB)

    def _insights(self, emulator: Emulator, resources: StackResources, extractor: LogExtractor) -> None:
        streams = resources.of_type("AWS::Kinesis::Stream")
        filters = resources.of_type("AWS::Logs::SubscriptionFilter")
        if not streams or not filters:
            self.echo("insights  skipped: template.yaml declares no Kinesis stream fed by a subscription filter")
            return
        minutes = self.options.insights_minutes
        start_ms = (int(time.time()) // 60 - minutes) * 60_000
        events = sample_cluster_events("demo", start_ms, minutes, self.options.seed)
        group = str(filters[0].properties["LogGroupName"])
        logs = emulator.client("logs")
        logs.create_log_stream(logGroupName=group, logStreamName="demo-agent")
        messages = performance_log_events(events, start_ms)
        # The agent flushes about once a minute; each PutLogEvents reaches the stream as one record.
        for batch in by_minute(messages):
            logs.put_log_events(logGroupName=group, logStreamName="demo-agent", logEvents=batch)
        stream = streams[0]
        records = read_stream(emulator.client("kinesis"), stream.name)
        function = _local_function("InsightsFunction", self.options, self.parameters, {"PROMWATCH_OUTPUT": "stdout"})
        function_logs = FunctionLogs(function.spec.log_group, client=emulator.client("logs"))
        failures = 0
        for start in range(0, len(records), 100):
            event = kinesis_event(records[start : start + 100], stream_arn=stream.attributes["Arn"],
                                  region=emulator.region)
            with function_logs.capturing():
                result = function.invoke(event)
            if not result.ok:
                raise LocalError(f"insights invocation failed: {result.error}")
            failures += len((result.payload or {}).get("batchItemFailures", []))
        extraction = extractor.extract_groups([function.spec.log_group])
        self.report.insights_events = len(events)
        self.report.insights_records = len(records)
        self.echo(f"insights  {len(events)} performance events -> {group} -> subscription -> Kinesis "
                  f"{stream.name} ({len(records)} records) -> insights function -> "
                  f"{extraction.emf_events} EMF events -> {len(extraction.datums)} metric data"
                  + (f"; {failures} batch item failures" if failures else ""))
