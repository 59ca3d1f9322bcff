"""``promwatch demo``: the whole pipeline against the embedded AWS emulator, with a preview."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import warnings
from pathlib import Path
from types import FrameType


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``promwatch demo``."""
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="project root holding template.yaml, config/ and tests/e2e/apps "
                             "(default: the current directory or the first above it with template.yaml)")
    parser.add_argument("--out", type=Path, default=Path("out/demo"),
                        help="where the preview and the demo's scrape config go (default: out/demo)")
    parser.add_argument("--cycles", type=int, default=None, help="scrape cycles (default 6; 3 with --quick)")
    parser.add_argument("--interval", type=float, default=None,
                        help="seconds between scrape cycles (default 5; 2 with --quick)")
    parser.add_argument("--requests", type=int, default=None,
                        help="requests to the task-service between two cycles (default 60; 25 with --quick)")
    parser.add_argument("--no-node-exporter", action="store_true", help="do not scrape a node_exporter")
    parser.add_argument("--quick", action="store_true", help="a short run (3 cycles, 2 s apart)")


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C, so every started process is stopped on the way out.
    raise KeyboardInterrupt(f"signal {signum}")


def run(args: argparse.Namespace) -> int:
    """Run the demo; 0 when it ran to the end, 1 on an error, 130 when interrupted."""
    from dataclasses import replace

    from botocore.exceptions import BotoCoreError, ClientError
    from promwatch.errors import PromwatchError

    from promwatch_tools.local.demo import Demo, DemoOptions, find_project_root

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Powertools warns on every invocation that published no metrics of its own; noise here.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    try:
        root = find_project_root(args.root.resolve())
    except PromwatchError as error:
        print(f"promwatch demo: {error}", file=sys.stderr)
        return 2
    options = DemoOptions.quick(root, args.out) if args.quick else DemoOptions(root=root, out_dir=args.out)
    overrides = {
        "cycles": args.cycles, "interval_s": args.interval, "requests_per_cycle": args.requests,
    }
    options = replace(options, **{k: v for k, v in overrides.items() if v is not None})
    if args.no_node_exporter:
        options = replace(options, node_exporter=False)
    if options.cycles < 2:
        print("promwatch demo: --cycles must be at least 2 (the first scrape only records baselines)",
              file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        report = Demo(options, echo=lambda line: print(line, flush=True)).run()
    except KeyboardInterrupt:
        print("promwatch demo: interrupted; emulator and apps stopped", file=sys.stderr)
        return 130
    except PromwatchError as error:
        print(f"promwatch demo: {error}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:
        print(f"promwatch demo: the emulator refused a call: {error}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(f"done in {report.finished - report.started:.0f} s; open {report.preview}")
    return 0
