"""Instructions per scrape of the pipeline's stages, counted by valgrind (a steady measure).

On a shared machine a stage's time moves 10% from run to run, more than most single changes
gain; the instructions the CPU executes for it do not move. This counts them with
``valgrind --tool=cachegrind`` on the generated page of :mod:`benchmarks.bench_pipeline`
(default 20k series: about 20 s per stage under valgrind), as the difference between a child
process that runs the stage four times and one that runs it once, so setup is not counted::

    python -m benchmarks.instructions                   # parse, translate, and translate per family type
    python -m benchmarks.instructions parse --series 5000

Not part of ``make bench``: it needs valgrind (``apt-get install valgrind``). Instructions are
not time (cache misses and allocation are not weighed), so confirm a gain with ``make bench``.
"""
from __future__ import annotations

import argparse
import gc
import re
import shutil
import subprocess
import sys
from pathlib import Path

STAGES = {
    "parse": None,
    "translate": None,
    "translate histograms": ("histogram",),
    "translate counters": ("counter",),
    "translate gauges": ("gauge", "unknown"),
}
_ROOT = Path(__file__).resolve().parents[1]


def _child(stage: str, series: int, repeats: int) -> None:
    """Set up a warm target, then run ``stage`` ``repeats`` times (what valgrind counts)."""
    from promwatch.emf import EmfSettings, TargetInfo, TranslationMemory, translate
    from promwatch.exposition import Family, ParserMemory, parse

    from benchmarks.bench_pipeline import INSTANCE, JOB, T0, generated_page

    first, second = generated_page(series, 1), generated_page(series, 2)
    target, settings = TargetInfo(JOB, INSTANCE), EmfSettings()
    parser_memory, translation_memory = ParserMemory(), TranslationMemory()
    kinds = STAGES[stage]

    def subset(text: str) -> list[Family]:
        return [f for f in parse(text, memory=parser_memory) if kinds is None or f.type in kinds]

    # the baselines of the same families: others' would all be "missing series" to retain
    baselines = translate(subset(first), target=target, previous=None, settings=settings, now_ms=T0,
                          memory=translation_memory).baselines
    families = subset(second)
    gc.disable()
    for _ in range(repeats):
        if stage == "parse":
            result: object = parse(second, memory=parser_memory)
        else:
            result = translate(families, target=target, previous=baselines, settings=settings, now_ms=T0 + 60_000,
                               memory=translation_memory)
        del result


def _instructions(stage: str, series: int, repeats: int) -> int:
    command = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
        sys.executable, "-m", "benchmarks.instructions", "--child", stage,
        "--series", str(series), "--repeats", str(repeats),
    ]
    done = subprocess.run(command, cwd=_ROOT, capture_output=True, text=True, check=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__.split("\n")[0])
    parser.add_argument("stages", nargs="*", metavar="STAGE",
                        help=f"one of {', '.join(map(repr, STAGES))} (default: all)")
    parser.add_argument("--series", type=int, default=20_000, help="series on the generated page")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.series, args.repeats)
        return 0
    unknown = [stage for stage in args.stages if stage not in STAGES]
    if unknown:
        parser.error(f"unknown stage {unknown[0]!r}; expected one of {', '.join(map(repr, STAGES))}")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found; expected it on PATH (apt-get install valgrind)")
    for stage in args.stages or STAGES:
        per_scrape = (_instructions(stage, args.series, 4) - _instructions(stage, args.series, 1)) / 3
        print(f"{stage:22s} {per_scrape / 1e6:8.1f} M instructions per scrape ({args.series:,} series)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
