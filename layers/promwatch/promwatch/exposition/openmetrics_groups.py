"""OpenMetrics 1.0 rules on numbers and on each family type's label groups.

A *label group* is the run of a family's samples that share their labels but the one that
varies within it (a histogram's ``le``, a summary's ``quantile``, a stateset's state): its
samples must be contiguous, its timestamps must not go backwards, and a histogram's group
is checked whole (bucket order, ``+Inf`` bucket, ``_count`` equal to it, ...) as it ends.
"""
from __future__ import annotations

import math

from promwatch.exposition.builder import FamilyBuilder
from promwatch.exposition.errors import ExpositionError
from promwatch.exposition.memory import SERIES_CACHE_SIZE, ParserMemory

TYPE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "counter": ("_total", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "histogram": ("_count", "_sum", "_bucket", "_created"),
    "gaugehistogram": ("_gcount", "_gsum", "_bucket"),
    "info": ("_info",),
}
"""Sample name suffixes each family type owns (types not listed own only the bare name)."""

_NOT_NAN = ("_total", "_sum", "_count", "_bucket", "_gcount", "_gsum")
_NOT_NEGATIVE = ("_total", "_sum", "_count", "_bucket", "_gcount")
_INTEGER = ("_bucket", "_count", "_gcount")


def parse_number(text: str, what: str) -> float:
    """An OpenMetrics number: decimal or ``[+-]Inf``/``NaN``, no hex, underscores or blanks."""
    try:
        value = float(text)
    except ValueError:
        raise ExpositionError(0, f"invalid {what} {text!r}; expected a decimal number, +Inf, -Inf or NaN") from None
    if "_" in text or not text.isascii() or not text.isprintable():
        raise ExpositionError(0, f"invalid {what} {text!r}; expected a decimal number, +Inf, -Inf or NaN")
    return value


def parse_timestamp(text: str) -> float:
    """An OpenMetrics timestamp: a finite number of seconds."""
    value = parse_number(text, "timestamp")
    if math.isnan(value) or math.isinf(value):
        raise ExpositionError(0, f"invalid timestamp {text!r}; expected a finite number of seconds")
    return value


def _bound(text: str, bounds: dict[str, float]) -> float:
    """The ``le`` of a bucket, remembered in ``bounds``: the same few repeat on every bucket line."""
    try:
        le = float(text)
    except ValueError:
        raise ExpositionError(0, f"invalid le {text!r}; expected a number or +Inf") from None
    if math.isnan(le) or (math.isinf(le) and text != "+Inf"):
        raise ExpositionError(0, f"invalid le {text!r}; expected a number or +Inf")
    if len(bounds) >= SERIES_CACHE_SIZE:
        bounds.clear()
    bounds[text] = le
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


class GroupRules:
    """The label groups of the family being read: ``check`` each sample, ``close`` the family
    (its last group), ``reset`` before the next family. Each series' group and each bucket
    bound are remembered in ``memory``."""

    def __init__(self, memory: ParserMemory) -> None:
        self.group: _Group | None = None
        self.seen_groups: set[tuple[tuple[str, str], ...]] = set()
        # (varying label, series text) -> the sorted labels that identify its group
        self.groups = memory.openmetrics_groups
        self.bounds = memory.openmetrics_bounds

    def reset(self) -> None:
        """Forget the groups of the family before (its last one checked by :meth:`close`)."""
        self.group = None
        self.seen_groups = set()

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
            self.close(family)
            group = self.group = _Group(key, timestamp, lineno)
            self.seen_groups.add(key)
        else:
            if (timestamp is None) != (group.timestamp is None):
                raise ExpositionError(0, f"mix of samples with and without timestamps in {family.name!r}")
            if timestamp is not None and group.timestamp is not None and timestamp < group.timestamp \
                    and type_ != "info":
                raise ExpositionError(0, f"timestamp {timestamp!r} goes backwards in {family.name!r}")
            if type_ in ("histogram", "gaugehistogram") and timestamp != group.timestamp:
                self.close(family)
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
            le = self.bounds.get(le_text)
            if le is None:
                le = _bound(le_text, self.bounds)
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

    def close(self, family: FamilyBuilder) -> None:
        """Check the histogram rules on the group that just ended."""
        group = self.group
        self.group = None
        if group is None or family.type not in ("histogram", "gaugehistogram"):
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

