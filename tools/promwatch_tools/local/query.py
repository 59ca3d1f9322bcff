"""Read what landed in the emulator's CloudWatch, as a dashboard would show it.

:class:`MetricReader` expands widget queries (``"*"`` values and SEARCH patterns) with
ListMetrics, asks GetMetricData for Sum/SampleCount/Average/Minimum/Maximum, and computes
percentiles (``p50``, ``p99.9``, ...) from the extracted samples, because moto does not.

moto's behaviour, as found (5.x): GetMetricStatistics matches any metric whose dimensions
*include* the requested ones (CloudWatch wants them equal), so it is not used; GetMetricData
compares dimensions exactly but, given dimensions, ignores the namespace, and given none,
aggregates every dimension variant of the name. Queries here always name the complete
dimension set that ListMetrics reported, which keeps the answers right.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from promwatch_tools.local.extract import ExtractedDatum, percentile
from promwatch_tools.local.widgets import MetricQuery

BASIC_STATS = ("Sum", "SampleCount", "Average", "Minimum", "Maximum")
_GET_METRIC_DATA_MAX_QUERIES = 500


@dataclass(frozen=True, slots=True)
class Series:
    """One plotted line: epoch-second timestamps and values, oldest first."""

    label: str
    stat: str
    timestamps: tuple[float, ...]
    values: tuple[float, ...]
    dimensions: tuple[tuple[str, str], ...] = ()


def percentile_of(stat: str) -> float | None:
    """``"p99"`` -> 99.0, ``"p99.9"`` -> 99.9; None for other statistics."""
    if len(stat) > 1 and stat[0] in "pP":
        try:
            value = float(stat[1:])
        except ValueError:
            return None
        return value if 0 <= value <= 100 else None
    return None


def percentile_series(
    datums: Sequence[ExtractedDatum], query: MetricQuery, *, start_s: float, period_s: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-period percentile of a concrete query's samples (pure).

    Returns
    -------
    (timestamps, values)
        Period starts (aligned on ``start_s``) that hold samples, and the percentile there.
    """
    q = percentile_of(query.stat)
    if q is None:
        return (), ()
    want = dict(query.dimensions)
    buckets: dict[int, tuple[list[float], list[float]]] = {}
    for datum in datums:
        if datum.namespace != query.namespace or datum.name != query.name or dict(datum.dimensions) != want:
            continue
        index = math.floor((datum.timestamp_ms / 1000 - start_s) / period_s)
        values, counts = buckets.setdefault(index, ([], []))
        values.extend(datum.values)
        counts.extend(datum.counts)
    timestamps: list[float] = []
    results: list[float] = []
    for index in sorted(buckets):
        value = percentile(*buckets[index], q)
        if value is not None:
            timestamps.append(start_s + index * period_s)
            results.append(value)
    return tuple(timestamps), tuple(results)


def series_label(query: MetricQuery) -> str:
    """A legend entry: the query's label, else its metric name and statistic."""
    return query.label or f"{query.name} {query.stat}"


@dataclass(frozen=True, slots=True)
class QueryRange:
    """The time range and period to read a namespace's metrics with."""

    start_s: float
    end_s: float
    period_s: int


def namespace_windows(datums: Sequence[ExtractedDatum], *, min_period_s: int, max_points: int = 40) -> dict[str, QueryRange]:
    """Per namespace: the span its data covers, and a period giving at most ``max_points`` points (pure).

    The demo's scrape data spans a minute or two (read at the scrape interval); backdated
    data such as Container Insights roll-ups spans longer and gets a longer period.
    """
    spans: dict[str, tuple[float, float]] = {}
    for datum in datums:
        t = datum.timestamp_ms / 1000
        lo, hi = spans.get(datum.namespace, (t, t))
        spans[datum.namespace] = (min(lo, t), max(hi, t))
    windows: dict[str, QueryRange] = {}
    for namespace, (lo, hi) in spans.items():
        period = max(min_period_s, math.ceil((hi - lo) / max_points))
        start = math.floor(lo / period) * period
        windows[namespace] = QueryRange(float(start), float(math.floor(hi / period) * period + 2 * period), period)
    return windows


