"""The ``promwatch`` command.

Each subcommand lives in ``promwatch_tools.commands.<name>`` with ``add_arguments(parser)`` and
``run(args) -> int``; only the chosen one is imported, so ``promwatch parse`` never pays for
boto3 or moto.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS: dict[str, str] = {
    "parse": "parse a Prometheus/OpenMetrics exposition and print its families as JSON",
    "scrape": "run one scrape cycle of a Prometheus-style config (or one URL) and print EMF",
    "targets": "list the targets a config's jobs discover, before and after relabelling (as Prometheus' targets page)",
    "insights": "roll up Container Insights performance events (one JSON per line) into EMF",
    "dashboards": "plan or apply the dashboards and alarms of a spec directory",
    "backfill": "replay past Container Insights logs, or a Prometheus server's history, with a progress bar",
    "import": "carry an ADOT collector config or a prometheus.yml over to a promwatch scrape config",
    "check": "validate a scrape config, roll-up rules or a dashboards/alarms spec without running anything",
    "invoke": "run a function's handler in-process on an event file (a Docker-free sam local invoke)",
    "cost": "estimate each job's monthly cost on each path (EMF, OTLP, the ADOT sidecar) from one real scrape",
    "demo": "run the whole pipeline against the embedded AWS emulator and write a dashboard preview",
}
_MODULES = {"import": "import_"}
"""Commands whose module name differs (``import`` is a Python keyword)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promwatch",
        description="Prometheus metrics and Container Insights logs into Amazon CloudWatch.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, summary in COMMANDS.items():
        sub.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``promwatch`` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        _parser().parse_args(args)  # prints usage (and exits) for help or an unknown command
        return 2
    name = args[0]
    module = importlib.import_module(f"promwatch_tools.commands.{_MODULES.get(name, name)}")
    parser = argparse.ArgumentParser(prog=f"promwatch {name}", description=COMMANDS[name])
    module.add_arguments(parser)
    status: int = module.run(parser.parse_args(args[1:]))
    return status


if __name__ == "__main__":
    sys.exit(main())
