"""``promwatch parse FILE|-``: parse an exposition and print its families as JSON.

Values that JSON cannot hold (NaN, +Inf, -Inf) are printed as the strings ``"NaN"``,
``"+Inf"`` and ``"-Inf"``, as the exposition formats spell them; every other value is a
JSON number. Timestamps are seconds (or null). Exit 0 on success; on a bad page, exit 1
with ``line N: reason`` on stderr.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from promwatch.exposition import FORMATS, ExpositionError, Family, parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``FILE|-`` and ``--format``."""
    parser.add_argument("file", metavar="FILE", help="the exposition to parse, or - for stdin")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="force a format (default: OpenMetrics when the page ends with # EOF)")


def json_number(value: float) -> float | str:
    """``value`` as JSON can hold it: a number, or "NaN", "+Inf", "-Inf"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value


def families_to_json(families: list[Family]) -> list[dict[str, Any]]:
    """The JSON shape of the command's output (exemplars included when present)."""
    out = []
    for family in families:
        samples = []
        for sample in family.samples:
            item: dict[str, Any] = {
                "name": sample.name, "labels": dict(sample.labels),
                "value": json_number(sample.value), "timestamp": sample.timestamp,
            }
            if sample.exemplar is not None:
                item["exemplar"] = {
                    "labels": dict(sample.exemplar.labels), "value": json_number(sample.exemplar.value),
                    "timestamp": sample.exemplar.timestamp,
                }
            samples.append(item)
        out.append({"name": family.name, "type": family.type, "help": family.help, "unit": family.unit,
                    "samples": samples})
    return out


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ExpositionError(line, f"invalid UTF-8 byte {data[error.start:error.start + 1]!r}") from None


def run(args: argparse.Namespace) -> int:
    """Parse the file and print JSON (0), or print ``line N: reason`` to stderr (1)."""
    try:
        if args.file == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(args.file, "rb") as handle:
                data = handle.read()
    except OSError as error:
        print(f"cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 1
    try:
        families = parse(_decode(data), args.format)
    except ExpositionError as error:
        print(error, file=sys.stderr)
        return 1
    json.dump(families_to_json(families), sys.stdout, allow_nan=False)
    sys.stdout.write("\n")
    return 0
