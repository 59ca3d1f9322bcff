"""Run every benchmark module and print one table per benchmark (``make bench``).

Each ``benchmarks/bench_*.py`` exposes ``run(quick: bool = False) -> list[dict]``; rows carry
``benchmark`` and ``subject`` plus the figures measured. Each module runs in a fresh interpreter;
within it, peers run in the same process and the same run as promwatch, so the machine's noise
affects both alike. ``--json FILE`` also writes
the rows for the README.
"""
from __future__ import annotations

import argparse
import json
import pkgutil
import platform
import subprocess
import sys
import time
from pathlib import Path


def _format(value: object) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)


def _print_table(rows: list[dict]) -> None:
    by_benchmark: dict[str, list[dict]] = {}
    for row in rows:
        by_benchmark.setdefault(str(row.get("benchmark", "?")), []).append(row)
    for name, group in by_benchmark.items():
        columns: list[str] = []
        for row in group:
            for key in row:
                if key != "benchmark" and key not in columns:
                    columns.append(key)
        cells = [[_format(row.get(c, "")) for c in columns] for row in group]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        print(f"\n## {name}")
        print("| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + " |")
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for r in cells:
            print("| " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) + " |")


_RUNNER = """
import json, sys
from benchmarks.{name} import run
print(json.dumps(run(quick={quick!r})))
"""


def _run_isolated(name: str, quick: bool) -> list[dict]:
    """The rows of one benchmark module, run in a fresh interpreter: what one benchmark leaves
    on the heap (caches, fragmented arenas) must not weigh on the next one's figures."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER.format(name=name, quick=quick)],
        cwd=root, check=True, stdout=subprocess.PIPE, text=True,
    )
    rows: list[dict] = json.loads(done.stdout.strip().splitlines()[-1])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument("--only", action="append", default=[], help="run only bench_<NAME> (repeatable)")
    parser.add_argument("--json", type=Path, help="also write all rows to this file")
    args = parser.parse_args()

    here = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if args.only:
        names = [n for n in names if n.removeprefix("bench_") in args.only or n in args.only]
    print(f"# promwatch benchmarks — {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}, {time.strftime('%Y-%m-%d')}")
    rows: list[dict] = []
    for name in names:
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(_run_isolated(name, args.quick))
        print(f"  {name}: {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    _print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
