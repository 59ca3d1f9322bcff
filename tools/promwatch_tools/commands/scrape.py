"""``promwatch scrape``: one scrape cycle of a config (or of one URL), EMF on stdout.

``--output`` given overrides every job's ``emf.output`` (a config made by ``import adot`` writes
to CloudWatch Logs: ``--output stdout`` tries it locally); without it each job writes where its
``emf.output`` says (stdout when it says nothing).

``--output otlp[:URL]`` sends every selected job's samples over OTLP instead (to URL, or to the
CloudWatch endpoint of the region), signed with the session's credentials; the cycle's own
metrics stay on stdout.

Exit status: 0 when the cycle ran (targets that are down get ``up`` 0 and a line on
stderr), 1 for a bad config or documents that could not be delivered (their targets'
baselines are kept: the next run covers the interval).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from promwatch.errors import PromwatchError

from promwatch_tools.commands import log_to_stderr

if TYPE_CHECKING:
    from collections.abc import Iterator

    from promwatch.scrape import ScrapeConfig
    from promwatch.state import StateStore

DEFAULT_JOB = "scrape"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the subcommand's options."""
    parser.add_argument("url", nargs="?", help="scrape this one URL (shorthand for a one-target config)")
    parser.add_argument("--config", metavar="FILE", help="Prometheus-style scrape config (path, ssm:/name or s3://bucket/key)")
    parser.add_argument("--state-file", metavar="PATH",
                        help="keep counter baselines in this SQLite file between runs, created when missing; a JSON "
                             "state file of an earlier promwatch is imported (kept as PATH.bak) "
                             "(default: none, first run only records)")
    parser.add_argument("--state-table", metavar="TABLE",
                        help="keep counter baselines in this DynamoDB table (as the Lambda function does)")
    parser.add_argument("--output", metavar="OUTPUT",
                        help="'-' or 'stdout', 'logs[:GROUP[:STREAM]]' (CloudWatch Logs), 'file:PATH', "
                             "'otlp[:URL]' (OpenTelemetry metrics over OTLP/HTTP, to URL or to CloudWatch's "
                             "endpoint of AWS_REGION); given, it overrides every job's emf.output (default: each "
                             "job's emf.output, stdout for jobs without one)")
    parser.add_argument("--job", action="append", metavar="NAME",
                        help="only this job (repeatable); with a URL, the job name (default 'scrape')")
    parser.add_argument("--allow-link-local", action="store_true",
                        help="with a URL: allow a link-local / instance-metadata address")


def url_config_text(url: str, job_name: str, *, allow_link_local: bool = False) -> str:
    """The YAML config of the one-target shorthand ``promwatch scrape URL``.

    Raises
    ------
    ConfigError
        When ``url`` is not an http(s) URL with a host.
    """
    import json

    from promwatch.httpclient import InvalidTargetError
    from promwatch.httpclient.url import parse_url
    from promwatch.scrape.errors import ConfigError

    try:
        parsed = parse_url(url)  # the scraper's own parser: what is judged is what is scraped
    except InvalidTargetError as exc:
        raise ConfigError(f"{exc}; expected http(s)://host:port/path") from None
    path, _, query = parsed.target.partition("?")
    job: dict[str, object] = {
        "job_name": job_name,
        "scheme": parsed.scheme,
        "metrics_path": path,
        "static_configs": [{"targets": [parsed.authority.netloc()]}],
        "allow_link_local": allow_link_local,
    }
    if query:
        job["params"] = parse_qs(query, keep_blank_values=True)
    return json.dumps({"scrape_configs": [job]})  # JSON is YAML


def emf_to_one_sink(config: ScrapeConfig) -> ScrapeConfig:
    """``config`` with every job's ``emf.output`` the cycle's own sink (an explicit ``--output``)."""
    from promwatch.emf.config import EmfOutput

    jobs = [job.model_copy(update={"emf": job.emf.model_copy(update={"output": EmfOutput()})})
            for job in config.scrape_configs]
    return config.model_copy(update={"scrape_configs": jobs})


def otlp_only(config: ScrapeConfig, endpoint: str | None) -> ScrapeConfig:
    """``config`` with every job sending OTLP only, to ``endpoint`` (None: the region's).

    Raises
    ------
    ConfigError
        When ``endpoint`` is not an http(s) URL.
    """
    from promwatch.otlp import OtlpOutput
    from promwatch.scrape.errors import ConfigError
    from pydantic import ValidationError

    try:
        output = OtlpOutput(endpoint=endpoint)
    except ValidationError as exc:
        raise ConfigError(f"--output otlp:{endpoint}: {exc.errors()[0]['msg']}") from None
    jobs = [job.model_copy(update={"outputs": [output]}) for job in config.scrape_configs]
    return config.model_copy(update={"scrape_configs": jobs})


def run(args: argparse.Namespace) -> int:
    """Run one cycle; see the module docstring for the exit status."""
    log_to_stderr()
    from promwatch.discovery import DiscoveryCache, default_env
    from promwatch.scrape import ConfigError, WarmMemory, discoverer, load_config, parse_config, run_cycle
    from promwatch.sinks import sink_from_settings

    try:
        if args.url and args.config:
            raise ConfigError("give either a URL or --config, not both")
        if args.url:
            name = args.job[0] if args.job else DEFAULT_JOB
            config = parse_config(url_config_text(args.url, name, allow_link_local=args.allow_link_local),
                                  origin=args.url)
            jobs = None
        elif args.config:
            config = load_config(args.config)
            jobs = args.job
        else:
            raise ConfigError("nothing to scrape; expected a URL or --config FILE")
        output = args.output or "-"
        if output == "otlp" or output.startswith("otlp:"):
            config = otlp_only(config, output.partition(":")[2] or None)
            sink = sink_from_settings("stdout")
        else:
            if args.output is not None:
                config = emf_to_one_sink(config)
            sink = sink_from_settings("stdout" if output == "-" else output)
        if args.state_file and args.state_table:
            raise ConfigError("give either --state-file or --state-table, not both")
        with _state_store(args.state_file, args.state_table) as store:
            # Targets that are down are logged on stderr by the cycle and get up=0 in the output.
            report = run_cycle(config, jobs=jobs, state_store=store, sink=sink,
                               discover=discoverer(DiscoveryCache(), default_env), memory=WarmMemory())
        if report.undelivered_documents:
            print(f"promwatch scrape: {report.undelivered_documents} EMF documents could not be delivered; "
                  "their targets' baselines were kept, the next run covers the interval", file=sys.stderr)
            return 1
        if report.undelivered_otlp_requests:
            print(f"promwatch scrape: {report.undelivered_otlp_requests} OTLP requests could not be delivered; "
                  "their targets' start times were kept", file=sys.stderr)
            return 1
    except BrokenPipeError:
        # The reader went away (`promwatch scrape ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ConfigError as exc:
        print(f"promwatch scrape: bad config: {exc}", file=sys.stderr)
        return 1
    except PromwatchError as exc:
        print(f"promwatch scrape: {exc}", file=sys.stderr)
        return 1
    return 0


@contextlib.contextmanager
def _state_store(path: str | None, table: str | None) -> Iterator[StateStore]:
    from promwatch.state import DynamoDBStateStore, MemoryStateStore

    from promwatch_tools.statefile import SqliteStateStore

    if table:
        yield DynamoDBStateStore(table)
    elif path:
        with SqliteStateStore(path) as store:
            yield store
    else:
        yield MemoryStateStore()
