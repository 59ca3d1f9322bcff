"""``promwatch check config|rules|spec PATH``: validate without running anything, like promtool.

Nothing is scraped, discovered or called: the file goes through the loader the functions use
(the scrape config loader, the Container Insights roll-up rules loader, the dashboards/alarms
spec loader) and its errors are printed as the loader gives them. Exit status: 0 valid (a
``SUCCESS`` line on stdout), 1 invalid or unreadable (``FAILED`` and the errors on stderr),
2 usage. Warnings (``WARNING:`` lines on stderr) do not fail the check: ``check config`` warns
of an ``otlp`` output that names no region (neither ``region`` nor an endpoint
``monitoring.<region>.amazonaws.com``) when ``AWS_REGION`` is not set here either, as such a
job is not scraped wherever that holds (the functions have ``AWS_REGION``; the CLI may not).

A config with no jobs, or rules with no rule, is an error (an import that failed leaves an empty
file). A file of another kind -- a Prometheus rule file (``groups:``) given to ``check rules``,
an OpenTelemetry Collector config given to ``check config`` -- fails with a line saying what it
looks like and which command reads it, rather than the loader's field errors alone.

A spec is a directory (composite alarms and widgets name alarms of other files): ``check spec``
takes the directory, or a file of it, in which case its whole directory is checked.
"""
from __future__ import annotations

import argparse
import errno
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


class CheckError(PromwatchError):
    """A file its loader accepts that checks nothing (no jobs, no rules)."""


class CheckPathMissingError(CheckError, FileNotFoundError):
    """The spec path to check does not exist (also a ``FileNotFoundError``: it cannot be read)."""


_LOOKS_LIKE: tuple[tuple[str, frozenset[str], frozenset[str], str], ...] = (
    # (kind checked, keys any of which..., keys none of which..., what the file is and what reads it)
    ("rules", frozenset({"groups"}), frozenset({"rules"}),
     "this is a Prometheus rule file (groups:), not Container Insights roll-up rules (rules:); check it with "
     "`promwatch import rules FILE` (or promtool check rules)"),
    ("rules", frozenset({"scrape_configs"}), frozenset({"rules"}),
     "this is a scrape config; check it with `promwatch check config FILE`"),
    ("config", frozenset({"receivers", "exporters", "service"}), frozenset({"scrape_configs"}),
     "this looks like an OpenTelemetry Collector config; translate it with `promwatch import adot FILE`"),
    ("config", frozenset({"groups"}), frozenset({"scrape_configs"}),
     "this is a Prometheus rule file; check it with `promwatch import rules FILE` (or promtool check rules)"),
    ("config", frozenset({"rules"}), frozenset({"scrape_configs"}),
     "these are Container Insights roll-up rules; check them with `promwatch check rules FILE`"),
)


def other_kind(kind: str, document: object) -> str | None:
    """What a document that failed ``kind``'s loader looks like instead, and which command reads it
    (None when it does not look like another kind)."""
    if not isinstance(document, dict):
        return None
    keys = set(document)
    for checked, any_of, none_of, hint in _LOOKS_LIKE:
        if checked == kind and keys & any_of and not keys & none_of:
            return hint
    return None


def check(kind: str, path: str, warnings: list[str] | None = None) -> str:
    """What ``path`` holds, once its loader has accepted it (naming another kind of file it looks
    like); what deserves a warning is appended to ``warnings``.

    Raises
    ------
    PromwatchError
        The loader's error (``ConfigError``, ``RulesError``, ``SpecError``) with a hint when the
        file looks like another kind, :class:`CheckError` for a config without jobs or rules
        without a rule, or ``OSError`` when the file cannot be read.
    """
    try:
        return _checked(kind, path, warnings)
    except CheckError:
        raise
    except PromwatchError as error:
        hint = _hint(kind, path)
        if hint is None:
            raise
        raise type(error)(f"{error}\n  {path}: {hint}") from None


def _hint(kind: str, path: str) -> str | None:
    from promwatch.safeload import DocumentError, load_yaml, read_text

    try:
        return other_kind(kind, load_yaml(read_text(path)))
    except (OSError, DocumentError):
        return None


def _checked(kind: str, path: str, warnings: list[str] | None) -> str:
    """What ``path`` holds, once its loader has accepted it.

    Raises
    ------
    PromwatchError
        The loader's error (``ConfigError``, ``RulesError``, ``SpecError``), or ``OSError``
        when the file cannot be read.
    """
    from promwatch.safeload import read_text

    if kind == "config":
        from promwatch.scrape import config_directory, parse_config

        config = parse_config(read_text(path), origin=path, config_dir=config_directory(path))
        if not config.scrape_configs:
            raise CheckError(f"{path}: no scrape_configs: the config scrapes nothing; expected at least one job")
        if warnings is not None:
            warnings.extend(otlp_region_warnings(config, os.environ))
        return _count(len(config.scrape_configs), "job")
    if kind == "rules":
        from promwatch.insights import parse_rules

        rules = parse_rules(read_text(path), origin=path)
        if not rules.rules:
            raise CheckError(f"{path}: no rules: nothing would be rolled up; expected at least one rule")
        return _count(len(rules.rules), "rule")
    from promwatch.reconcile import load_spec

    directory = Path(path) if Path(path).is_dir() else Path(path).parent
    if not Path(path).exists():
        raise CheckPathMissingError(errno.ENOENT, "No such file or directory", path)
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
