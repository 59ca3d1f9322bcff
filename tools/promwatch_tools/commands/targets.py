"""``promwatch targets``: every target a config's jobs discover, as Prometheus' targets and
service-discovery pages show them.

Each target -- from ``static_configs`` and every ``*_sd_configs`` -- is listed with its labels
before relabelling (``discovered_labels``) and what ``relabel_configs`` made of it: its final
``labels`` (the global ``external_labels`` included, as every sample scraped from it gets them)
and ``scrape_url``, or, when it was dropped, ``dropped_reason``. ``--output json`` prints one
array of ``{"job", "discovered_labels", "labels", "dropped_reason", "scrape_url"}`` objects.

Exit status: 0 when every discovery listed its targets; 1 for a bad config or an unknown job,
and when a discovery failed -- reported on stderr, its targets missing from the list printed
(a run of the command has no earlier list to fall back on).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from promwatch.discovery import DiscoveryCache, DiscoveryEnv, DiscoveryFailure, default_env
from promwatch.errors import PromwatchError
from promwatch.scrape import ConfigError, ScrapeConfig, Target, TargetDetail, load_config, target_details

from promwatch_tools.commands import log_to_stderr

OUTPUTS = ("table", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the subcommand's options."""
    parser.add_argument("--config", metavar="FILE", required=True,
                        help="Prometheus-style scrape config (path, ssm:/name or s3://bucket/key)")
    parser.add_argument("--job", action="append", metavar="NAME", help="only this job (repeatable)")
    parser.add_argument("--output", choices=OUTPUTS, default="table",
                        help="'table' (default) or 'json' (an array, one object per target)")


def run(args: argparse.Namespace, env: DiscoveryEnv | None = None) -> int:
    """List the targets; see the module docstring for the exit status.

    ``env`` is where discovery reaches through (None: real AWS clients, resolv.conf, the network).
    """
    log_to_stderr()
    try:
        config = load_config(args.config)
        rows, failures = discover(config, args.job, env or default_env())
    except ConfigError as exc:
        print(f"promwatch targets: bad config: {exc}", file=sys.stderr)
        return 1
    except PromwatchError as exc:
        print(f"promwatch targets: {exc}", file=sys.stderr)
        return 1
    try:
        sys.stdout.write(render_json(rows) if args.output == "json" else render_table(rows))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`promwatch targets ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if failures:
        noun = "discovery" if len(failures) == 1 else "discoveries"
        which = ", ".join(f"job {failure.job!r} {failure.source}" for failure in failures)
        print(f"promwatch targets: {len(failures)} {noun} failed ({which}); their targets are missing from the list",
              file=sys.stderr)
        return 1
    return 0


def discover(
    config: ScrapeConfig, jobs: Sequence[str] | None, env: DiscoveryEnv
) -> tuple[list[tuple[str, TargetDetail]], list[DiscoveryFailure]]:
    """Every target of the selected jobs (all when ``jobs`` is None), with the job's name, and
    the discoveries that failed.

    Raises
    ------
    ConfigError
        When a job asked for is not in the config.
    """
    names = [job.job_name for job in config.scrape_configs]
    unknown = [name for name in jobs or () if name not in names]
    if unknown:
        raise ConfigError(f"no job named {', '.join(map(repr, unknown))}; the config has "
                          f"{', '.join(map(repr, names)) or 'no jobs'}")
    cache = DiscoveryCache()
    rows: list[tuple[str, TargetDetail]] = []
    failures: list[DiscoveryFailure] = []
    for job in config.scrape_configs:
        if jobs and job.job_name not in jobs:
            continue
        groups, failed = cache.groups(job.job_name, job.sd_configs(), env)
        failures.extend(failed)
        details = target_details(job, config.global_.external_labels, groups)
        rows.extend((job.job_name, detail) for detail in details)
    return rows, failures


def as_json(job: str, detail: TargetDetail) -> dict[str, Any]:
    """One target as the JSON output has it."""
    result = detail.result
    if isinstance(result, Target):
        labels, reason, url = _sorted(result.labels), None, result.url
    else:
        labels, reason, url = None, result.reason, None
    return {
        "job": job,
        "discovered_labels": _sorted(detail.discovered_labels),
        "labels": labels,
        "dropped_reason": reason,
        "scrape_url": url,
    }


def render_json(rows: Sequence[tuple[str, TargetDetail]]) -> str:
    """The JSON array (ASCII: label values are untrusted and reach a terminal)."""
    return json.dumps([as_json(job, detail) for job, detail in rows], indent=2) + "\n"


def render_table(rows: Sequence[tuple[str, TargetDetail]]) -> str:
    """One line per target: job, scrape URL (or ``dropped``), labels (or the reason and the
    discovered address); values escaped as in the JSON output."""
    lines = [("JOB", "SCRAPE URL", "LABELS")]
    for job, detail in rows:
        item = as_json(job, detail)
        if item["labels"] is not None:
            lines.append((_escaped(job), _escaped(item["scrape_url"]), _label_set(item["labels"])))
        else:
            address = _label_set({"__address__": detail.discovered_labels.get("__address__", "")})
            lines.append((_escaped(job), "dropped", f"{_escaped(item['dropped_reason'])} {address}"))
    widths = [max(len(line[column]) for line in lines) for column in range(2)]
    return "".join(f"{job:<{widths[0]}}  {url:<{widths[1]}}  {labels}\n" for job, url, labels in lines)


def _sorted(labels: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(labels.items()))


def _escaped(text: str) -> str:
    # json.dumps escapes quotes, backslashes, control characters and (ASCII) anything beyond.
    return json.dumps(text)[1:-1]


def _label_set(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f'{_escaped(name)}="{_escaped(value)}"' for name, value in labels.items()) + "}"
