"""OpenMetrics 1.0, strict: every rule the OpenMetrics parser test suite checks is enforced.

Unlike the text format, a family's lines must be contiguous, its metadata comes before its
samples, and the page ends with ``# EOF``. The rules on numbers and on each family type's
label groups are in :mod:`promwatch.exposition.openmetrics_groups`.
"""
from __future__ import annotations

import re

from promwatch.exposition.builder import FamilyBuilder
from promwatch.exposition.errors import ExpositionError
from promwatch.exposition.lexer import (
    LINES_CHUNK_CHARS,
    METRIC_NAME_RE,
    Series,
    count_sample_lines,
    parse_series,
    read_metric_name,
    unescape_help,
)
from promwatch.exposition.memory import SERIES_CACHE_SIZE, ParserMemory
from promwatch.exposition.model import FAMILY_TYPES, Exemplar, Family, Sample
from promwatch.exposition.openmetrics_groups import TYPE_SUFFIXES, GroupRules, parse_number, parse_timestamp
from promwatch.gcpause import collector_paused

EXEMPLAR_MAX_LABEL_CHARS = 128
"""OpenMetrics limit on an exemplar's label names and values together, in characters."""

_LABEL_BLOCK_RE = re.compile(r'\{[^"}]*(?:"[^"\\]*(?:\\.[^"\\]*)*"[^"}]*)*\}', re.DOTALL)


class _Parser:
    """One page's parse: ``metadata`` or ``sample`` per line, then ``close_family``; parsed
    series kept in ``memory``."""

    def __init__(self, memory: ParserMemory) -> None:
        self.families: list[Family] = []
        self.claimed: set[str] = set()
        self.family: FamilyBuilder | None = None
        self.allowed: tuple[str, ...] = ()
        self.rules = GroupRules(memory)
        self.cache = memory.openmetrics_series
        self.label_sets = memory.openmetrics_label_sets

    # -- families -------------------------------------------------------------------------
    def start(self, name: str) -> FamilyBuilder:
        self.close_family()
        if name in self.claimed:
            raise ExpositionError(0, f"family {name!r} again after other families; a family's lines must be contiguous")
        family = self.family = FamilyBuilder(name)
        self.allowed = (name,)
        self.rules.reset()
        return family

    def close_family(self) -> None:
        family = self.family
        if family is None:
            return
        self.rules.close(family)
        for suffix in {"", *TYPE_SUFFIXES.get(family.type, ())}:
            claimed = family.name + suffix
            if claimed in self.claimed:
                raise ExpositionError(0, f"family {family.name!r} clashes with an earlier family over {claimed!r}")
            self.claimed.add(claimed)
        self.families.append(family.build())
        self.family = None

    # -- metadata -------------------------------------------------------------------------
    def metadata(self, line: str) -> None:
        keyword = line[2:6]
        if not line.startswith("# ") or keyword not in ("HELP", "TYPE", "UNIT") or line[6:7] != " ":
            raise ExpositionError(0, f"invalid comment {line[:40]!r}; expected # HELP, # TYPE, # UNIT or # EOF")
        name, pos = read_metric_name(line, 7)
        if line[pos:pos + 1] != " ":
            raise ExpositionError(0, f"expected a blank and a value after {keyword} {name}")
        rest = line[pos + 1:]
        family = self.family
        if family is None or family.name != name:
            family = self.start(name)
        elif family.samples:
            raise ExpositionError(0, f"{keyword} for {name!r} after its samples; metadata must come first")
        if keyword == "HELP":
            if family.has_help:
                raise ExpositionError(0, f"second HELP for {name!r}")
            family.help = unescape_help(rest, openmetrics=True)
            family.has_help = True
        elif keyword == "TYPE":
            if family.has_type:
                raise ExpositionError(0, f"second TYPE for {name!r}")
            if rest not in FAMILY_TYPES:
                raise ExpositionError(0, f"invalid TYPE {rest!r} for {name!r}; expected one of {', '.join(FAMILY_TYPES)}")
            family.type = rest
            family.has_type = True
            self.allowed = tuple(name + suffix for suffix in TYPE_SUFFIXES.get(rest, ("",)))
            for owned in self.allowed:
                if owned in self.claimed:
                    raise ExpositionError(0, f"family {name!r} clashes with an earlier family over {owned!r}")
        else:
            if family.has_unit:
                raise ExpositionError(0, f"second UNIT for {name!r}")
            if rest and not name.endswith("_" + rest):
                raise ExpositionError(0, f"UNIT {rest!r} does not match {name!r}; the name must end with _{rest}")
            family.unit = rest
            family.has_unit = True
        if family.unit and family.type in ("info", "stateset"):
            raise ExpositionError(0, f"{family.type} family {name!r} cannot have a UNIT")

    # -- samples --------------------------------------------------------------------------
    def series(self, line: str) -> tuple[str, Series]:
        """The series text at the start of a sample line, and its parsed form."""
        if "#" not in line:
            # no exemplar and no '#' in label values: the series ends at the last '}', or at
            # the first blank when there are no braces (parse_series judges the text exactly)
            brace = line.rfind("}")
            end = brace + 1 if brace >= 0 else line.find(" ")
            if end < 0:
                end = len(line)
        else:
            if line[0] == "{":
                end = 0
            else:
                match = METRIC_NAME_RE.match(line)
                if match is None:
                    raise ExpositionError(0, f"expected a metric name at the start of {line[:40]!r}")
                end = match.end()
            if end < len(line) and line[end] == "{":
                block = _LABEL_BLOCK_RE.match(line, end)
                if block is None:
                    raise ExpositionError(0, f"unterminated label set in {line[:80]!r}")
                end = block.end()
        key = line[:end]
        series = self.cache.get(key)
        if series is None:
            series = parse_series(key, openmetrics=True, label_sets=self.label_sets)
            if len(self.cache) >= SERIES_CACHE_SIZE:
                self.cache.clear()
            self.cache[key] = series
        return key, series

    def sample(self, line: str, lineno: int) -> None:
        key, (name, labels) = self.series(line)
        rest = line[len(key):]
        if rest[:1] != " ":
            raise ExpositionError(0, f"expected a blank and a value after {key!r}")
        head, hash_, exemplar_text = rest[1:].partition(" # ")
        fields = head.split(" ")
        if len(fields) > 2:
            raise ExpositionError(0, f"unexpected text after value and timestamp: {head!r}")
        value = parse_number(fields[0], "value")
        timestamp = parse_timestamp(fields[1]) if len(fields) == 2 else None
        exemplar = self.exemplar(exemplar_text) if hash_ else None

        family = self.family if self.family is not None and name in self.allowed else self.start(name)
        self.rules.check(family, key, name, labels, value, timestamp, lineno)
        if exemplar is not None and not (
            (family.type in ("histogram", "gaugehistogram") and name == family.name + "_bucket")
            or (family.type == "counter" and name == family.name + "_total")
        ):
            raise ExpositionError(0, f"exemplar on {name!r}; only counters' _total and histograms' _bucket have them")
        family.samples.append(Sample(name, labels, value, timestamp, exemplar))

    def exemplar(self, text: str) -> Exemplar:
        block = _LABEL_BLOCK_RE.match(text) if text[:1] == "{" else None
        if block is None:
            raise ExpositionError(0, f"invalid exemplar {text[:60]!r}; expected {{labels}} value [timestamp]")
        _, labels = parse_series(text[:block.end()], openmetrics=True, named=False)
        if sum(len(k) + len(v) for k, v in labels.items()) > EXEMPLAR_MAX_LABEL_CHARS:
            raise ExpositionError(0, f"exemplar labels longer than {EXEMPLAR_MAX_LABEL_CHARS} characters")
        rest = text[block.end():]
        if rest[:1] != " ":
            raise ExpositionError(0, f"expected a blank and a value after exemplar labels, got {rest[:20]!r}")
        fields = rest[1:].split(" ")
        if len(fields) > 2:
            raise ExpositionError(0, f"unexpected text after exemplar value and timestamp: {rest!r}")
        value = parse_number(fields[0], "exemplar value")
        timestamp = parse_timestamp(fields[1]) if len(fields) == 2 else None
        return Exemplar(labels, value, timestamp)


