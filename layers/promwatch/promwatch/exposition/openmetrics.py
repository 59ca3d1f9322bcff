"""OpenMetrics 1.0, strict: every rule the OpenMetrics parser test suite checks is enforced.

Unlike the text format, a family's lines must be contiguous, its metadata comes before its
samples, and the page ends with ``# EOF``. Structural rules of histograms (bucket order,
``+Inf`` bucket, ``_count`` equal to it, ...) are checked per label group as the group ends.
"""
from __future__ import annotations

import math
import re

from promwatch.exposition.builder import FamilyBuilder
from promwatch.exposition.errors import ExpositionError
from promwatch.exposition.lexer import (
    LINES_CHUNK_CHARS,
    METRIC_NAME_RE,
    SERIES_CACHE_SIZE,
    Series,
    bounded_cache,
    count_sample_lines,
    parse_series,
    read_metric_name,
    unescape_help,
)
from promwatch.exposition.model import FAMILY_TYPES, Exemplar, Family, Sample
from promwatch.gcpause import collector_paused

TYPE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "counter": ("_total", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "histogram": ("_count", "_sum", "_bucket", "_created"),
    "gaugehistogram": ("_gcount", "_gsum", "_bucket"),
    "info": ("_info",),
}
"""Sample name suffixes each family type owns (types not listed own only the bare name)."""

EXEMPLAR_MAX_LABEL_CHARS = 128
"""OpenMetrics limit on an exemplar's label names and values together, in characters."""

_LABEL_BLOCK_RE = re.compile(r'\{[^"}]*(?:"[^"\\]*(?:\\.[^"\\]*)*"[^"}]*)*\}', re.DOTALL)
_NOT_NAN = ("_total", "_sum", "_count", "_bucket", "_gcount", "_gsum")
_NOT_NEGATIVE = ("_total", "_sum", "_count", "_bucket", "_gcount")
_INTEGER = ("_bucket", "_count", "_gcount")


def _number(text: str, what: str) -> float:
    """An OpenMetrics number: decimal or ``[+-]Inf``/``NaN``, no hex, underscores or blanks."""
    try:
        value = float(text)
    except ValueError:
        raise ExpositionError(0, f"invalid {what} {text!r}; expected a decimal number, +Inf, -Inf or NaN") from None
    if "_" in text or not text.isascii() or not text.isprintable():
        raise ExpositionError(0, f"invalid {what} {text!r}; expected a decimal number, +Inf, -Inf or NaN")
    return value


def _timestamp(text: str) -> float:
    value = _number(text, "timestamp")
    if math.isnan(value) or math.isinf(value):
        raise ExpositionError(0, f"invalid timestamp {text!r}; expected a finite number of seconds")
    return value


_BOUNDS: dict[str, float] = bounded_cache("openmetrics-bounds")
"""Parsed ``le`` label values: the same few bounds repeat on every bucket line."""


def _bound(text: str) -> float:
    try:
        le = float(text)
    except ValueError:
        raise ExpositionError(0, f"invalid le {text!r}; expected a number or +Inf") from None
    if math.isnan(le) or (math.isinf(le) and text != "+Inf"):
        raise ExpositionError(0, f"invalid le {text!r}; expected a number or +Inf")
    if len(_BOUNDS) >= SERIES_CACHE_SIZE:
        _BOUNDS.clear()
    _BOUNDS[text] = le
    return le


class _Group:
    """The label group being read (a histogram's buckets, a summary's quantiles, ...)."""

    __slots__ = ("bucket_le", "bucket_value", "count", "has_gsum", "has_negative_bucket", "has_negative_gsum",
                 "has_sum", "key", "line", "timestamp")

    def __init__(self, key: tuple[tuple[str, str], ...], timestamp: float | None, line: int) -> None:
        self.key = key
        self.timestamp = timestamp
        self.line = line
        self.bucket_le: float | None = None
        self.bucket_value = 0.0
        self.count: float | None = None
        self.has_sum = False
        self.has_gsum = False
        self.has_negative_bucket = False
        self.has_negative_gsum = False


