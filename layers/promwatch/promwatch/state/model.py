"""Counter baselines of one target: what the previous scrape saw, compactly serializable.

A series key is the sample name followed by its labels in sorted order,
``name{a="1",b="2"}`` (the labels a histogram's samples share, without ``le``, for a
histogram). Only cumulative values are kept: counters (and summary ``_sum``/``_count``) as
:class:`CounterBaseline`, classic histograms as :class:`HistogramBaseline`.

Serialized form (:meth:`TargetBaselines.to_json`), version 1::

    {"v": 1, "t": <scraped_at_ms>,
     "c": {key: [value, created, seen_ms], ...},
     "h": {key: [[finite bounds...], [cumulative counts..., +Inf count], sum, count, created, seen_ms]}}

Trailing ``null`` entries are left out. ``seen_ms`` is only present for a series missing from
the latest scrape (kept for ``series_retention_seconds``).

A target whose job sends OTLP also keeps the start time of each cumulative series
(:class:`StartTime`), under ``"s"``: ``{key: [start_ms, value, seen_ms]}``. The key is absent
when there are none, so the records of EMF-only jobs are unchanged, and records written before
start times existed read as having none.

A target whose job has a series budget (``max_series``, :mod:`promwatch.scrape.budget`) also
keeps its admitted series, ``"a": [digests, ages]``: base64 of the 8-byte digests
(little-endian unsigned) and of how many seconds before ``t`` each was last seen (4-byte
little-endian unsigned; 0 for the series of the latest scrape, so they compress to nothing).
12 bytes a series: a 100,000-series budget is about 1.2 MB in the item's parts.
"""
from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from promwatch.errors import PromwatchValueError
from promwatch.safeload import DocumentError, load_json
from promwatch.state.errors import StateCorruptError

FORMAT_VERSION = 1
"""Version of the serialized form."""


class CounterBaseline(NamedTuple):
    """The last value of a cumulative series.

    Attributes
    ----------
    value
        The cumulative value.
    created
        The series' ``_created`` (seconds since the epoch), when exposed.
    seen_ms
        None when seen in the latest scrape; otherwise when it was last seen.
    """

    value: float
    created: float | None = None
    seen_ms: int | None = None


class HistogramBaseline(NamedTuple):
    """The last state of a classic histogram series.

    Attributes
    ----------
    bounds
        Finite upper bounds (``le``), ascending.
    buckets
        Cumulative counts, one per bound plus the ``+Inf`` bucket last.
    obs_sum, obs_count
        ``_sum`` and ``_count`` (the observations' sum and number).
    created, seen_ms
        As for :class:`CounterBaseline`.
    """

    bounds: tuple[float, ...]
    buckets: tuple[float, ...]
    obs_sum: float
    obs_count: float
    created: float | None = None
    seen_ms: int | None = None


class StartTime(NamedTuple):
    """When a cumulative series (as sent over OTLP) started, and its value last scrape.

    Attributes
    ----------
    start_ms
        The series' start time (epoch ms): its ``_created``, or the scrape that first saw it,
        or the first scrape after it went down (a reset).
    value
        The value last seen (a histogram's or summary's count), to tell a reset.
    seen_ms
        As for :class:`CounterBaseline`.
    """

    start_ms: int
    value: float
    seen_ms: int | None = None


def series_key(name: str, labels: Mapping[str, str]) -> str:
    """The canonical key of the series ``name{labels}``."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


_MAX_AGE_SECONDS = 2**32 - 1


def _pack_series(admitted: Mapping[int, int], scraped_at_ms: int) -> list[str]:
    """``admitted`` as the ``"a"`` member: base64 of the digests and of their ages (seconds)."""
    count = len(admitted)
    ages = [min(max((scraped_at_ms - seen) // 1000, 0), _MAX_AGE_SECONDS) for seen in admitted.values()]
    return [base64.b64encode(struct.pack(f"<{count}Q", *admitted)).decode("ascii"),
            base64.b64encode(struct.pack(f"<{count}I", *ages)).decode("ascii")]


def _unpack_series(member: Any, scraped_at_ms: int) -> dict[int, int]:
    """Read :func:`_pack_series`' output (raises what a malformed member raises)."""
    digests_text, ages_text = member
    digests = base64.b64decode(digests_text, validate=True)
    ages = base64.b64decode(ages_text, validate=True)
    if len(digests) != 2 * len(ages) or len(ages) % 4:
        raise PromwatchValueError(f"admitted series: {len(digests)} digest bytes and {len(ages)} age bytes; "
                         "expected 8 and 4 bytes a series")
    count = len(ages) // 4
    return {digest: scraped_at_ms - 1000 * age
            for digest, age in zip(struct.unpack(f"<{count}Q", digests), struct.unpack(f"<{count}I", ages),
                                   strict=True)}


