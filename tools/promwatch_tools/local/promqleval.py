"""A local PromQL evaluator for the subset the packs generate, over what arrived over OTLP (pure).

moto has no PromQL store, so the preview evaluates PromQL chart widgets itself, against the
local OTLP receiver's points (:mod:`promwatch_tools.local.otlpstore`), after
:mod:`promwatch_tools.local.promqlread` read the query into a tree. Supported: selectors with
matchers (``=``, ``!=``, ``=~``, ``!~``, quoted UTF-8 names), ranges, ``rate``/``increase``/``irate``,
``histogram_quantile``, ``sum``/``avg``/``min``/``max``/``count`` with ``by``/``without``,
comparisons and arithmetic with a scalar (``up == 0``), ``or`` and parentheses. Anything else
raises :class:`~promwatch_tools.local.promqlread.NotEvaluated` naming it, and the preview says so
next to the chart.

Simplifications, said here because a plot can differ from CloudWatch's: ``rate`` divides the
increase between the first and last samples of the range by their distance (no extrapolation
to the range's edges); instant selectors look back 5 minutes.
"""
from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Sequence

from promwatch.regex import relabel_regex

from promwatch_tools.local.otlpstore import Labels, SampleStore
from promwatch_tools.local.promqlread import (
    Aggregate,
    Binary,
    Call,
    Node,
    NotEvaluated,
    Selector,
    metric_name,
    parse,
)
from promwatch_tools.local.query import Series

__all__ = ["Evaluator", "NotEvaluated", "histogram_quantile", "parse", "query_series"]

LOOKBACK_S = 300.0
"""How far back an instant selector looks for a series' latest sample (Prometheus' default)."""
AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "sum": sum, "avg": lambda v: sum(v) / len(v), "min": min, "max": max, "count": lambda v: float(len(v)),
}
Vector = dict[Labels, float]
"""An instant vector: series labels -> value."""
_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": lambda a, b: a / b if b else math.nan,
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le,
}


def _matches(labels: Labels, matchers: Sequence[tuple[str, str, str]]) -> bool:
    have = dict(labels)
    for label, op, value in matchers:
        got = have.get(label, "")
        ok = got == value if op in ("=", "!=") else relabel_regex(value).matches(got)
        if ok != (op in ("=", "=~")):
            return False
    return True


def _without_name(labels: Labels) -> Labels:
    return tuple((k, v) for k, v in labels if k != "__name__")


def _increase(samples: Sequence[tuple[float, float]]) -> float:
    total = 0.0
    for (_, before), (_, after) in itertools.pairwise(samples):
        total += after - before if after >= before else after  # a counter reset starts again from 0
    return total


