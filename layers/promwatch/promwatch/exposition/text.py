"""The Prometheus text format 0.0.4 (with Prometheus 3's quoted UTF-8 names).

Samples are grouped into families by metric name, as Prometheus's metadata does: the
samples of one family stay one family even when other families' lines come between them.

Speed: a sample line is almost always ``<series> <value>``, and the series texts repeat
scrape after scrape, so each line is cut at its last blank (``str.rpartition``, in C) and
the part before it looked up in the parsed series of the :class:`ParserMemory` it is given;
the per-sample Python work is that lookup, a ``float`` and a tuple. Comment lines come from
the memory too. Anything else -- a series not seen yet, a timestamp, odd spacing, an error --
takes a slower path, and lines not in the usual shape go through the general line parser,
which gives the exact error.
"""
from __future__ import annotations

from sys import intern
from typing import Any

from promwatch.exposition.errors import ExpositionError
from promwatch.exposition.lexer import (
    LINES_CHUNK_CHARS,
    METRIC_NAME_RE,
    Series,
    count_sample_lines,
    parse_canonical_labels,
    parse_series,
    read_metric_name,
    unescape_help,
)
from promwatch.exposition.memory import LABEL_SETS_CACHE_SIZE, SERIES_CACHE_SIZE, Comment, ParserMemory
from promwatch.exposition.model import Family, Sample
from promwatch.gcpause import collector_paused

TEXT_TYPES = {
    "counter": "counter", "gauge": "gauge", "histogram": "histogram", "summary": "summary",
    "untyped": "unknown",
}
"""TYPE keywords of the text format and the family type each becomes."""

# Sample name suffixes a declared family owns when no family has the suffixed name itself
# (a text page that names its counter "foo" and writes "foo_total" samples, OpenMetrics-style).
_SUFFIX_TYPES = (
    ("_bucket", ("histogram",)),
    ("_count", ("histogram", "summary")),
    ("_sum", ("histogram", "summary")),
    ("_total", ("counter",)),
    ("_created", ("counter", "histogram", "summary")),
)
_BLANKS = " \t"
_MISSING: Any = object()
_new_tuple = tuple.__new__
_is_metric_name = METRIC_NAME_RE.fullmatch


def _valid_name(name: str, names: dict[str, bool]) -> bool:
    """Whether ``name`` is a plain metric name (remembered in ``names`` when it is: a family's
    name recurs in its HELP, TYPE and sample lines, and checking one costs more than a lookup)."""
    if not ((name.isidentifier() and name.isascii()) or _is_metric_name(name)):  # the common case first
        return False
    if len(names) >= SERIES_CACHE_SIZE:
        names.clear()
    names[name] = True
    return True


def _series(key: str, memory: ParserMemory) -> Series:
    """Parse the series text of a sample line on a cache miss and remember it.

    The usual form (a plain name, canonical labels) is read here, its label set itself
    kept across series; anything else goes to the general scanner, which raises the exact
    error for text that is not a series.
    """
    brace = key.find("{")
    name = key if brace < 0 else key[:brace]
    names = memory.text_names
    if brace == 0 or not (name in names or _valid_name(name, names)):
        parsed = parse_series(key, openmetrics=False)  # a quoted UTF-8 name, blanks, or not a series
    elif brace < 0:
        parsed = (key, {})
    else:
        body = key[brace:]
        label_sets = memory.text_label_sets
        labels = label_sets.get(body)
        if labels is None:
            labels = parse_canonical_labels(body, False)
            if labels is not None:
                if len(label_sets) >= LABEL_SETS_CACHE_SIZE:
                    label_sets.clear()
                label_sets[body] = labels
        parsed = (intern(name), labels) if labels is not None else parse_series(key, openmetrics=False)
    cache = memory.text_series
    if len(cache) >= SERIES_CACHE_SIZE:
        cache.clear()
    cache[key] = parsed
    return parsed


