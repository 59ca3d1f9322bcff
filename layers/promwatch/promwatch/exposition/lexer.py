"""Tokens shared by both formats: metric and label names, quoted strings, escapes, series.

A *series* is the ``name{label="value",...}`` part of a sample line. Parsing it is the costly
part of a line, and it repeats scrape after scrape of the same target, so the parsers keep the
result in the :class:`~promwatch.exposition.memory.ParserMemory` they are given, keyed by the
raw text.
"""
from __future__ import annotations

import re
from sys import intern

from promwatch.exposition.errors import ExpositionError
from promwatch.exposition.memory import LABEL_SETS_CACHE_SIZE
from promwatch.labelnames import LABEL_NAME, LABEL_NAME_PATTERN

METRIC_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# Quoted strings as "unrolled loops" ([^"\\]*(?:\\.[^"\\]*)*): many times faster in Python's
# re than the alternation (?:[^"\\]|\\.)*, which steps through a branch per character.
_QUOTED_CONTENT = r'[^"\\]*(?:\\.[^"\\]*)*'
_QUOTED_RE = re.compile(rf'"({_QUOTED_CONTENT})"', re.DOTALL)
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_TEXT_HELP_ESCAPE_RE = re.compile(r"\\([\\n])")
_BLANKS = " \t"
# The label names of a canonical series joined as "a=,b=,c=" (see _parse_canonical).
_CANONICAL_KEYS_RE = re.compile(f"{LABEL_NAME_PATTERN}=(?:,{LABEL_NAME_PATTERN}=)*")

LINES_CHUNK_CHARS = 65_536
"""Characters of a page split into lines at a time (rounded up to a whole line): a big page is
never one list of lines, and a parse that stops early has split no more than it read."""

Series = tuple[str, dict[str, str]]


def count_sample_lines(text: str, start: int = 0) -> int:
    """Lines of ``text[start:]`` that are neither blank nor comments, counted without parsing
    (what a parse stopped by a sample limit reports as the rest of the page's samples)."""
    if start >= len(text):
        return 0
    lines = text.count("\n", start) + (0 if text.endswith("\n") else 1)
    skipped = text.count("\n#", start) + text.count("\n\n", start)
    if text[start] in "#\n":
        skipped += 1
    return max(lines - skipped, 0)


def _unescape_char(match: re.Match[str]) -> str:
    char = match.group(1)
    if char == "n":
        return "\n"
    if char in '\\"':
        return char
    # Unknown escapes stay as written, as Prometheus and the OpenMetrics suite expect.
    return match.group(0)


def unescape(text: str) -> str:
    r"""Resolve ``\\``, ``\"`` and ``\n`` in a label value, quoted name or help text."""
    if "\\" not in text:
        return text
    return _ESCAPE_RE.sub(_unescape_char, text)


def unescape_help(text: str, *, openmetrics: bool) -> str:
    r"""Resolve the escapes of a help text: ``\\`` and ``\n``, plus ``\"`` in OpenMetrics."""
    if "\\" not in text:
        return text
    if openmetrics:
        return _ESCAPE_RE.sub(_unescape_char, text)
    return _TEXT_HELP_ESCAPE_RE.sub(_unescape_char, text)


def escape_label_value(value: str) -> str:
    """Escape a label value (or quoted name) for an exposition."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """Escape a help text for the Prometheus text format (backslash and newline only)."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def read_quoted(text: str, pos: int) -> tuple[str, int]:
    """Read the quoted string starting at ``text[pos] == '"'``; return it unescaped and the
    position after its closing quote."""
    match = _QUOTED_RE.match(text, pos)
    if match is None:
        raise ExpositionError(0, f"unterminated quoted string in {text!r}")
    return unescape(match.group(1)), match.end()


def read_metric_name(text: str, pos: int) -> tuple[str, int]:
    """Read a metric name, plain or quoted (Prometheus 3 UTF-8 names), starting at ``pos``."""
    if pos < len(text) and text[pos] == '"':
        name, end = read_quoted(text, pos)
        if not name:
            raise ExpositionError(0, f"empty quoted metric name in {text!r}")
        return name, end
    match = METRIC_NAME_RE.match(text, pos)
    if match is None:
        raise ExpositionError(0, f"expected a metric name at {text[pos:pos + 20]!r}")
    return match.group(0), match.end()


def _skip(text: str, pos: int, blanks: str) -> int:
    while pos < len(text) and text[pos] in blanks:
        pos += 1
    return pos


def parse_canonical(text: str, label_sets: dict[str, dict[str, str]], openmetrics: bool) -> Series | None:
    """``name{a="b",...}`` in its usual form (no escapes, no quoted names, no blanks), or None
    to let the general scanner (:func:`parse_series`) decide.

    Label sets repeat across metrics (node_exporter's ``{device="eth0"}``, a pod's labels on
    each of its metrics), so parsed ``{...}`` parts are kept in ``label_sets`` (a
    :class:`~promwatch.exposition.memory.ParserMemory`'s) and their dicts shared.
    """
    brace = text.find("{")
    if brace < 0:
        return (text, {}) if METRIC_NAME_RE.fullmatch(text) else None
    name = intern(text[:brace])
    if METRIC_NAME_RE.fullmatch(name) is None:
        return None
    body = text[brace:]
    labels = label_sets.get(body)
    if labels is None:
        labels = parse_canonical_labels(body, openmetrics)
        if labels is None:
            return None
        if len(label_sets) >= LABEL_SETS_CACHE_SIZE:
            label_sets.clear()
        label_sets[body] = labels
    return name, labels


