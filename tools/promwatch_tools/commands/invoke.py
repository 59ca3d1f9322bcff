"""``promwatch invoke FUNCTION --event FILE``: a Docker-free ``sam local invoke``.

The handler runs in this process with a Lambda context and the environment template.yaml
gives the function. What the handler writes to stdout (its logs and EMF, which Lambda would
send to the function's log group) goes to stderr; stdout gets only the result as JSON, so
``promwatch invoke ... | jq`` works. Exit 0 when the handler returned, 1 when it raised (the
error is printed in Lambda's shape), 2 for bad arguments (unknown function or parameter,
unreadable event).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from promwatch.errors import PromwatchError


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: expected KEY=VALUE")
    return key, value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare FUNCTION, --event, --env, --parameter-overrides, --template, --stack-name, --region."""
    parser.add_argument("function", metavar="FUNCTION",
                        help="logical id (ScrapeFunction) or code directory name (scrape)")
    parser.add_argument("--event", "-e", required=True, metavar="FILE",
                        help="JSON event file (events/<function>/...), or - for stdin")
    parser.add_argument("--env", action="append", type=_pair, default=[], metavar="KEY=VALUE",
                        help="set an environment variable after the template's (repeatable)")
    parser.add_argument("--parameter-overrides", nargs="+", type=_pair, default=[], metavar="KEY=VALUE",
                        help="template parameters, as sam deploy takes them (e.g. Stage=prod)")
    parser.add_argument("--template", "-t", default="template.yaml", type=Path,
                        help="the SAM template (default: ./template.yaml)")
    parser.add_argument("--stack-name", default="promwatch-local",
                        help="names the local resources, as the demo creates them (default: promwatch-local)")
    parser.add_argument("--region", default=None,
                        help="AWS region (default: AWS_REGION, else us-east-1)")


def _read_event(source: str) -> Any:
    from promwatch.safeload import load_json

    return load_json(sys.stdin.read() if source == "-" else Path(source).read_bytes())


def run(args: argparse.Namespace) -> int:
    """Invoke the function once and print its result; see the module docstring for exit codes."""
    from promwatch_tools.local.invoke import LocalFunction

    try:
        event = _read_event(args.event)
    except (OSError, PromwatchError) as exc:
        print(f"promwatch invoke: event {args.event!r}: {exc}; expected a JSON file", file=sys.stderr)
        return 2
    region = args.region or os.environ.get("AWS_REGION") or "us-east-1"
    try:
        function = LocalFunction(
            args.function,
            template=args.template,
            parameters=dict(args.parameter_overrides),
            env=dict(args.env),
            stack_name=args.stack_name,
            region=region,
        )
        # The handler's own output is its log stream: keep stdout for the result.
        with contextlib.redirect_stdout(sys.stderr):
            result = function.invoke(event)
    except (PromwatchError, OSError) as exc:
        print(f"promwatch invoke: {exc}", file=sys.stderr)
        return 2
    if result.ok:
        print(json.dumps(result.payload, default=str))
        return 0
    print(json.dumps(result.error, default=str))
    return 1
