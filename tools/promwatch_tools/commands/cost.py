"""``promwatch cost``: each job's monthly cost on each path to CloudWatch, before deploying.

Scrapes the config's targets once per output (or serves saved pages with ``--pages DIR``, see
:mod:`promwatch_tools.cost.pages`), through the scrape cycle ``promwatch scrape`` runs, so
relabelling, ``metric_declarations`` and dimension rollups apply exactly as they will; then
prices the month (:mod:`promwatch_tools.cost.estimate`). Nothing is sent to AWS.

``--output json`` prints ``{"jobs": [{"job", "metrics", "usd_per_month"}], "total_usd_per_month"}``
with ``usd_per_month`` keys ``emf`` (custom metrics + Logs ingestion and storage), ``otlp``
(OpenTelemetry metrics ingestion), ``adot_sidecar`` (the collector sidecar's CPU and memory),
``lambda``, ``dynamodb`` and ``sqs`` (the scrape function's own costs, either promwatch path).

Every job is priced at the scrape function's schedule (the template's ``ScheduleExpression``):
each scheduled invocation scrapes every target once, whatever the job's ``scrape_interval``.

Exit status: 0 with an estimate, 1 for a bad config, prices file, template (or a schedule that
is not ``rate(...)``), a missing page, or a job none of whose targets answered (the estimate is
printed, and the targets that failed named on stderr).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from promwatch.errors import PromwatchError

from promwatch_tools.commands import log_to_stderr

DEFAULT_TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
"""The project's template.yaml (the scrape function's memory and architecture)."""
SCRAPE_FUNCTION = "ScrapeFunction"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the subcommand's options."""
    parser.add_argument("--config", required=True, metavar="FILE", help="the scrape config (path, ssm:/name or s3://...)")
    parser.add_argument("--pages", type=Path, metavar="DIR",
                        help="serve saved pages instead of fetching the targets: DIR/JOB/INSTANCE.prom "
                             "(or .txt, .om for OpenMetrics), else DIR/JOB.prom for every target of the job")
    parser.add_argument("--output", choices=("table", "json"), default="table")
    parser.add_argument("--prices", metavar="FILE", help="YAML or JSON mapping price names to USD, overriding the table")
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, metavar="FILE",
                        help="the SAM template giving the scrape function's memory, architecture and schedule "
                             "(ScheduleExpression's default: every job is priced at it) (default: the project's "
                             "template.yaml)")
    parser.add_argument("--job", action="append", metavar="NAME", help="only this job (repeatable)")


def function_shape(template_path: Path) -> Any:
    """The scrape function's memory and architecture as ``template_path`` declares them.

    Raises
    ------
    StackError
        When the template cannot be read or has no scrape function.
    """
    from promwatch_tools.cost.estimate import FunctionShape
    from promwatch_tools.local.stack import load_template
    from promwatch_tools.local.template import find_function, function_spec

    template = load_template(template_path)
    spec = function_spec(template, SCRAPE_FUNCTION, root=template_path.parent)
    logical_id = find_function(template, SCRAPE_FUNCTION)
    own = template["Resources"][logical_id].get("Properties", {}).get("Architectures")
    shared = template.get("Globals", {}).get("Function", {}).get("Architectures")
    architectures = own or shared or ["x86_64"]
    schedule = template.get("Parameters", {}).get("ScheduleExpression", {}).get("Default", "rate(1 minute)")
    shape = FunctionShape(memory_mb=spec.memory_mb, architecture=str(architectures[0]), schedule=str(schedule))
    _ = shape.schedule_seconds  # a schedule that cannot be priced is refused before anything is scraped
    return shape


def run(args: argparse.Namespace) -> int:
    """Estimate and print; see the module docstring for the exit status."""
    log_to_stderr()
    from promwatch.discovery import DiscoveryCache, default_env
    from promwatch.scrape import ConfigError, discoverer, load_config

    from promwatch_tools.cost.estimate import estimate
    from promwatch_tools.cost.measure import measure_jobs
    from promwatch_tools.cost.prices import Prices, load_prices
    from promwatch_tools.cost.report import as_json, as_table

    try:
        prices = load_prices(args.prices) if args.prices else Prices()
        function = function_shape(args.template)
        config = load_config(args.config)
        discover = None if args.pages else discoverer(DiscoveryCache(), default_env)
        measured = measure_jobs(config, jobs=args.job, pages=args.pages, discover=discover)
    except ConfigError as exc:
        print(f"promwatch cost: bad config: {exc}", file=sys.stderr)
        return 1
    except PromwatchError as exc:
        print(f"promwatch cost: {exc}", file=sys.stderr)
        return 1
    costs, total = estimate(measured, prices, function)
    if args.output == "json":
        print(json.dumps(as_json(costs, total), indent=2))
    else:
        problems = [f"{m.job} {p}" for m in measured for p in m.problems]
        sys.stdout.write(as_table(costs, total, prices, function, problems))
    silent = [m for m in measured if not m.targets_up]
    if silent:
        print("promwatch cost: no target answered for " + "; ".join(
            f"job {m.job} ({', '.join(m.problems) or 'no target discovered'})" for m in silent)
            + ": the estimate lacks their metrics; expected at least one target up per job", file=sys.stderr)
        return 1
    return 0
