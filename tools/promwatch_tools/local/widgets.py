"""Dashboard widgets -> the metric queries they plot (pure).

A CloudWatch dashboard body's metric widget lists ``metrics`` rows
``[Namespace, MetricName, DimName, DimValue, ..., {options}]`` (``"."`` repeats the previous
row's entry at that position) and expression rows ``[{"expression": ...}]``. The preview
plots rows and ``SEARCH('{Namespace,Dim,...} MetricName="name"', 'stat', period)``
expressions, which it expands itself (moto evaluates no SEARCH); a ``"*"`` dimension value
matches any value. Other metric math is named in the widget's notes, not plotted. A ``chart``
widget's PromQL queries (``properties.data.queries[{language: PromQL, query}]``) are listed for
:mod:`promwatch_tools.local.promqleval`.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_STAT = "Average"
DEFAULT_PERIOD = 300


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """One metric (possibly with ``"*"`` values, or a SEARCH pattern) to plot with a statistic."""

    namespace: str
    name: str | None
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    period: int
    label: str | None = None
    exact_keys: bool = True

    def matches(self, namespace: str, name: str, dimensions: Iterable[tuple[str, str]]) -> bool:
        """Whether a concrete metric (from ListMetrics) is one this query plots."""
        if namespace != self.namespace or (self.name is not None and name != self.name):
            return False
        have = dict(dimensions)
        want = dict(self.dimensions)
        if self.exact_keys and set(have) != set(want):
            return False
        return all(k in have and (v == "*" or have[k] == v) for k, v in want.items())

    @property
    def concrete(self) -> bool:
        """True when no expansion is needed."""
        return self.name is not None and self.exact_keys and all(v != "*" for _, v in self.dimensions)


@dataclass(slots=True)
class WidgetSpec:
    """What the preview needs from one widget."""

    kind: str
    title: str
    queries: list[MetricQuery] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    markdown: str | None = None
    promql: list[tuple[str, str | None]] = field(default_factory=list)
    """(query, label) of a chart widget's PromQL queries."""


_SEARCH = re.compile(
    r"^\s*SEARCH\(\s*'(?P<query>(?:[^'\\]|\\.)*)'\s*,\s*'(?P<stat>[^']+)'\s*(?:,\s*(?P<period>\d+)\s*)?\)\s*$"
)
_TERM = re.compile(r'(?P<key>[\w.:/-]+)\s*=\s*"(?P<quoted>[^"]*)"|(?P<key2>[\w.:/-]+)\s*=\s*(?P<bare>\S+)')


def _split_schema(schema: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in schema:
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


def parse_search(expression: str, *, label: str | None = None, default_period: int = DEFAULT_PERIOD) -> MetricQuery | None:
    """A ``SEARCH(...)`` expression as a query (None when it is not a SEARCH this preview handles).

    Parameters
    ----------
    expression
        ``SEARCH('{Namespace,DimA,DimB} MetricName="x" DimA="v"', 'p99', 60)``; with a schema
        the dimension keys must be exactly the schema's, as in CloudWatch.
    """
    match = _SEARCH.match(expression)
    if not match:
        return None
    query = match["query"]
    namespace: str | None = None
    keys: list[str] = []
    exact = False
    schema = re.match(r"\s*\{([^}]*)\}", query)
    if schema:
        namespace, *keys = _split_schema(schema[1])
        query = query[schema.end():]
        exact = True
    name: str | None = None
    dimensions = {k: "*" for k in keys}
    for term in _TERM.finditer(query):
        key = term["key"] or term["key2"]
        value = term["quoted"] if term["key"] else term["bare"]
        if key == "MetricName":
            name = value
        elif key == "Namespace":
            namespace = value
        else:
            dimensions[key] = value
    if namespace is None:
        return None
    period = int(match["period"]) if match["period"] else default_period
    return MetricQuery(namespace, name, tuple(dimensions.items()), match["stat"], period, label, exact)


def _row_query(row: Sequence[Any], previous: Sequence[Any], stat: str, period: int) -> MetricQuery:
    options: Mapping[str, Any] = row[-1] if row and isinstance(row[-1], Mapping) else {}
    entries = list(row[:-1] if options else row)
    resolved = [previous[i] if entry == "." and i < len(previous) else entry for i, entry in enumerate(entries)]
    namespace, name, *pairs = (str(e) for e in resolved)
    dimensions = tuple(zip(pairs[0::2], pairs[1::2], strict=False))
    return MetricQuery(
        namespace,
        name,
        dimensions,
        str(options.get("stat", stat)),
        int(options.get("period", period)),
        options.get("label"),
    )


def widget_spec(widget: Mapping[str, Any]) -> WidgetSpec:
    """What one dashboard-body widget plots.

    Parameters
    ----------
    widget
        A widget of a dashboard body (``{"type": "metric", "properties": {...}}``).
    """
    kind = str(widget.get("type", "metric"))
    props: Mapping[str, Any] = widget.get("properties") or {}
    title = str(props.get("title") or kind)
    if kind == "text":
        return WidgetSpec(kind, title, markdown=str(props.get("markdown", "")))
    spec = WidgetSpec(kind, title)
    if kind == "chart":
        for query in (props.get("data") or {}).get("queries") or []:
            if str(query.get("language", "")).lower() == "promql" and query.get("query"):
                spec.promql.append((str(query["query"]), query.get("label")))
            else:
                spec.notes.append(f"chart query {query!r} is not PromQL; not previewed")
        return spec
    if kind != "metric":
        spec.notes.append(f"{kind} widgets are not previewed")
        return spec
    stat = str(props.get("stat", DEFAULT_STAT))
    period = int(props.get("period", DEFAULT_PERIOD))
    previous: list[Any] = []
    for row in props.get("metrics") or []:
        if row and isinstance(row[0], Mapping) and "expression" in row[0]:
            expression = str(row[0]["expression"])
            search = parse_search(expression, label=row[0].get("label"), default_period=period)
            if search is None:
                spec.notes.append(f"expression {expression!r} is not evaluated by the preview")
            else:
                spec.queries.append(search)
            continue
        if not isinstance(row, Sequence) or len(row) < 2:
            spec.notes.append(f"metrics row {row!r}: expected [Namespace, MetricName, ...]")
            continue
        query = _row_query(row, previous, stat, period)
        previous = [query.namespace, query.name, *(x for pair in query.dimensions for x in pair)]
        spec.queries.append(query)
    return spec


def dashboard_widgets(body: Mapping[str, Any]) -> list[WidgetSpec]:
    """Every widget of a dashboard body, in order."""
    return [widget_spec(w) for w in body.get("widgets") or []]
