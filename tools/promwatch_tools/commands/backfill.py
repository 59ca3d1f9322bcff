"""``promwatch backfill insights --cluster X --start ... --end ...``: replay history with a progress bar.

Loops backfill invocations until the range is done: in-process by default (the insights
function's code with an emulated Lambda deadline, one chunk per invocation), or with
``--remote --function-name NAME`` through lambda:Invoke against a deployed stack. Each
invocation returns a continuation token; with ``--checkpoint FILE`` the latest token is kept
there, so running the same command again after an interruption resumes instead of counting
the finished chunks twice.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``promwatch backfill``."""
    parser.add_argument("source", choices=["insights"], help="what to backfill (Container Insights performance logs)")
    parser.add_argument("--cluster", required=True, help="EKS cluster name")
    parser.add_argument("--start", required=True, help="ISO-8601 start (at most 14 days ago)")
    parser.add_argument("--end", required=True, help="ISO-8601 end (at most now)")
    parser.add_argument("--rules", default="builtin", help="rules source for in-process runs (default: builtin)")
    parser.add_argument("--output", default="stdout", help="sink for in-process runs: stdout, logs:GROUP[:STREAM], file:PATH")
    parser.add_argument("--log-group", help="performance log group (default /aws/containerinsights/CLUSTER/performance)")
    parser.add_argument("--chunk-seconds", type=int, default=3600, help="chunk length in seconds (rounded up to a multiple of every rule period)")
    parser.add_argument("--checkpoint", type=Path, help="file keeping the continuation token between runs")
    parser.add_argument("--remote", action="store_true", help="invoke the deployed insights function instead")
    parser.add_argument("--function-name", help="the deployed function (stack output InsightsFunctionName)")


def _time_left(budget_ms: int) -> Callable[[], int]:
    """Milliseconds left of an emulated invocation of ``budget_ms``, as a Lambda context counts them."""
    deadline = time.monotonic() + budget_ms / 1000
    return lambda: max(0, int((deadline - time.monotonic()) * 1000))


class _Progress:
    """A one-line progress bar on stderr (a line per update when stderr is not a terminal)."""

    WIDTH = 30

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()

    def update(self, result: dict[str, Any]) -> None:
        done, total = result["chunks_done"], max(result["chunks_total"], 1)
        filled = self.WIDTH * done // total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        where = result.get("next") or result["end"]
        line = f"[{bar}] {done}/{total} chunks  at {where}  events {result['events']}  documents {result['documents']}"
        sys.stderr.write(("\r" + line) if self.tty else line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


COMPLETE = "complete"
"""Checkpoint value of a request whose every chunk is written."""


def _read_checkpoints(path: Path) -> dict[str, Any]:
    """The checkpoint file's tokens by request key ({} when there is no file yet).

    Raises
    ------
    DocumentError
        When the file is not a JSON object (naming the file).
    """
    from promwatch.safeload import DocumentError, load_json

    if not path.exists():
        return {}
    try:
        state = load_json(path.read_bytes())
    except DocumentError as exc:
        raise DocumentError(f"checkpoint file {str(path)!r}: {exc}") from None
    if not isinstance(state, dict):
        raise DocumentError(f"checkpoint file {str(path)!r} holds {type(state).__name__}; expected a JSON object")
    return state


def _read_checkpoint(path: Path | None, key: str) -> str | None:
    if path is None:
        return None
    token = _read_checkpoints(path).get(key)
    return token if isinstance(token, str) else None


def _write_checkpoint(path: Path | None, key: str, token: str) -> None:
    if path is None:
        return
    state = _read_checkpoints(path)
    state[key] = token
    path.write_text(json.dumps(state, indent=2) + "\n", "utf-8")


def remote_invoker(function_name: str, client: Any = None) -> Any:
    """``event -> response`` through lambda:Invoke (RequestResponse) of the deployed function.

    A function error (the handler raised, e.g. a refused backfill) becomes a RuntimeError
    carrying the function's error message.
    """
    if client is None:
        import boto3

        client = boto3.client("lambda")

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        response = client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"{}")
        if response.get("FunctionError"):
            raise RuntimeError(payload.get("errorMessage") or json.dumps(payload))
        return dict(payload)

    return invoke


def _local_invoker(args: argparse.Namespace) -> Any:
    from promwatch.insights import InsightsRuntime, InsightsSettings

    overrides: dict[str, Any] = {"rules": args.rules, "output": args.output, "backfill_chunk_seconds": args.chunk_seconds}
    if args.log_group:
        overrides["log_group_template"] = args.log_group.replace("{", "{{").replace("}", "}}")
    function = InsightsRuntime(InsightsSettings(**overrides))

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return function.handle(event, remaining_ms=_time_left(300_000))

    return invoke


def run(args: argparse.Namespace) -> int:
    """Run ``promwatch backfill``; returns the exit status."""
    from promwatch.errors import PromwatchError

    if args.remote and not args.function_name:
        print("promwatch backfill: --remote needs --function-name (stack output InsightsFunctionName)", file=sys.stderr)
        return 2
    key = f"{args.cluster} {args.start} {args.end}"
    request: dict[str, Any] = {"cluster": args.cluster, "start": args.start, "end": args.end}
    progress = _Progress()
    try:
        invoke = remote_invoker(args.function_name) if args.remote else _local_invoker(args)
        continuation = _read_checkpoint(args.checkpoint, key)
        if continuation == COMPLETE:
            print(
                f"promwatch backfill: {key} is already complete according to {args.checkpoint}; "
                "running it again would count it twice (remove its entry to force)",
                file=sys.stderr,
            )
            return 1
        while True:
            event = {"backfill": {**request, "continuation": continuation}}
            if not args.remote:
                event["backfill"]["max_chunks"] = 1  # one chunk per emulated invocation: a finer progress bar
            result = invoke(event)["backfill"]
            progress.update(result)
            if result["continuation"] == continuation and continuation is not None:
                raise RuntimeError(f"no progress from {result['next']}; the invocation made no chunk")
            continuation = result["continuation"]
            _write_checkpoint(args.checkpoint, key, continuation or COMPLETE)
            if continuation is None:
                break
    except (PromwatchError, RuntimeError) as error:
        progress.close()
        print(f"promwatch backfill: {error}", file=sys.stderr)
        return 1
    progress.close()
    return 0