def parse_openmetrics(
    text: str, *, max_samples: int | None = None, memory: ParserMemory | None = None
) -> tuple[list[Family], int, bool]:
    """Parse an OpenMetrics 1.0 page strictly.

    Parameters
    ----------
    text
        The whole page, ending with ``# EOF`` (and optionally a newline).
    max_samples
        Stop parsing once more samples than this have been read: the rest is counted, not
        parsed (the scrape fails its ``sample_limit`` either way).
    memory
        What earlier pages left to reuse, and where this one leaves its parsed pieces; None:
        a fresh memory, dropped after the call (the result is the same).

    Returns
    -------
    tuple
        The families in page order, the sample lines on the page, and whether parsing stopped
        at ``max_samples`` (then the families hold only the first samples).

    Raises
    ------
    ExpositionError
        On the first violation, with its line number.
    """
    with collector_paused():
        return _parse_lines(text, max_samples, ParserMemory() if memory is None else memory)


def _parse_lines(text: str, max_samples: int | None, memory: ParserMemory) -> tuple[list[Family], int, bool]:
    parser = _Parser(memory)
    end = len(text) - 1 if text.endswith("\n") else len(text)
    lineno = samples = 0
    eof = False
    start = 0
    try:
        while start <= end:
            # a chunk of whole lines at a time: a big page is never split into one list
            stop = text.find("\n", start + LINES_CHUNK_CHARS, end)
            if stop < 0:
                stop = end
            for lineno, line in enumerate(text[start:stop].split("\n"), lineno + 1):  # noqa: B020
                if eof:
                    raise ExpositionError(0, "text after # EOF")
                if not line:
                    raise ExpositionError(0, "blank line; OpenMetrics allows none")
                if line == "# EOF":
                    eof = True
                elif line[0] == "#":
                    parser.metadata(line)
                else:
                    samples += 1
                    parser.sample(line, lineno)
            start = stop + 1
            if max_samples is not None and samples > max_samples:
                parser.close_family()
                return parser.families, samples + count_sample_lines(text, start), True
        parser.close_family()
    except ExpositionError as error:
        raise (error if error.line else error.at(lineno)) from None
    if not eof:
        raise ExpositionError(max(lineno, 1), "missing # EOF at the end")
    return parser.families, samples, False