def _read_comment(line: str) -> Comment:
    """``(is HELP, metric name, help text or family type)`` of a HELP/TYPE line; None for
    other comments, which the text format ignores."""
    pos = 1
    while pos < len(line) and line[pos] in _BLANKS:
        pos += 1
    keyword = line[pos:pos + 4]
    if keyword not in ("HELP", "TYPE") or line[pos + 4:pos + 5] not in _BLANKS or len(line) == pos + 4:
        return None
    pos += 4
    while pos < len(line) and line[pos] in _BLANKS:
        pos += 1
    name, pos = read_metric_name(line, pos)
    if pos < len(line) and line[pos] not in _BLANKS:
        raise ExpositionError(0, f"expected a blank after metric name {name!r} in {keyword}")
    while pos < len(line) and line[pos] in _BLANKS:
        pos += 1
    return _meta(keyword, name, line[pos:])


def _meta(keyword: str, name: str, rest: str) -> Comment:
    if keyword == "HELP":
        return True, name, unescape_help(rest, openmetrics=False) if "\\" in rest else rest
    type_ = TEXT_TYPES.get(rest.rstrip(_BLANKS))
    if type_ is None:
        raise ExpositionError(0, f"invalid TYPE {rest!r} for {name!r}; expected one of {', '.join(TEXT_TYPES)}")
    return False, name, type_


def _cached_comment(line: str, memory: ParserMemory) -> Comment:
    """Parse a comment line on a cache miss and remember it."""
    parts = line.split(" ", 3)
    comment: Comment = _MISSING
    # "# HELP name text" / "# TYPE name type" with single spaces, as exporters write them
    if len(parts) == 4 and parts[0] == "#" and parts[3][:1] not in _BLANKS and (
        parts[2] in memory.text_names or _valid_name(parts[2], memory.text_names)
    ):
        keyword, name, rest = parts[1], parts[2], parts[3]
        if keyword == "HELP":
            comment = (True, name, rest if "\\" not in rest else unescape_help(rest, openmetrics=False))
        elif keyword == "TYPE" and rest in TEXT_TYPES:
            comment = (False, name, TEXT_TYPES[rest])
    if comment is _MISSING:
        comment = _read_comment(line)
    comments = memory.text_comments
    if len(comments) >= SERIES_CACHE_SIZE:
        comments.clear()
    comments[line] = comment
    return comment


def _split_line(line: str) -> tuple[str, list[str]]:
    """The series text of a sample line and the fields after it (value, timestamp)."""
    brace = line.rfind("}")
    if brace < 0:
        parts = line.split()
        if not parts:
            raise ExpositionError(0, f"expected a sample or a comment, got {line!r}")
        return parts[0], parts[1:]
    return line[: brace + 1], line[brace + 1:].split()


# A family under construction is a list (cheaper than an object on pages of hundreds of
# families): [name, type, help, samples, has_help, has_type].
_NAME, _TYPE, _HELP, _SAMPLES, _HAS_HELP, _HAS_TYPE = range(6)
Builder = list[Any]
_DECLARATIONS = {_HELP: ("HELP", _HAS_HELP), _TYPE: ("TYPE", _HAS_TYPE)}
"""A declaration's slot -> its keyword, and the slot that says it was read."""


def _new_builder(name: str) -> Builder:
    return [name, "unknown", "", [], False, False]


def _samples_of(name: str, builders: dict[str, Builder], placed: dict[str, list[Sample]]) -> list[Sample]:
    """The samples list of the family ``name`` belongs to: its own, a histogram's or summary's
    by suffix, or a new unknown family; remembered in ``placed`` for the rest of the page."""
    builder = builders.get(name)
    if builder is None:
        for suffix, types in _SUFFIX_TYPES:
            if name.endswith(suffix):
                base = builders.get(name[: -len(suffix)])
                if base is not None and base[_TYPE] in types:
                    builder = base
                    break
        else:
            builder = builders[name] = _new_builder(name)
    samples: list[Sample] = builder[_SAMPLES]
    placed[name] = samples
    return samples


def _declare(name: str, slot: int, value: str, builders: dict[str, Builder]) -> None:
    """Set the family's HELP or TYPE (``slot``); a second one must say the same."""
    what, has = _DECLARATIONS[slot]
    builder = builders.get(name)
    if builder is None:
        builder = builders[name] = _new_builder(name)
    elif builder[has] and builder[slot] != value:
        # a TYPE names both types; a HELP text may be long
        shown = ("", "") if slot == _HELP else (f" ({value})", f" ({builder[slot]})")
        raise ExpositionError(0, f"second {what} for {name!r}{shown[0]} differs from the first{shown[1]}")
    builder[slot] = value
    builder[has] = True