class _Parser:
    """One page's parse: ``metadata`` or ``sample`` per line, then ``close_family``."""

    def __init__(self) -> None:
        self.families: list[Family] = []
        self.claimed: set[str] = set()
        self.family: FamilyBuilder | None = None
        self.allowed: tuple[str, ...] = ()
        self.group: _Group | None = None
        self.seen_groups: set[tuple[tuple[str, str], ...]] = set()
        self.cache: dict[str, Series] = bounded_cache("openmetrics")
        # (varying label, series text) -> the sorted labels that identify its group
        self.groups: dict[tuple[str, str], tuple[tuple[str, str], ...]] = bounded_cache("openmetrics-groups")

    # -- families -------------------------------------------------------------------------
    def start(self, name: str) -> FamilyBuilder:
        self.close_family()
        if name in self.claimed:
            raise ExpositionError(0, f"family {name!r} again after other families; a family's lines must be contiguous")
        family = self.family = FamilyBuilder(name)
        self.allowed = (name,)
        self.group = None
        self.seen_groups = set()
        return family

    def close_family(self) -> None:
        family = self.family
        if family is None:
            return
        self.close_group()
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
            series = parse_series(key, openmetrics=True)
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
        value = _number(fields[0], "value")
        timestamp = _timestamp(fields[1]) if len(fields) == 2 else None
        exemplar = self.exemplar(exemplar_text) if hash_ else None

        family = self.family if self.family is not None and name in self.allowed else self.start(name)
        self.check(family, key, name, labels, value, timestamp, lineno)
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
        value = _number(fields[0], "exemplar value")
        timestamp = _timestamp(fields[1]) if len(fields) == 2 else None
        return Exemplar(labels, value, timestamp)

    def check(self, family: FamilyBuilder, series_key: str, name: str, labels: dict[str, str], value: float,
              timestamp: float | None, lineno: int) -> None:
        """Apply the per-type rules to one sample and track its label group."""
        type_ = family.type
        suffix = name[len(family.name):]
        grouping = ""  # the label that varies within a group ("" for none)
        if type_ == "stateset":
            if family.name not in labels:
                raise ExpositionError(0, f"stateset sample {name!r} lacks the label {family.name!r}")
            if value not in (0, 1):
                raise ExpositionError(0, f"stateset value {value!r}; expected 0 or 1")
            grouping = family.name
        elif type_ == "info":
            if value != 1:
                raise ExpositionError(0, f"info value {value!r}; expected 1")
        elif type_ == "summary" and not suffix:
            quantile = labels.get("quantile")
            if quantile is None:
                raise ExpositionError(0, f"summary sample {name!r} lacks the quantile label")
            try:
                q = float(quantile)
            except ValueError:
                raise ExpositionError(0, f"invalid quantile {quantile!r}; expected a number in [0, 1]") from None
            if not 0 <= q <= 1:
                raise ExpositionError(0, f"invalid quantile {quantile!r}; expected a number in [0, 1]")
            if value < 0:
                raise ExpositionError(0, f"negative quantile value {value!r}")
            grouping = "quantile"
        elif suffix == "_bucket" and type_ in ("histogram", "gaugehistogram"):
            grouping = "le"
        if type_ in TYPE_SUFFIXES or type_ == "stateset":
            if suffix in _NOT_NAN and math.isnan(value):
                raise ExpositionError(0, f"{name} is NaN; counter-like values must be numbers")
            if suffix in _NOT_NEGATIVE and value < 0:
                raise ExpositionError(0, f"{name} is negative ({value!r}); counter-like values must be >= 0")
            if suffix in _INTEGER and not value.is_integer():
                raise ExpositionError(0, f"{name} is {value!r}; expected an integer count")

        if type_ == "info":
            key: tuple[tuple[str, str], ...] = ()  # an info family is one group
        else:
            cached = self.groups.get((grouping, series_key))
            if cached is not None:
                key = cached
            else:
                key = tuple(sorted((k, v) for k, v in labels.items() if k != grouping))
                if len(self.groups) >= SERIES_CACHE_SIZE:
                    self.groups.clear()
                self.groups[(grouping, series_key)] = key
        group = self.group
        if group is None or group.key != key:
            if key in self.seen_groups:
                raise ExpositionError(0, f"samples of {dict(key)!r} in {family.name!r} are not contiguous")
            self.close_group()
            group = self.group = _Group(key, timestamp, lineno)
            self.seen_groups.add(key)
        else:
            if (timestamp is None) != (group.timestamp is None):
                raise ExpositionError(0, f"mix of samples with and without timestamps in {family.name!r}")
            if timestamp is not None and group.timestamp is not None and timestamp < group.timestamp \
                    and type_ != "info":
                raise ExpositionError(0, f"timestamp {timestamp!r} goes backwards in {family.name!r}")
            if type_ in ("histogram", "gaugehistogram") and timestamp != group.timestamp:
                self.close_group()
                group = self.group = _Group(key, timestamp, lineno)
            group.timestamp = timestamp
            group.line = lineno
        if type_ in ("histogram", "gaugehistogram"):
            self.histogram_sample(group, suffix, labels, value)

    def histogram_sample(self, group: _Group, suffix: str, labels: dict[str, str], value: float) -> None:
        if suffix == "_bucket":
            le_text = labels.get("le")
            if le_text is None:
                raise ExpositionError(0, "histogram bucket lacks the le label")
            le = _BOUNDS.get(le_text)
            if le is None:
                le = _bound(le_text)
            if group.bucket_le is not None and le <= group.bucket_le:
                raise ExpositionError(0, f"bucket le={le_text} out of order; buckets must increase")
            if value < group.bucket_value:
                raise ExpositionError(0, f"bucket le={le_text} has {value!r}, less than the bucket before it")
            group.has_negative_bucket = group.has_negative_bucket or le < 0
            group.bucket_le = le
            group.bucket_value = value
        elif suffix in ("_count", "_gcount"):
            group.count = value
        elif suffix == "_sum":
            group.has_sum = True
        elif suffix == "_gsum":
            group.has_gsum = True
            group.has_negative_gsum = group.has_negative_gsum or value < 0

    def close_group(self) -> None:
        """Check the histogram rules on the group that just ended."""
        group, family = self.group, self.family
        self.group = None
        if group is None or family is None or family.type not in ("histogram", "gaugehistogram"):
            return
        problem = None
        if group.bucket_le != math.inf:
            problem = "has no +Inf bucket"
        elif group.count is not None and group.count != group.bucket_value:
            problem = f"count {group.count!r} differs from the +Inf bucket {group.bucket_value!r}"
        elif group.has_sum and group.count is None:
            problem = "has _sum without _count"
        elif group.has_gsum and group.count is None:
            problem = "has _gsum without _gcount"
        elif group.count is not None and not (group.has_sum or group.has_gsum):
            problem = "has a count without a sum"
        elif group.has_negative_bucket and group.has_sum:
            problem = "has negative buckets and a _sum"
        elif group.has_negative_gsum and not group.has_negative_bucket:
            problem = "has a negative _gsum without negative buckets"
        if problem is not None:
            labels = ", ".join(f"{k}={v!r}" for k, v in group.key) or "no labels"
            raise ExpositionError(group.line, f"{family.type} {family.name!r} ({labels}) {problem}")


def parse_openmetrics(text: str, *, max_samples: int | None = None) -> tuple[list[Family], int, bool]:
    """Parse an OpenMetrics 1.0 page strictly.

    Parameters
    ----------
    text
        The whole page, ending with ``# EOF`` (and optionally a newline).
    max_samples
        Stop parsing once more samples than this have been read: the rest is counted, not
        parsed (the scrape fails its ``sample_limit`` either way).

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
        return _parse_lines(text, max_samples)


def _parse_lines(text: str, max_samples: int | None) -> tuple[list[Family], int, bool]:
    parser = _Parser()
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
