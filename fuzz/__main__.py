"""Run every harness for a number of inputs each and report (``make fuzz``).

``python -m fuzz [--inputs N] [--jobs J] [--only NAME ...]`` fuzzes each harness in a child
process (:mod:`fuzz.engine`), ``J`` at a time, for its share of ``N`` inputs in all (each
harness' ``share``; the seed corpus counts), then prints the inputs, time and rate per
harness. It exits 1 when any harness hit an
exception other than its target's documented errors, a broken property, a timeout or an
out-of-memory: libFuzzer saved the input under ``fuzz/crashes/`` and the tail of the log
(``fuzz/work/<name>.log``) is printed. The working corpus (``fuzz/work/corpus/<name>/``) is
kept between runs, so each run starts where the last one got to.

``python -m fuzz --reproduce NAME FILE...`` runs saved inputs through the harness again, in
this process, without atheris: the full traceback of a crash, or nothing when it is fixed.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from fuzz import HARNESSES
from fuzz.harness import ROOT, Harness

FUZZ_DIR = ROOT / "fuzz"
WORK_DIR = FUZZ_DIR / "work"
CRASH_DIR = FUZZ_DIR / "crashes"
INPUT_TIMEOUT_SECONDS = 20
"""One input taking longer is a failure (libFuzzer saves it as ``timeout-...``)."""
_DONE = re.compile(r"^Done (\d+) in (\d+) second", re.MULTILINE)
_ARTIFACT = re.compile(r"Test unit written to (\S+)")
_CORPUS = re.compile(r" corp: (\d+)/")


@dataclass
class Run:
    """One harness' child process and, once it ended, what it did."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    started: float
    corpus: Path
    seconds: float = 0.0
    inputs: int = 0
    corpus_size: int = 0
    failure: str | None = None


def _harness(name: str) -> Harness:
    harness: Harness = importlib.import_module(f"fuzz.{name}").HARNESS
    return harness


def _dictionary_entry(token: str) -> str:
    escaped = "".join(
        f"\\x{byte:02x}" if byte < 0x20 or byte > 0x7E or byte in b'"\\' else chr(byte)
        for byte in token.encode("utf-8")
    )
    return f'"{escaped}"'


def _prepare(harness: Harness) -> tuple[Path, Path]:
    """The harness' corpus directory (seeds added) and dictionary file."""
    corpus = WORK_DIR / "corpus" / harness.name
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in harness.seeds():
        (corpus / f"seed-{hashlib.sha1(seed).hexdigest()}").write_bytes(seed)
    dictionary = WORK_DIR / f"{harness.name}.dict"
    dictionary.write_text("".join(_dictionary_entry(token) + "\n" for token in harness.dictionary))
    return corpus, dictionary


def _start(name: str, runs: int) -> Run:
    harness = _harness(name)
    corpus, dictionary = _prepare(harness)
    log = WORK_DIR / f"{name}.log"
    command = [
        sys.executable, "-m", "fuzz.engine", name,
        f"-atheris_runs={runs}", f"-max_len={harness.max_len}", f"-timeout={INPUT_TIMEOUT_SECONDS}",
        f"-artifact_prefix={CRASH_DIR}/{name}-", f"-dict={dictionary}", str(corpus),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    return Run(name, process, log, time.monotonic(), corpus)


def _finish(run: Run) -> None:
    run.seconds = time.monotonic() - run.started
    text = run.log.read_text(errors="replace")
    done = _DONE.findall(text)
    if done:
        run.inputs = int(done[-1][0])
    sizes = _CORPUS.findall(text)
    if sizes:
        run.corpus_size = int(sizes[-1])
    if run.process.returncode != 0 or not done:
        artifact = _ARTIFACT.search(text)
        saved = f"; input saved to {Path(artifact.group(1)).resolve()}" if artifact else ""
        tail = "\n".join(text.splitlines()[-40:])
        run.failure = f"exit code {run.process.returncode}{saved}\n--- {run.log} (tail) ---\n{tail}"


def split(names: list[str], inputs: int) -> dict[str, int]:
    """Each harness' part of ``inputs``, by share (the remainder of the rounding to the first)."""
    shares = {name: _harness(name).share for name in names}
    parts = {name: inputs * share // sum(shares.values()) for name, share in shares.items()}
    parts[names[0]] += inputs - sum(parts.values())
    return parts


def fuzz(names: list[str], inputs: int, jobs: int) -> list[Run]:
    """Fuzz the harnesses for ``inputs`` in all, ``jobs`` at a time; the finished runs."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    CRASH_DIR.mkdir(parents=True, exist_ok=True)
    parts = split(names, inputs)
    waiting = sorted(names, key=parts.__getitem__, reverse=True)  # the longest first
    running: list[Run] = []
    finished: list[Run] = []
    while waiting or running:
        while waiting and len(running) < jobs:
            name = waiting.pop(0)
            print(f"fuzz: {name}: {parts[name]:,} inputs ...", flush=True)
            running.append(_start(name, parts[name]))
        time.sleep(0.5)
        for run in [r for r in running if r.process.poll() is not None]:
            running.remove(run)
            _finish(run)
            finished.append(run)
            status = "FAILED" if run.failure else "clean"
            print(f"fuzz: {run.name}: {run.inputs:,} inputs in {run.seconds:.0f} s, {status}", flush=True)
    return finished


def _report(runs: list[Run], wall_seconds: float) -> None:
    print(f"\n| harness | inputs | seconds | inputs/s | corpus | result |\n|{'---|' * 6}")
    for run in sorted(runs, key=lambda r: list(HARNESSES).index(r.name)):
        rate = run.inputs / run.seconds if run.seconds else 0.0
        result = "FAILED" if run.failure else "clean"
        print(f"| {run.name} | {run.inputs:,} | {run.seconds:.0f} | {rate:,.0f} | {run.corpus_size:,} | {result} |")
    total = sum(r.inputs for r in runs)
    print(f"\ntotal: {total:,} inputs in {wall_seconds:.0f} s wall time "
          f"({sum(r.seconds for r in runs):.0f} s of harness time)")
    for run in runs:
        if run.failure:
            print(f"\nfuzz: {run.name} FAILED: {run.failure}", file=sys.stderr)


def reproduce(name: str, files: list[str]) -> None:
    """Run saved inputs through harness ``name`` in this process (raises what it raises)."""
    harness = _harness(name)
    for file in files:
        harness.test_one_input(Path(file).read_bytes())
        print(f"{file}: no failure")


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=1_000_000,
                        help="inputs in all, split between the harnesses by share (default 1,000,000)")
    parser.add_argument("--jobs", type=int, default=2, help="harnesses fuzzed at once (default 2)")
    parser.add_argument("--only", nargs="+", choices=list(HARNESSES), help="these harnesses only")
    parser.add_argument("--reproduce", nargs="+", metavar=("NAME", "FILE"),
                        help="run saved inputs through harness NAME, without atheris")
    args = parser.parse_args(argv)
    if args.reproduce:
        name, *files = args.reproduce
        if name not in HARNESSES or not files:
            parser.error(f"--reproduce takes a harness ({', '.join(HARNESSES)}) and input files")
        reproduce(name, files)
        return 0
    started = time.monotonic()
    runs = fuzz(args.only or list(HARNESSES), args.inputs, args.jobs)
    _report(runs, time.monotonic() - started)
    return 1 if any(run.failure for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