def _type(name: str, type_: str, builders: dict[str, Builder], placed: dict[str, list[Sample]]) -> None:
    if name in placed:
        raise ExpositionError(0, f"TYPE for {name!r} after its samples; it must come first")
    _declare(name, _TYPE, type_, builders)


def _comment(comment: Comment, builders: dict[str, Builder], placed: dict[str, list[Sample]]) -> None:
    """Apply a parsed HELP or TYPE comment (None: another comment, ignored)."""
    if comment is not None:
        is_help, name, value = comment
        if is_help:
            _declare(name, _HELP, value, builders)
        else:
            _type(name, value, builders, placed)


def _line(line: str, memory: ParserMemory, builders: dict[str, Builder],
          placed: dict[str, list[Sample]]) -> bool:
    """Parse any line the fast pattern did not take (blank-led, oddly spaced, or bad); True
    when it was a sample."""
    stripped = line.strip(_BLANKS)
    if not stripped:
        return False
    if stripped[0] == "#":
        _comment(_read_comment(stripped), builders, placed)
        return False
    key, fields = _split_line(stripped)
    name, labels = memory.text_series.get(key) or _series(key, memory)
    if not fields:
        raise ExpositionError(0, f"missing value after {key!r}")
    if len(fields) > 2:
        raise ExpositionError(0, f"unexpected text after value and timestamp: {' '.join(fields[2:])!r}")
    value = _float(fields[0], "value")
    timestamp = _timestamp(fields[1]) if len(fields) == 2 else None
    samples = placed.get(name) or _samples_of(name, builders, placed)
    samples.append(Sample(name, labels, value, timestamp))
    return True


def _float(text: str, what: str) -> float:
    """A value as Prometheus reads it: Go's ParseFloat without underscores or hex floats."""
    if "_" not in text and text.isascii():
        try:
            return float(text)
        except ValueError:
            pass  # refused below, as the other shapes
    raise ExpositionError(0, f"invalid {what} {text!r}; expected a number, +Inf, -Inf or NaN")


def _timestamp(text: str) -> float:
    """Integer milliseconds since the epoch, as seconds."""
    if "_" not in text and text.isascii():
        try:
            return int(text) / 1000
        except (ValueError, OverflowError):  # OverflowError: beyond a float
            pass  # refused below, as the other shapes
    raise ExpositionError(0, f"invalid timestamp {text!r}; expected integer milliseconds")


TextParse = tuple[list[Family], list[ExpositionError], int, bool]


def parse_text(
    text: str, *, lenient: bool, max_samples: int | None = None, memory: ParserMemory | None = None
) -> TextParse:
    """Parse a text-format page.

    Parameters
    ----------
    text
        The whole page.
    lenient
        Skip bad lines and return their errors (True), or raise the first one (False).
    max_samples
        Stop parsing once more samples than this have been read: the rest is counted, not
        parsed (the scrape fails its ``sample_limit`` either way).
    memory
        The parsed pieces of earlier pages, added to; None: a fresh one (the result is the same).

    Returns
    -------
    tuple
        The families in order of first appearance, the errors of skipped lines, the sample
        lines on the page, and whether parsing stopped at ``max_samples``.

    Raises
    ------
    ExpositionError
        When not lenient, on the first bad line.
    """
    with collector_paused():
        return _parse_rows(text, lenient, max_samples, ParserMemory() if memory is None else memory)


