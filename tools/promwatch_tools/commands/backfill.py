"""``promwatch backfill insights|prometheus ... --start ... --end ...``: replay history with a progress bar.

``insights`` replays Container Insights performance logs through the roll-up rules;
``prometheus --url URL --match SELECTOR...`` replays a Prometheus server's raw samples as the
live scraper would have written them (:mod:`promwatch.scrape.backfill`), with the ``emf``
settings of ``--job NAME`` of ``--config FILE``.

Loops backfill invocations until the range is done: in-process by default (the function's
code with an emulated Lambda deadline, one chunk per invocation), or with ``--remote
--function-name NAME`` through lambda:Invoke against a deployed stack. Each invocation returns
a continuation token; with ``--checkpoint FILE`` the latest token is kept there (written only
after the invocation returned, so after its chunks were delivered), so running the same
command again after an interruption resumes instead of counting the finished chunks twice.
The file keys requests by what they are, however spelled, and refuses one overlapping a
recorded request (:mod:`promwatch_tools.commands.backfill_checkpoint`).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from promwatch_tools.commands.backfill_checkpoint import (
    COMPLETE,
    BackfillInvocationError,
    BackfillKey,
    Checkpoints,
    epoch_ms,
)


def _instant(text: str) -> int:
    """``--start``/``--end`` -> epoch milliseconds (argparse quotes the text and the formats when it is not a time)."""
    try:
        return epoch_ms(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number of seconds")
    return value


def _common(parser: argparse.ArgumentParser, function: str) -> None:
    parser.add_argument("--start", required=True, type=_instant,
                        help="RFC 3339 (2026-11-20T00:00:00Z) or unix seconds; at most 14 days ago, on a period boundary")
    parser.add_argument("--end", required=True, type=_instant,
                        help="RFC 3339 or unix seconds; on a period boundary, at most the end of the last period that is over")
    parser.add_argument("--output", default="stdout", help="sink for in-process runs: stdout, logs:GROUP[:STREAM], file:PATH")
    parser.add_argument("--checkpoint", type=Path, help="file keeping the continuation token between runs")
    parser.add_argument("--remote", action="store_true", help=f"invoke the deployed {function} function instead")
    parser.add_argument("--function-name", help=f"the deployed function (stack output {function.title()}FunctionName)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``promwatch backfill``."""
    sources = parser.add_subparsers(dest="source", metavar="SOURCE", required=True)
    insights = sources.add_parser("insights", help="Container Insights performance logs, through the roll-up rules")
    insights.add_argument("--cluster", required=True, help="EKS cluster name")
    insights.add_argument("--rules", default="builtin", help="rules source for in-process runs (default: builtin)")
    insights.add_argument("--log-group", help="performance log group (default /aws/containerinsights/CLUSTER/performance)")
    insights.add_argument("--chunk-seconds", type=_positive, default=3600,
                          help="chunk length in seconds (rounded up to a multiple of every rule period)")
    _common(insights, "insights")
    prometheus = sources.add_parser("prometheus", help="a Prometheus server's history, as the scraper would have written it")
    prometheus.add_argument("--url", required=True, help="the Prometheus server (http://HOST:9090)")
    prometheus.add_argument("--match", required=True, nargs="+", action="extend", metavar="SELECTOR",
                            help="series selectors, as Prometheus' match[] (repeatable)")
    prometheus.add_argument("--job", help="the job of --config whose emf settings and scrape_interval apply")
    prometheus.add_argument("--config", help="scrape config holding --job (path, ssm:/..., s3://...)")
    prometheus.add_argument("--step", type=_positive, help="period in seconds (default: the job's scrape_interval, else 60)")
    prometheus.add_argument("--chunk-seconds", type=_positive, default=3600,
                            help="chunk length in seconds (whole steps: refused otherwise)")
    prometheus.add_argument("--max-chunks", type=_positive,
                            help="stop after this many chunks (run the same command with --checkpoint again to go on)")
    _common(prometheus, "scrape")


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


def remote_invoker(function_name: str, client: Any = None) -> Any:
    """``event -> response`` through lambda:Invoke (RequestResponse) of the deployed function.

    A function error (the handler raised, e.g. a refused backfill) becomes a
    :class:`BackfillInvocationError` (a RuntimeError) carrying the function's error message.
    """
    if client is None:
        import boto3

        client = boto3.client("lambda")

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        response = client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"{}")
        if response.get("FunctionError"):
            raise BackfillInvocationError(payload.get("errorMessage") or json.dumps(payload))
        return dict(payload)

    return invoke


def _local_invoker(args: argparse.Namespace) -> Any:
    if args.source == "prometheus":
        return _local_scrape_invoker(args)
    from promwatch.insights import InsightsRuntime, InsightsSettings

    overrides: dict[str, Any] = {"rules": args.rules, "output": args.output, "backfill_chunk_seconds": args.chunk_seconds}
    if args.log_group:
        overrides["log_group_template"] = args.log_group.replace("{", "{{").replace("}", "}}")
    function = InsightsRuntime(InsightsSettings(**overrides))

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return function.handle(event, remaining_ms=_time_left(300_000))

    return invoke