def parse_canonical_labels(body: str, openmetrics: bool) -> dict[str, str] | None:
    """``{a="b",...}`` in its usual form, or None (see :func:`parse_canonical`).

    Splitting on quotes puts the label values at odd positions and ``a=``, ``,b=``, ... at
    even ones; one regex over the joined names validates them all, with no per-label loop.
    """
    if body[-1] != "}" or "\\" in body:
        return None
    parts = body[1:-1].split('"')
    if len(parts) == 1:
        return {} if not parts[0] else None
    tail = parts[-1]
    if len(parts) % 2 == 0 or (tail and (tail != "," or openmetrics)):
        return None
    keys = "".join(parts[0:-1:2])
    if _CANONICAL_KEYS_RE.fullmatch(keys) is None:
        return None
    names = keys[:-1].split("=,")
    # Interned: the same names and values (namespace, container, le, ...) recur across the
    # series of a page, and a warm Lambda keeps them all; one copy each saves most of the
    # cache's memory. Equal lengths by construction (strict=True would double the cost).
    labels = dict(zip(map(intern, names), map(intern, parts[1::2])))  # noqa: B905
    if len(labels) != len(names) or "__name__" in labels:
        return None
    return labels


def parse_series(
    text: str, *, openmetrics: bool, named: bool = True, label_sets: dict[str, dict[str, str]] | None = None
) -> Series:
    """Parse ``name{label="value",...}`` (or ``{"utf8.name",label="value"}``).

    Parameters
    ----------
    text
        Exactly the series part of a sample line, nothing before or after.
    openmetrics
        OpenMetrics is strict: no blanks, no trailing comma. The text format allows both.
    named
        False for an exemplar's label set, which has no metric name (it is returned as ``""``).
    label_sets
        Canonical label sets already parsed (a :class:`ParserMemory`'s, of the same format),
        shared and added to; None: none.

    Returns
    -------
    tuple
        The metric name and its label dict (shared with equal label sets when ``label_sets``
        is given: read-only).

    Raises
    ------
    ExpositionError
        With line 0; the caller places it on its line.
    """
    if named:
        canonical = parse_canonical(text, {} if label_sets is None else label_sets, openmetrics)
        if canonical is not None:
            return canonical
    elif text[:1] == "{":
        canonical_labels = parse_canonical_labels(text, openmetrics)
        if canonical_labels is not None:
            return "", canonical_labels
    blanks = "" if openmetrics else _BLANKS
    end = len(text)
    pos = _skip(text, 0, blanks)
    name: str | None = None
    if pos < end and text[pos] != "{":
        name, pos = read_metric_name(text, pos)
        pos = _skip(text, pos, blanks)
    labels: dict[str, str] = {}
    if pos == end:
        if name is None or not named:
            raise ExpositionError(0, "expected a metric name, got nothing")
        return name, labels
    if text[pos] != "{":
        raise ExpositionError(0, f"expected '{{' or a blank after metric name {name!r}, got {text[pos:pos + 20]!r}")
    pos = _skip(text, pos + 1, blanks)
    first = True
    while pos < end and text[pos] != "}":
        if not first:
            if text[pos] != ",":
                raise ExpositionError(0, f"expected ',' or '}}' between labels, got {text[pos:pos + 20]!r}")
            pos = _skip(text, pos + 1, blanks)
            if not openmetrics and pos < end and text[pos] == "}":
                break  # the text format allows a trailing comma
        if pos < end and text[pos] == '"':
            quoted, pos = read_quoted(text, pos)
            pos = _skip(text, pos, blanks)
            if pos < end and text[pos] != "=":
                if not first or name is not None or not named:
                    raise ExpositionError(0, f"quoted metric name {quoted!r} must come first inside the braces")
                if not quoted:
                    raise ExpositionError(0, "empty quoted metric name")
                name = quoted
                first = False
                continue
            label = quoted
            if not label:
                raise ExpositionError(0, "empty quoted label name")
        else:
            match = LABEL_NAME.match(text, pos)
            if match is None:
                raise ExpositionError(0, f"expected a label name, got {text[pos:pos + 20]!r}")
            label = match.group(0)
            pos = _skip(text, match.end(), blanks)
        if pos >= end or text[pos] != "=":
            raise ExpositionError(0, f"expected '=' after label name {label!r}")
        pos = _skip(text, pos + 1, blanks)
        if pos >= end or text[pos] != '"':
            raise ExpositionError(0, f"expected a double-quoted value for label {label!r}")
        value, pos = read_quoted(text, pos)
        pos = _skip(text, pos, blanks)
        if label in labels:
            raise ExpositionError(0, f"duplicate label {label!r}")
        labels[label] = value
        first = False
    if pos >= end:
        raise ExpositionError(0, f"missing '}}' at the end of labels in {text!r}")
    pos = _skip(text, pos + 1, blanks)
    if pos != end:
        raise ExpositionError(0, f"unexpected text after labels: {text[pos:pos + 20]!r}")
    if not named:
        if name is not None:
            raise ExpositionError(0, f"unexpected metric name {name!r} in a label set")
        return "", labels
    if "__name__" in labels:
        if name is not None:
            raise ExpositionError(0, f"metric name given twice: {name!r} and __name__={labels['__name__']!r}")
        name = labels.pop("__name__")
    if not name:
        raise ExpositionError(0, f"no metric name in {text!r}")
    return name, labels
