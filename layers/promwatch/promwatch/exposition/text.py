"""The Prometheus text format 0.0.4 (with Prometheus 3's quoted UTF-8 names).

Samples are grouped into families by metric name, as Prometheus's metadata does: the
samples of one family stay one family even when other families' lines come between them.
The per-line work on a warm cache is a ``rfind``, a dict lookup, a ``split`` and a ``float``.
"""
from __future__ import annotations

from promwatch.exposition.builder import FamilyBuilder
from promwatch.exposition.errors import ExpositionError
from promwatch.exposition.lexer import (
    SERIES_CACHE_SIZE,
    Series,
    parse_series,
    read_metric_name,
    series_cache,
    unescape_help,
)
from promwatch.exposition.model import Family, Sample

TEXT_TYPES = {
    "counter": "counter", "gauge": "gauge", "histogram": "histogram", "summary": "summary",
    "untyped": "unknown",
}
"""TYPE keywords of the text format and the family type each becomes."""

_SUFFIX_TYPES = (
    ("_bucket", ("histogram",)),
    ("_count", ("histogram", "summary")),
    ("_sum", ("histogram", "summary")),
)
_BLANKS = " \t"


def _series(key: str, cache: dict[str, Series]) -> Series:
    """Parse a series on a cache miss and remember it (starting over when the cache is full)."""
    parsed = parse_series(key, openmetrics=False)
    if len(cache) >= SERIES_CACHE_SIZE:
        cache.clear()
    cache[key] = parsed
    return parsed


def _family_of(name: str, builders: dict[str, FamilyBuilder]) -> FamilyBuilder:
    """The family a sample name belongs to: its own, a histogram/summary's by suffix, or a new
    unknown one."""
    builder = builders.get(name)
    if builder is not None:
        return builder
    for suffix, types in _SUFFIX_TYPES:
        if name.endswith(suffix):
            base = builders.get(name[: -len(suffix)])
            if base is not None and base.type in types:
                return base
    builder = builders[name] = FamilyBuilder(name)
    return builder


def _metadata(line: str, builders: dict[str, FamilyBuilder], placed: dict[str, list[Sample]]) -> None:
    """Apply a ``# HELP`` or ``# TYPE`` line; other comments are ignored."""
    pos = 1
    while pos < len(line) and line[pos] in _BLANKS:
        pos += 1
    keyword = line[pos:pos + 4]
    if keyword not in ("HELP", "TYPE") or line[pos + 4:pos + 5] not in _BLANKS or len(line) == pos + 4:
        return
    pos += 4
    while pos < len(line) and line[pos] in _BLANKS:
        pos += 1
    name, pos = read_metric_name(line, pos)
    if pos < len(line) and line[pos] not in _BLANKS:
        raise ExpositionError(0, f"expected a blank after metric name {name!r} in {keyword}")
    while pos < len(line) and line[pos] in _BLANKS:
        pos += 1
    rest = line[pos:]
    builder = builders.get(name)
    if keyword == "HELP":
        text = unescape_help(rest, openmetrics=False)
        if builder is None:
            builder = builders[name] = FamilyBuilder(name)
        elif builder.has_help and builder.help != text:
            raise ExpositionError(0, f"second HELP for {name!r} differs from the first")
        builder.help = text
        builder.has_help = True
        return
    type_ = TEXT_TYPES.get(rest.rstrip(_BLANKS))
    if type_ is None:
        raise ExpositionError(0, f"invalid TYPE {rest!r} for {name!r}; expected one of {', '.join(TEXT_TYPES)}")
    if name in placed:
        raise ExpositionError(0, f"TYPE for {name!r} after its samples; it must come first")
    if builder is None:
        builder = builders[name] = FamilyBuilder(name)
    elif builder.has_type and builder.type != type_:
        raise ExpositionError(0, f"second TYPE for {name!r} ({type_}) differs from the first ({builder.type})")
    builder.type = type_
    builder.has_type = True


def parse_text(text: str, *, lenient: bool) -> tuple[list[Family], list[ExpositionError]]:
    """Parse a text-format page.

    Parameters
    ----------
    text
        The whole page.
    lenient
        Skip bad lines and return their errors (True), or raise the first one (False).

    Returns
    -------
    tuple
        The families in order of first appearance, and the errors of skipped lines.

    Raises
    ------
    ExpositionError
        When not lenient, on the first bad line.
    """
    builders: dict[str, FamilyBuilder] = {}
    # sample name -> the samples list of its family; resolved once per name per page
    placed: dict[str, list[Sample]] = {}
    errors: list[ExpositionError] = []
    cache = series_cache(False)
    new_sample = tuple.__new__
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        try:
            if line[0] == "#":
                _metadata(line, builders, placed)
                continue
            brace = line.rfind("}")
            if brace < 0:
                parts = line.split()
                if not parts:
                    continue
                key = parts[0]
                del parts[0]
            else:
                key = line[: brace + 1]
                parts = line[brace + 1:].split()
            series = cache.get(key)
            if series is None:
                series = _series(key, cache)
            name, labels = series
            if len(parts) == 1:
                value = float(parts[0])
                timestamp = None
            elif len(parts) == 2:
                value = float(parts[0])
                timestamp = int(parts[1]) / 1000
            elif parts:
                raise ExpositionError(0, f"unexpected text after value and timestamp: {' '.join(parts[2:])!r}")
            else:
                raise ExpositionError(0, f"missing value after {key.strip()!r}")
            samples = placed.get(name)
            if samples is None:
                samples = placed[name] = _family_of(name, builders).samples
            samples.append(new_sample(Sample, (name, labels, value, timestamp, None)))
        except ExpositionError as error:
            if not lenient:
                raise error.at(lineno) from None
            errors.append(error.at(lineno))
        except (ValueError, OverflowError) as error:
            failure = ExpositionError(lineno, f"invalid number in {line[:120]!r}: {error}")
            if not lenient:
                raise failure from None
            errors.append(failure)
    return [builder.build() for builder in builders.values()], errors
