"""``promwatch check config|rules|spec PATH``: validate without running anything, like promtool.

Nothing is scraped, discovered or called: the file goes through the loader the functions use
(the scrape config loader, the Container Insights roll-up rules loader, the dashboards/alarms
spec loader) and its errors are printed as the loader gives them. Exit status: 0 valid (a
``SUCCESS`` line on stdout), 1 invalid or unreadable (``FAILED`` and the errors on stderr),
2 usage. Warnings (``WARNING:`` lines on stderr) do not fail the check: ``check config`` warns
of an ``otlp`` output that names no region (neither ``region`` nor an endpoint
``monitoring.<region>.amazonaws.com``) when ``AWS_REGION`` is not set here either, as such a
job is not scraped wherever that holds (the functions have ``AWS_REGION``; the CLI may not).

A spec is a directory (composite alarms and widgets name alarms of other files): ``check spec``
takes the directory, or a file of it, in which case its whole directory is checked.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from promwatch.errors import PromwatchError

if TYPE_CHECKING:
    from promwatch.scrape import ScrapeConfig

KINDS = {
    "config": "a scrape config (global, scrape_configs, emf)",
    "rules": "Container Insights roll-up rules",
    "spec": "a dashboards/alarms spec directory (or a file of it: its directory is checked)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the subcommand's options."""
    sub = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    for name, summary in KINDS.items():
        kind = sub.add_parser(name, help=summary, description=f"validate {summary}")
        kind.add_argument("path", metavar="PATH", help="the file (or spec directory) to check")


def check(kind: str, path: str, warnings: list[str] | None = None) -> str:
    """What ``path`` holds, once its loader has accepted it; what deserves a warning is
    appended to ``warnings``.

    Raises
    ------
    PromwatchError
        The loader's error (``ConfigError``, ``RulesError``, ``SpecError``), or ``OSError``
        when the file cannot be read.
    """
    from promwatch.safeload import read_text

    if kind == "config":
        from promwatch.scrape import parse_config

        config = parse_config(read_text(path), origin=path)
        if warnings is not None:
            warnings.extend(otlp_region_warnings(config, os.environ))
        return _count(len(config.scrape_configs), "job")
    if kind == "rules":
        from promwatch.insights import parse_rules

        rules = parse_rules(read_text(path), origin=path)
        return _count(len(rules.rules), "rule")
    from promwatch.reconcile import load_spec

    directory = Path(path) if Path(path).is_dir() else Path(path).parent
    if not Path(path).exists():
        raise OSError(2, "No such file or directory", path)
    spec = load_spec(directory)
    return f"{_count(len(spec.dashboards), 'dashboard')}, {_count(len(spec.alarms), 'alarm')} in {directory}"


def otlp_region_warnings(config: ScrapeConfig, environ: Mapping[str, str]) -> list[str]:
    """One line per job whose ``otlp`` output names no region while ``environ`` has none."""
    from promwatch.otlp.config import named_region

    if environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"):
        return []
    return [f"job {job.job_name!r}: its otlp output names no region (region: or an endpoint "
            "https://monitoring.<region>.amazonaws.com/v1/metrics) and AWS_REGION is not set here; "
            "where that holds too (promwatch scrape) the job is not scraped"
            for job in config.scrape_configs if job.otlp is not None and named_region(job.otlp) is None]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def run(args: argparse.Namespace) -> int:
    """Check; see the module docstring for the exit status."""
    warnings: list[str] = []
    try:
        summary = check(args.kind, args.path, warnings)
    except OSError as exc:
        print(f"FAILED: {args.path}: cannot be read: {exc.strerror}", file=sys.stderr)
        return 1
    except PromwatchError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    for warning in warnings:
        print(f"WARNING: {args.path}: {warning}", file=sys.stderr)
    print(f"SUCCESS: {args.path} is valid {args.kind} ({summary})")
    return 0