class MetricReader:
    """Queries the emulator's CloudWatch, each namespace over its own window.

    Parameters
    ----------
    client
        A CloudWatch client (the emulator's).
    datums
        Every datum the extraction published (for percentiles).
    windows
        Namespace -> window (:func:`namespace_windows`); the window's period replaces each
        widget's, because the demo compresses its timeline into minutes (a dashboard's 300 s
        period would show a single point).
    """

    def __init__(self, client: Any, datums: Sequence[ExtractedDatum], windows: Mapping[str, QueryRange]) -> None:
        self._client = client
        self._datums = datums
        self._windows = windows
        self._catalogue: dict[str, list[tuple[str, tuple[tuple[str, str], ...]]]] = {}

    def catalogue(self, namespace: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        """(metric name, dimensions) of every metric of ``namespace`` (ListMetrics, paged, cached)."""
        if namespace not in self._catalogue:
            found: list[tuple[str, tuple[tuple[str, str], ...]]] = []
            args: dict[str, Any] = {"Namespace": namespace}
            while True:
                page = self._client.list_metrics(**args)
                for metric in page.get("Metrics", []):
                    dims = tuple((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
                    found.append((metric["MetricName"], dims))
                if not page.get("NextToken"):
                    break
                args["NextToken"] = page["NextToken"]
            self._catalogue[namespace] = sorted(set(found))
        return self._catalogue[namespace]

    def expand(self, query: MetricQuery) -> list[MetricQuery]:
        """The concrete metrics a query covers (itself when already concrete)."""
        if query.concrete:
            return [query]
        matches = [
            (name, dims) for name, dims in self.catalogue(query.namespace)
            if query.matches(query.namespace, name, dims)
        ]
        # A legend names what tells the lines apart: the dimensions whose values differ.
        seen: dict[str, set[str]] = {}
        for _, dims in matches:
            for key, value in dims:
                seen.setdefault(key, set()).add(value)
        names = {name for name, _ in matches}
        out: list[MetricQuery] = []
        for name, dims in matches:
            varying = " ".join(f"{k}={v}" for k, v in dims if len(seen[k]) > 1)
            head = query.label or (f"{name} {query.stat}" if len(names) > 1 or not varying else query.stat)
            label = " ".join(part for part in (head, varying) if part)
            out.append(replace(query, name=name, dimensions=dims, exact_keys=True, label=label))
        return out

    def series(self, queries: Sequence[MetricQuery]) -> tuple[list[Series], list[str]]:
        """Series of every concrete metric the queries cover, and notes on what could not be read."""
        notes: list[str] = []
        concrete: list[MetricQuery] = []
        for query in queries:
            expanded = self.expand(query) if query.namespace in self._windows else []
            if not expanded:
                notes.append(f"no data in {query.namespace} for {query.name or '*'} {dict(query.dimensions)}")
            concrete.extend(expanded)
        out: list[Series] = []
        basic: dict[QueryRange, list[MetricQuery]] = {}
        for query in concrete:
            window = self._windows[query.namespace]
            if query.stat in BASIC_STATS:
                basic.setdefault(window, []).append(query)
            elif percentile_of(query.stat) is None:
                notes.append(f"statistic {query.stat!r} of {query.name} is not emulated")
            else:
                stamps, values = percentile_series(self._datums, query, start_s=window.start_s,
                                                   period_s=window.period_s)
                out.append(Series(series_label(query), query.stat, stamps, values, query.dimensions))
        for window, queries_in_window in basic.items():
            out.extend(self._basic_series(queries_in_window, window))
        return out, notes

    def _basic_series(self, queries: Sequence[MetricQuery], window: QueryRange) -> list[Series]:
        out: list[Series] = []
        for start in range(0, len(queries), _GET_METRIC_DATA_MAX_QUERIES):
            chunk = queries[start : start + _GET_METRIC_DATA_MAX_QUERIES]
            request = [
                {
                    "Id": f"m{i}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": q.namespace,
                            "MetricName": q.name,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in q.dimensions],
                        },
                        "Period": window.period_s,
                        "Stat": q.stat,
                    },
                }
                for i, q in enumerate(chunk)
            ]
            response = self._client.get_metric_data(
                MetricDataQueries=request,
                StartTime=datetime.fromtimestamp(window.start_s, tz=UTC),
                EndTime=datetime.fromtimestamp(window.end_s, tz=UTC),
                ScanBy="TimestampAscending",
            )
            by_id = {r["Id"]: r for r in response.get("MetricDataResults", [])}
            for i, q in enumerate(chunk):
                result = by_id.get(f"m{i}", {})
                pairs = sorted(
                    (t.timestamp(), float(v))
                    for t, v in zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
                    if v is not None
                )
                out.append(Series(series_label(q), q.stat, tuple(t for t, _ in pairs), tuple(v for _, v in pairs),
                                  q.dimensions))
        return out