def _local_scrape_invoker(args: argparse.Namespace) -> Any:
    from promwatch.scrape import ScrapeRuntime, ScrapeSettings

    overrides: dict[str, Any] = {"output": args.output}
    if args.config:
        overrides["config_source"] = args.config
    function = ScrapeRuntime(ScrapeSettings(**overrides))

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return function.handle(event, deadline=time.monotonic() + 300)

    return invoke


def _request(args: argparse.Namespace) -> tuple[BackfillKey, dict[str, Any], Callable[[dict[str, Any]], dict[str, Any]]]:
    """(checkpoint key, request, request -> event) of the chosen source."""
    start, end = _iso(args.start), _iso(args.end)
    if args.source == "insights":
        return (BackfillKey.insights(args.cluster, args.log_group, args.start, args.end),
                {"cluster": args.cluster, "start": start, "end": end},
                lambda body: {"backfill": body})
    request: dict[str, Any] = {"url": args.url, "match": args.match, "start": start, "end": end,
                               "chunk_seconds": args.chunk_seconds}
    if args.job:
        request["job"] = args.job
    if args.step:
        request["step_seconds"] = args.step
    key = BackfillKey.prometheus(args.url, args.match, args.job, args.step, args.start, args.end)
    return key, request, lambda body: {"backfill": {"prometheus": body}}


def _iso(at_ms: int) -> str:
    from promwatch.backfillbase import iso

    return iso(at_ms)


def run(args: argparse.Namespace) -> int:
    """Run ``promwatch backfill``; returns the exit status."""
    from promwatch.errors import PromwatchError

    function = "Scrape" if args.source == "prometheus" else "Insights"
    if args.remote and not args.function_name:
        print(f"promwatch backfill: --remote needs --function-name (stack output {function}FunctionName)", file=sys.stderr)
        return 2
    if args.source == "prometheus" and args.job and not args.config and not args.remote:
        print("promwatch backfill: --job needs --config (the scrape config that defines the job)", file=sys.stderr)
        return 2
    key, request, as_event = _request(args)
    progress = _Progress()
    notes: dict[str, Any] = {}
    try:
        invoke = remote_invoker(args.function_name) if args.remote else _local_invoker(args)
        checkpoints = Checkpoints(args.checkpoint)
        continuation = checkpoints.token(key)
        if continuation == COMPLETE:
            print(
                f"promwatch backfill: {key.describe()} is already complete according to {args.checkpoint}; "
                "running it again would count it twice (remove its entry to force)",
                file=sys.stderr,
            )
            return 1
        left = getattr(args, "max_chunks", None)
        while True:
            body = {**request, "continuation": continuation}
            if not args.remote:
                body["max_chunks"] = 1  # one chunk per emulated invocation: a finer progress bar
            elif left is not None:
                body["max_chunks"] = left
            result = invoke(as_event(body))["backfill"]
            progress.update(result)
            if result["continuation"] == continuation and continuation is not None:
                raise BackfillInvocationError(f"no progress from {result['next']}; the invocation made no chunk")
            continuation = result["continuation"]
            checkpoints.record(key, continuation or COMPLETE)
            _note(notes, result)
            if continuation is None:
                break
            if left is not None:
                left -= result["chunks_written"]
                if left <= 0:
                    progress.close()
                    print(f"promwatch backfill: stopped after --max-chunks {args.max_chunks} at {result['next']}; "
                          "run the same command again to go on", file=sys.stderr)
                    _report(notes)
                    return 0
    except (PromwatchError, RuntimeError) as error:
        progress.close()
        print(f"promwatch backfill: {error}", file=sys.stderr)
        return 1
    progress.close()
    _report(notes)
    return 0


def _note(notes: dict[str, Any], result: dict[str, Any]) -> None:
    """Keep what a Prometheus backfill's invocations report for the closing summary: this run's
    figures, and the whole backfill's (earlier runs resumed from the checkpoint included)."""
    if "points_total" not in result:
        return
    notes["documents"] = notes.get("documents", 0) + result["documents"]
    notes["points"] = notes.get("points", 0) + result["points"]
    notes["documents_total"], notes["points_total"] = result["documents_total"], result["points_total"]
    for reason, count in result.get("dropped", {}).items():
        notes.setdefault("dropped", {})[reason] = notes.get("dropped", {}).get(reason, 0) + count
    notes.setdefault("by_names", set()).update(result.get("typed_by_names", ()))


def _report(notes: dict[str, Any]) -> None:
    if "points" not in notes:
        return
    line = f"promwatch backfill: this run wrote {notes['documents']} documents, {notes['points']} data points"
    if (notes["documents_total"], notes["points_total"]) != (notes["documents"], notes["points"]):
        line += f" ({notes['documents_total']} documents, {notes['points_total']} data points in the whole backfill)"
    if notes.get("dropped"):
        line += "; dropped " + ", ".join(f"{n} {reason}" for reason, n in sorted(notes["dropped"].items()))
    if notes.get("by_names"):
        line += ("; the server has no metadata for " + ", ".join(sorted(notes["by_names"]))
                 + ": typed by their names (_total counter, _bucket histogram, else gauge)")
    print(line, file=sys.stderr)
