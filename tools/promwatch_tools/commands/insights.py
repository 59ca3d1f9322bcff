"""``promwatch insights FILE|- [--rules FILE]``: roll up performance events, print EMF.

Reads one JSON performance event per line (blank lines ignored), applies the rules and
prints the EMF documents, one JSON object per line. Malformed lines are reported on stderr
(``FILE event N skipped: reason``, N counting non-blank lines) and the rest goes through. Exit status: 0, or 2 when the
rules or the input cannot be read.
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from typing import TextIO

from promwatch.emf import serialize
from promwatch.errors import PromwatchError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``promwatch insights``."""
    parser.add_argument("file", metavar="FILE", help="performance events, one JSON per line ('-' for stdin)")
    parser.add_argument(
        "--rules", default="builtin",
        help="rules file, ssm:/name, s3://bucket/key, or 'builtin' (the default rules; see config/insights.yaml)",
    )
    parser.add_argument("--self-metrics", action="store_true", help="also print the Promwatch self-metric document")


def _lines(stream: TextIO) -> Iterator[str]:
    for line in stream:
        if line.strip():
            yield line


def run(args: argparse.Namespace) -> int:
    """Run ``promwatch insights``; returns the exit status."""
    # Skipped events are reported on stderr whatever logging the caller has configured.
    report = logging.StreamHandler(sys.stderr)
    report.setFormatter(logging.Formatter("%(message)s"))
    insights_logger = logging.getLogger("promwatch.insights")
    insights_logger.addHandler(report)
    try:
        return _run(args)
    finally:
        insights_logger.removeHandler(report)


def _run(args: argparse.Namespace) -> int:
    import time

    from promwatch.insights import (
        InsightsStats,
        Rollup,
        compile_rules,
        load_rules,
        rollup_messages,
        rollup_output,
    )

    try:
        rules = compile_rules(load_rules(args.rules))
        stats = InsightsStats()
        if args.file == "-":
            rollup = rollup_messages(_lines(sys.stdin), Rollup(rules), stats, where="<stdin>")
        else:
            with open(args.file, encoding="utf-8") as stream:
                rollup = rollup_messages(_lines(stream), Rollup(rules), stats, where=args.file)
    except PromwatchError as error:
        print(f"promwatch insights: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"promwatch insights: {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    documents, stats.dropped_groups = rollup_output(rollup)
    stats.documents = len(documents)
    if args.self_metrics:
        documents += stats.report(component="insights", stage="cli", timestamp_ms=int(time.time() * 1000))
    out = sys.stdout
    for document in documents:
        out.write(serialize(document) + "\n")
    out.flush()
    print(
        f"{stats.events} events, {stats.malformed} malformed, {stats.unmatched} of no rule's type, "
        f"{stats.documents} EMF documents",
        file=sys.stderr,
    )
    return 0