def _parse_rows(text: str, lenient: bool, max_samples: int | None, memory: ParserMemory) -> TextParse:
    builders: dict[str, Builder] = {}
    # sample name -> the samples list of its family; resolved once per name per page
    placed: dict[str, list[Sample]] = {}
    cache = memory.text_series
    comments = memory.text_comments
    errors: list[ExpositionError] = []
    new = tuple.__new__
    last_name: str | None = None  # the name of the previous sample line, and its samples list
    last_samples: list[Sample] = []
    lineno = 0
    skipped = 0  # lines that are not samples: blank, comments, errors
    chunk_start, text_end = 0, len(text)
    while chunk_start <= text_end:
        # a chunk of whole lines at a time keeps a big page's lines in the CPU caches
        if max_samples is not None and lineno - skipped > max_samples:
            families = [new(Family, (b[_NAME], b[_TYPE], b[_HELP], "", b[_SAMPLES])) for b in builders.values()]
            return families, errors, lineno - skipped + count_sample_lines(text, chunk_start), True
        chunk_end = text.find("\n", chunk_start + LINES_CHUNK_CHARS)
        if chunk_end < 0:
            chunk_end = text_end
        lines = text[chunk_start:chunk_end].split("\n")
        chunk_start = chunk_end + 1
        for lineno, line in enumerate(lines, lineno + 1):  # noqa: B020 - numbering goes on across chunks
            key, _, value = line.rpartition(" ")
            series = cache.get(key)
            try:
                if series is None:
                    if not line:
                        skipped += 1
                        continue
                    if line[0] == "#":
                        meta = comments.get(line, _MISSING)
                        if meta is _MISSING:
                            meta = _cached_comment(line, memory)
                        if meta is not None:
                            # the usual order, inline: HELP then TYPE, before the family's samples
                            is_help, name, value = meta
                            builder = builders.get(name)
                            if builder is None and is_help:
                                builders[name] = [name, "unknown", value, [], True, False]
                            elif is_help or name in placed:
                                _comment(meta, builders, placed)
                            elif builder is None:
                                builders[name] = [name, value, "", [], False, True]
                            elif not builder[_HAS_TYPE]:
                                builder[_TYPE] = value
                                builder[_HAS_TYPE] = True
                            else:
                                _type(name, value, builders, placed)
                        skipped += 1
                        continue
                    if " " in key:
                        _spaced_sample(key, value, memory, builders, placed)
                        continue
                    series = _series(key, memory)  # a series not seen yet (raises for no series at all)
                # the usual line: a series, one blank, a plain ASCII value
                if not value.isascii() or "_" in value:
                    raise ExpositionError(0, value)
                name, labels = series
                sample = new(Sample, (name, labels, float(value), None, None))
                if name is not last_name:  # a family's samples mostly come together
                    samples = placed.get(name)
                    if samples is None:
                        builder = builders.get(name)
                        if builder is None:
                            samples = _samples_of(name, builders, placed)
                        else:
                            samples = placed[name] = builder[_SAMPLES]
                    last_name, last_samples = name, samples
                last_samples.append(sample)
            except (ExpositionError, ValueError, OverflowError) as error:
                failure = error.at(lineno) if isinstance(error, ExpositionError) else ExpositionError(lineno, str(error))
                if line[:1] != "#":
                    # The quick split may have cut an unusual line wrongly: the general parser judges it.
                    try:
                        if not _line(line, memory, builders, placed):
                            skipped += 1
                        continue
                    except ExpositionError as exact:
                        failure = exact.at(lineno)
                if not lenient:
                    raise failure from None
                skipped += 1
                errors.append(failure)
    families = [new(Family, (b[_NAME], b[_TYPE], b[_HELP], "", b[_SAMPLES])) for b in builders.values()]
    return families, errors, lineno - skipped, False


def _spaced_sample(key: str, value: str, memory: ParserMemory, builders: dict[str, Builder],
                   placed: dict[str, list[Sample]]) -> None:
    """A sample line whose text before its last blank has a blank too: a timestamp after the
    value, or blanks inside the labels. Raises ExpositionError for a line in any other shape,
    which the caller then gives to the general line parser."""
    timestamp = None
    if key.find(" ", key.rfind("}") + 1) >= 0:  # a blank after the series: series value timestamp
        timestamp = _timestamp(value)
        key, _, value = key.rpartition(" ")
    if not value or not key or key[0] in _BLANKS or not value.isascii() or "_" in value:
        raise ExpositionError(0, value)
    name, labels = memory.text_series.get(key) or _series(key, memory)
    sample = _new_tuple(Sample, (name, labels, float(value), timestamp, None))  # Sample(...), without its Python-level __new__
    (placed.get(name) or _samples_of(name, builders, placed)).append(sample)
