"""The EMF validator on arbitrary JSON documents.

Input: JSON text (anything Python's ``json`` reads: NaN, huge numbers, lone surrogates).
:func:`promwatch.emf.problems` returns a list of messages for any document and raises
nothing; :func:`promwatch.emf.validate` raises :class:`~promwatch.emf.EmfValidationError`
carrying exactly those messages when there are any, and nothing otherwise.
"""
from __future__ import annotations

import json

from promwatch.emf import EmfValidationError, problems, validate

from fuzz.harness import Harness, check, repo_files
from fuzz.mutators import JSON, structured

MAX_LEN = 4096


def test_one_input(data: bytes) -> None:
    """Validate the input's document both ways and compare."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):  # not JSON: no document (UnicodeDecodeError is a ValueError)
        return
    found = problems(document)
    check(isinstance(found, list) and all(isinstance(p, str) for p in found), f"problems gave {found!r}")
    try:
        validate(document)
    except EmfValidationError as error:
        check(error.problems == found, f"validate raised {error.problems!r}; problems gave {found!r}")
    else:
        check(not found, f"validate passed a document with problems {found!r}")


def seeds() -> list[bytes]:
    """The repository's golden EMF documents, one per seed."""
    return [
        line for path in repo_files("tests/golden/emf/*.jsonl", "tests/golden/scrape/*.jsonl", "tests/golden/insights/*.jsonl")
        for line in path.read_bytes().splitlines() if line.strip() and len(line) <= MAX_LEN
    ]


HARNESS = Harness(
    name="emf_validate",
    test_one_input=test_one_input,
    seeds=seeds,
    share=3,
    max_len=MAX_LEN,
    mutator=structured(JSON),
    dictionary=(
        '"_aws"', '"Timestamp"', '"CloudWatchMetrics"', '"Namespace"', '"Dimensions"', '"Metrics"',
        '"Name"', '"Unit"', '"StorageResolution"', '"Values"', '"Counts"', '"Max"', '"Min"', '"Count"',
        '"Sum"', '"Seconds"', '"Bytes"', '"None"', "NaN", "Infinity", "-Infinity", "1e999", "-1",
        "null", "true", "[]", "{}", "\\ud800", "\\u0000", '":x"',
    ),
)
