"""Run every benchmark module and print one table per benchmark (``make bench``).

Each ``benchmarks/bench_*.py`` exposes ``run(quick: bool = False) -> list[dict]``; rows carry
``benchmark`` and ``subject`` plus the figures measured. Peers run in the same process and the
same run as promwatch, so the machine's noise affects both alike. ``--json FILE`` also writes
the rows for the README.
"""
from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import platform
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
        module = importlib.import_module(f"benchmarks.{name}")
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        result = module.run(quick=args.quick)
        rows.extend(result)
        print(f"  {name}: {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    _print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