def _trim(values: list[Any]) -> list[Any]:
    while values and values[-1] is None:
        values.pop()
    return values


@dataclass(slots=True)
class TargetBaselines:
    """The baselines of one target after a successful scrape at ``scraped_at_ms``."""

    scraped_at_ms: int
    counters: dict[str, CounterBaseline] = field(default_factory=dict)
    histograms: dict[str, HistogramBaseline] = field(default_factory=dict)
    starts: dict[str, StartTime] = field(default_factory=dict)
    """Start times of the series sent over OTLP (empty for an EMF-only job)."""
    admitted_series: dict[int, int] | None = None
    """With a series budget: digest -> when last seen (epoch ms) of each admitted series."""

    def __len__(self) -> int:
        return len(self.counters) + len(self.histograms) + len(self.starts)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form described in the module docstring."""
        return {
            "v": FORMAT_VERSION,
            "t": self.scraped_at_ms,
            # most counters have neither _created nor seen_ms: [value], without a call
            "c": {k: [b[0]] if b[1] is None and b[2] is None else _trim(list(b)) for k, b in self.counters.items()},
            "h": {
                k: _trim([list(b.bounds), list(b.buckets), b.obs_sum, b.obs_count, b.created, b.seen_ms])
                for k, b in self.histograms.items()
            },
            **({"s": {k: _trim(list(t)) for k, t in self.starts.items()}} if self.starts else {}),
            **({} if self.admitted_series is None else {"a": _pack_series(self.admitted_series, self.scraped_at_ms)}),
        }

    def to_json(self) -> str:
        """Compact JSON (see the module docstring)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: Any) -> TargetBaselines:
        """Read :meth:`to_dict`'s form.

        Raises
        ------
        StateCorruptError
            When ``data`` is not in that form (names what was found and what was expected).
        """
        if not isinstance(data, dict) or data.get("v") != FORMAT_VERSION:
            version = data.get("v") if isinstance(data, dict) else type(data).__name__
            raise StateCorruptError(f"baselines format {version!r}; expected an object with \"v\": {FORMAT_VERSION}")
        try:
            counters = {
                str(k): CounterBaseline(
                    float(v[0]),
                    None if len(v) < 2 or v[1] is None else float(v[1]),
                    None if len(v) < 3 or v[2] is None else int(v[2]),
                )
                for k, v in data.get("c", {}).items()
            }
            histograms = {
                str(k): HistogramBaseline(
                    tuple(float(b) for b in v[0]),
                    tuple(float(c) for c in v[1]),
                    float(v[2]),
                    float(v[3]),
                    None if len(v) < 5 or v[4] is None else float(v[4]),
                    None if len(v) < 6 or v[5] is None else int(v[5]),
                )
                for k, v in data.get("h", {}).items()
            }
            starts = {
                str(k): StartTime(int(v[0]), float(v[1]), None if len(v) < 3 or v[2] is None else int(v[2]))
                for k, v in data.get("s", {}).items()
            }
            scraped_at_ms = int(data["t"])
            admitted = _unpack_series(data["a"], scraped_at_ms) if "a" in data else None
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, struct.error) as exc:  # binascii.Error too
            raise StateCorruptError(f"baselines are malformed ({exc!r}); expected the v{FORMAT_VERSION} layout") from exc
        for key, h in histograms.items():
            if len(h.buckets) != len(h.bounds) + 1 or not all(map(math.isfinite, h.bounds)):
                raise StateCorruptError(
                    f"histogram baseline {key!r} has {len(h.bounds)} bounds and {len(h.buckets)} buckets; "
                    "expected finite bounds and one more bucket (+Inf)"
                )
        return cls(scraped_at_ms, counters, histograms, starts, admitted)

    @classmethod
    def from_json(cls, text: str | bytes) -> TargetBaselines:
        """Read :meth:`to_json`'s output.

        Raises
        ------
        StateCorruptError
            When ``text`` is not valid JSON in that form.
        """
        try:
            data = load_json(text)
        except DocumentError as exc:
            raise StateCorruptError(f"baselines are not valid JSON ({exc}); expected the v{FORMAT_VERSION} layout") from exc
        return cls.from_dict(data)
