"""Exposition parsers: text format 0.0.4, OpenMetrics 1.0, lenient parsing, negotiation, render.

Input framing: an optional Content-Type header, then a NUL byte, then the page; without a
NUL byte the whole input is the page (and the format is detected from it). The page is
decoded as UTF-8 with ``surrogateescape``, so every byte string is some page and bytes that
are not UTF-8 reach the parsers as lone surrogates (as a ``charset=unicode_escape`` target can
make them).

Documented errors: :class:`~promwatch.exposition.ExpositionError` from ``parse`` and from
``parse_lenient`` of OpenMetrics; nothing at all from ``parse_lenient`` of the text format or
from ``detect_format``. Properties checked on every input:

- the strict parse gives the same outcome (families or error) cold and with warm caches;
- ``parse(content_type=...)`` is the strict parse of the format ``detect_format`` picks;
- lenient text parsing never raises; its first error is the strict parse's error, and with
  no errors its families are the strict parse's;
- OpenMetrics' lenient parse is its strict parse;
- families that parsed (strictly or leniently), rendered in that format, parse strictly to
  the same families.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from promwatch.exposition import (
    FORMATS,
    ExpositionError,
    Family,
    ParserMemory,
    detect_format,
    parse,
    parse_lenient,
    render,
)

from fuzz.harness import Harness, PropertyBroken, check, chunks, repo_files

MAX_LEN = 4096

Outcome = list[tuple[Any, ...]] | tuple[int, str]
"""Comparable families, or the (line, reason) of the error the parse raised."""


def split_input(data: bytes) -> tuple[str | None, str]:
    """The Content-Type header (None without a NUL byte) and the page of an input."""
    header, nul, body = data.partition(b"\0")
    if not nul:
        return None, data.decode("utf-8", "surrogateescape")
    return header.decode("latin-1"), body.decode("utf-8", "surrogateescape")


def _number(value: float) -> object:
    return "NaN" if math.isnan(value) else value  # NaN != NaN: compare a marker instead


def comparable(families: list[Family]) -> list[tuple[Any, ...]]:
    """Families as plain values that compare equal when the families do (NaN included)."""
    return [
        (family.name, family.type, family.help, family.unit, [
            (sample.name, dict(sample.labels), _number(sample.value), sample.timestamp,
             None if sample.exemplar is None else (
                 dict(sample.exemplar.labels), _number(sample.exemplar.value), sample.exemplar.timestamp))
            for sample in family.samples
        ])
        for family in families
    ]


def _outcome(parser: Callable[..., list[Family]], *args: Any, **kwargs: Any) -> Outcome:
    try:
        return comparable(parser(*args, **kwargs))
    except ExpositionError as error:
        return (error.line, error.reason)


def _round_trip(families: list[Family], format: str, origin: str) -> None:
    page = render(families, format)
    try:
        again = parse(page, format)
    except ExpositionError as error:
        raise PropertyBroken(f"{origin} families rendered as {format} do not parse back: {error}\n{page!r}") from None
    check(comparable(again) == comparable(families),
          f"{origin} families rendered as {format} parse back to other families\n{page!r}")


def test_one_input(data: bytes) -> None:
    """Parse one input every way and check the properties above."""
    content_type, text = split_input(data)
    negotiated = detect_format(content_type, text)
    check(negotiated in FORMATS, f"detect_format gave {negotiated!r}")

    cold = {format: _outcome(parse, text, format) for format in FORMATS}
    memory = ParserMemory()
    for format in FORMATS:
        for attempt in ("first", "second"):
            check(_outcome(parse, text, format, memory=memory) == cold[format],
                  f"{format}: the {attempt} parse with a memory differs from the cold parse")
    check(_outcome(parse, text, content_type=content_type) == cold[negotiated],
          f"parse(content_type={content_type!r}) is not the {negotiated} parse")

    lenient = parse_lenient(text, "prometheus")
    strict = cold["prometheus"]
    if isinstance(strict, tuple):
        first = (lenient.errors[0].line, lenient.errors[0].reason) if lenient.errors else None
        check(first == strict, f"lenient text parse: first error {first} is not the strict parse's {strict}")
    else:
        check(not lenient.errors and comparable(lenient.families) == strict,
              "lenient text parse of a valid page differs from the strict parse")
    check(_outcome(lambda: parse_lenient(text, "openmetrics").families) == cold["openmetrics"],
          "lenient OpenMetrics parse is not the strict one")

    _round_trip(lenient.families, "prometheus", "leniently parsed text")
    if not isinstance(cold["openmetrics"], tuple):
        _round_trip(parse(text, "openmetrics"), "openmetrics", "OpenMetrics")


def seeds() -> list[bytes]:
    """The repository's pages (golden files, the node_exporter page in pieces), some behind a
    Content-Type header."""
    pages = [path.read_bytes() for path in repo_files(
        "tests/golden/exposition/*.prom", "tests/golden/exposition/*.om", "tests/golden/emf/*.prom",
        "tests/golden/emf/*.om", "tests/golden/scrape/*.prom",
    )]
    pages += chunks(repo_files("benchmarks/data/node_exporter.prom")[0].read_bytes(), MAX_LEN)
    headers = [
        b"application/openmetrics-text; version=1.0.0; charset=utf-8\0",
        b"text/plain; version=0.0.4; charset=utf-8\0",
    ]
    return pages + [header + page for header in headers for page in pages[:4]]


HARNESS = Harness(
    name="exposition",
    test_one_input=test_one_input,
    seeds=seeds,
    share=6,
    max_len=MAX_LEN,
    dictionary=(
        "# HELP ", "# TYPE ", "# UNIT ", "# EOF", "\n# EOF\n", "counter", "gauge", "histogram",
        "gaugehistogram", "summary", "info", "stateset", "unknown", "untyped", "_total", "_created",
        "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info", 'le="+Inf"', 'quantile="0.5"',
        "+Inf", "-Inf", "NaN", " # {", '{trace_id="', "\\n", '\\"', "\\\\", '="', '",', "{", "}",
        "__name__", "1e+308", "application/openmetrics-text", "text/plain", "; version=0.0.4",
    ),
)