class Evaluator:
    """Evaluates parsed queries against a :class:`SampleStore`.

    ``range_override_s`` replaces every range (``[5m]``): the demo compresses minutes into
    seconds, as the EMF side of its preview reads metrics at the scrape interval.
    """

    def __init__(self, store: SampleStore, *, range_override_s: float | None = None) -> None:
        self.store = store
        self.range_override_s = range_override_s

    def instant(self, node: Node, t: float) -> Vector | float:
        """The value of ``node`` at time ``t``: an instant vector or a scalar."""
        if isinstance(node, float):
            return node
        if isinstance(node, Selector):
            if node.range_s is not None:
                raise NotEvaluated("a range vector is not a graph; expected it inside rate() or increase()")
            return self._latest(node, t)
        if isinstance(node, Call):
            return self._call(node, t)
        if isinstance(node, Aggregate):
            return self._aggregate(node, t)
        return self._binary(node, t)

    def _series(self, selector: Selector) -> list[tuple[Labels, list[tuple[float, float]]]]:
        return [(labels, samples) for labels, samples in self.store.series.items()
                if _matches(labels, selector.matchers)]

    def _latest(self, selector: Selector, t: float) -> Vector:
        out: Vector = {}
        for labels, samples in self._series(selector):
            recent = [v for when, v in samples if t - LOOKBACK_S < when <= t]
            if recent:
                out[labels] = recent[-1]
        return out

    def _call(self, call: Call, t: float) -> Vector:
        if call.function == "histogram_quantile":
            q = self.instant(call.args[0], t)
            vector = self.instant(call.args[1], t)
            if not isinstance(q, float) or isinstance(vector, float):
                raise NotEvaluated("histogram_quantile needs a number and an instant vector")
            return histogram_quantile(q, vector)
        selector = call.args[0]
        if not isinstance(selector, Selector) or selector.range_s is None:
            raise NotEvaluated(f"{call.function}() of anything but a selector with a range is not evaluated locally")
        window = self.range_override_s or selector.range_s
        out: Vector = {}
        for labels, samples in self._series(selector):
            inside = [(when, v) for when, v in samples if t - window < when <= t]
            if len(inside) < 2:
                continue
            if call.function == "irate":
                inside = inside[-2:]
            increase = _increase(inside)
            elapsed = inside[-1][0] - inside[0][0]
            if call.function == "increase":
                out[_without_name(labels)] = increase
            elif elapsed > 0:
                out[_without_name(labels)] = increase / elapsed
        return out

    def _aggregate(self, node: Aggregate, t: float) -> Vector:
        operand = self.instant(node.operand, t)
        if isinstance(operand, float):
            raise NotEvaluated(f"{node.operation} of a scalar")
        groups: dict[Labels, list[float]] = {}
        for labels, value in operand.items():
            if node.without:
                key = tuple((k, v) for k, v in labels if k not in node.labels and k != "__name__")
            else:
                key = tuple((k, v) for k, v in labels if k in node.labels)
            groups.setdefault(key, []).append(value)
        return {key: AGGREGATES[node.operation](values) for key, values in groups.items()}

    def _binary(self, node: Binary, t: float) -> Vector | float:
        left, right = self.instant(node.left, t), self.instant(node.right, t)
        if node.operation == "or":
            if isinstance(left, float) or isinstance(right, float):
                raise NotEvaluated("'or' needs instant vectors on both sides")
            have = {_without_name(k) for k in left}
            return {**left, **{k: v for k, v in right.items() if _without_name(k) not in have}}
        if isinstance(left, float) and isinstance(right, float):
            return _ARITHMETIC[node.operation](left, right) if node.operation in _ARITHMETIC else \
                float(_COMPARE[node.operation](left, right))
        if not isinstance(left, float) and not isinstance(right, float):
            raise NotEvaluated(f"{node.operation!r} between two vectors is not evaluated locally")
        vector, scalar, flipped = (left, right, False) if isinstance(right, float) else (right, left, True)
        assert isinstance(vector, dict) and isinstance(scalar, float)
        out: Vector = {}
        for labels, value in vector.items():
            a, b = (scalar, value) if flipped else (value, scalar)
            if node.operation in _COMPARE:
                if _COMPARE[node.operation](a, b):
                    out[labels] = value
            else:
                out[_without_name(labels)] = _ARITHMETIC[node.operation](a, b)
        return out


def histogram_quantile(q: float, buckets: Vector) -> Vector:
    """Prometheus' ``histogram_quantile`` over cumulative ``le`` buckets (linear within a bucket)."""
    groups: dict[Labels, list[tuple[float, float]]] = {}
    for labels, value in buckets.items():
        le = dict(labels).get("le")
        if le is None:
            continue
        key = tuple((k, v) for k, v in labels if k not in ("le", "__name__"))
        groups.setdefault(key, []).append((float(le), value))
    out: Vector = {}
    for key, pairs in groups.items():
        pairs.sort()
        if not pairs or not math.isinf(pairs[-1][0]) or pairs[-1][1] <= 0:
            continue
        rank = q * pairs[-1][1]
        lower_bound, lower_count = 0.0, 0.0
        for bound, count in pairs:
            if count >= rank:
                if math.isinf(bound):
                    out[key] = lower_bound
                elif count == lower_count:
                    out[key] = bound
                else:
                    out[key] = lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
                break
            lower_bound, lower_count = bound, count
    return out


def query_series(evaluator: Evaluator, query: str, *, label: str | None, steps: Sequence[float]) -> list[Series]:
    """The lines a PromQL chart query draws: its value at each of ``steps``, one line per series.

    Raises
    ------
    NotEvaluated
        When the query is outside the subset.
    """
    node = parse(query)
    lines: dict[Labels, list[tuple[float, float]]] = {}
    for t in steps:
        value = evaluator.instant(node, t)
        for labels, number in ({(): value} if isinstance(value, float) else value).items():
            if not math.isnan(number):
                lines.setdefault(labels, []).append((t, number))
    varying = {k for labels in lines for k, v in labels if any(dict(o).get(k) != v for o in lines)}
    out: list[Series] = []
    for labels, samples in sorted(lines.items()):
        distinct = [f"{k}={v}" for k, v in labels if k in varying]
        parts = [label] if label else [] if distinct else [metric_name(node) or query]
        parts += distinct
        out.append(Series(" ".join(parts), "PromQL", tuple(t for t, _ in samples), tuple(v for _, v in samples),
                          tuple((k, v) for k, v in labels if k != "__name__")))
    return out
