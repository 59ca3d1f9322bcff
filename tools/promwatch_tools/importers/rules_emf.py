"""An alerting rule's expression -> a CloudWatch metric alarm over promwatch's EMF metrics,
where one has the same meaning (pure); otherwise :class:`NoFaithfulForm` says why.

What promwatch publishes decides the forms (README "How samples become CloudWatch metrics"):
names as exposed, counters as the increase between scrapes, classic histograms as a
distribution under the family name, labels (plus ``job``, ``instance``) as dimensions.

- ``x{...} > N`` (``>=``, ``<``, ``<=``; a gauge): a Metrics Insights query, ``MAX(x)`` (``MIN``
  for ``<``) over every series the matchers select, whatever their dimension sets: some series
  breaches exactly when the maximum does. ``up == 0`` is ``MIN(up) < 1``.
- ``absent(x{...})``: ``COUNT(x)`` (the sample count) below 1, missing data breaching.
- Counters, histograms, ``*_over_time`` and arithmetic: a metric (math) alarm on the metric
  whose dimensions are the exact-value matchers: ``increase(x[d])`` is the Sum over a period
  ``d``, ``rate(x[d])`` that Sum divided by ``PERIOD(m1)``, ``histogram_quantile(q,
  rate(x_bucket[d]))`` the ``pNN`` of the distribution ``x`` over ``d``, a bare gauge its
  Average; ``+ - * /`` and numbers become metric math.
- Aggregations across series: ``max``/``min`` of a gauge is Metrics Insights ``MAX``/``MIN``;
  otherwise the operand's statistic over a metric holding several series must aggregate them
  with the same function (``sum``: Sum, SampleCount; ``max``: Maximum; ``min``: Minimum;
  ``avg``: Average), else the rule is refused (``sum`` of a gauge: Average is their mean, and
  Metrics Insights ``SUM`` adds every sample of the period, once per dimension set).
- Matchers select dimensions (:mod:`promwatch_tools.importers.rules_select`): one on a label
  the job does not publish as a dimension is left out when the namespace selects the same
  (``job`` of a job alone in its namespace), else the rule is refused.
- ``A and B`` / ``A or B``: a composite alarm of the two parts' alarms.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promwatch.emf.identifiers import escape_value
from promwatch.limits import ALARM_MAX_METRICS_IN_MATH
from promwatch.reconcile.checks import check_alarm_period
from promwatch.reconcile.promql_lexicon import COMPARISONS
from promwatch.reconcile.promql_tree import (
    Aggregation,
    Binary,
    Call,
    Node,
    Number,
    Paren,
    Selector,
    Unary,
)

from promwatch_tools.importers.rules_select import (
    LabelUse,
    NoFaithfulForm,
    Publishing,
    bare,
    insights_selector,
    literal,
    matcher_text,
    quoted_string,
    selected,
    selectors,
)

__all__ = ["Composite", "LabelUse", "MetricForm", "NoFaithfulForm", "Publishing", "bare", "emf_form", "selectors"]

GAUGE_PERIOD = 60
"""The period of a gauge's alarm when nothing else sets it: promwatch's default resolution."""
FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}
OVER_TIME_STATS = {"avg_over_time": "Average", "max_over_time": "Maximum", "min_over_time": "Minimum",
                   "sum_over_time": "Sum", "count_over_time": "SampleCount"}
ACROSS_SERIES = {"sum": {"Sum", "SampleCount"}, "max": {"Maximum"}, "min": {"Minimum"}, "avg": {"Average"}}
"""PromQL aggregation -> the CloudWatch statistics that, over a metric holding several series,
aggregate them with it: Sum/SampleCount add, Maximum/Minimum keep the extreme, Average is the
mean (every series of a job is scraped equally often, so each weighs the same)."""
STAT_ACROSS_SERIES = {"Sum": "their sum", "SampleCount": "the sum of their sample counts",
                      "Maximum": "their maximum", "Minimum": "their minimum", "Average": "their mean"}
REFUSED_FUNCTIONS = {
    "predict_linear": "predict_linear extrapolates a regression over the range; CloudWatch metric math has no "
                      "regression (anomaly detection alarms on a band, a different condition)",
    "deriv": "deriv is a regression slope over the range; CloudWatch metric math has no regression",
    "irate": "irate uses the last two samples; promwatch publishes increases per scrape, so only rate/increase "
             "over a period have a CloudWatch form",
    "delta": "delta needs the gauge's first and last samples of the range; CloudWatch keeps statistics per period",
    "changes": "changes counts value changes; CloudWatch keeps statistics per period, not sample order",
    "resets": "resets counts counter resets; promwatch publishes increases, so resets are not visible",
    "time": "time() needs the evaluation time; CloudWatch metric math has no clock",
    "timestamp": "timestamp() needs the samples' times; CloudWatch metric math has none",
    "label_replace": "label_replace rewrites labels; a CloudWatch alarm watches fixed dimensions",
    "double_exponential_smoothing": "double_exponential_smoothing has no CloudWatch form",
}


@dataclass(frozen=True)
class MetricForm:
    """The fields of one metric, metric-math or Metrics Insights alarm (no name, actions or periods count)."""

    fields: dict[str, Any]
    exact_sets: tuple[tuple[str, str | None, tuple[str, ...]], ...] = ()
    """The (metric, job, dimension names) the alarm watches as whole dimension sets."""
    notes: tuple[str, ...] = ()
    """What the user should check about the form (a name that depends on the family's type)."""


@dataclass(frozen=True)
class Composite:
    """``left AND right`` / ``left OR right`` of two forms: a composite alarm."""

    op: str
    left: MetricForm | Composite
    right: MetricForm | Composite


@dataclass
class _Math:
    publishing: Publishing
    leaves: list[dict[str, Any]] = field(default_factory=list)
    periods: set[int] = field(default_factory=set)
    exact_sets: list[tuple[str, str | None, tuple[str, ...]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    across: str | None = None
    """The aggregation across series the current leaf is under (None: each series on its own)."""


def emf_form(node: Node, publishing: Publishing) -> MetricForm | Composite:
    """The CloudWatch alarm of an alert expression over promwatch's EMF metrics.

    Parameters
    ----------
    node
        The expression's parse tree (:func:`promwatch.reconcile.promql.parse_promql`).
    publishing
        The namespace of a job and the dimensions of its metrics: a matcher on a label that is
        not a dimension is dropped when the namespace selects the same (``job``), else refused.

    Raises
    ------
    NoFaithfulForm
        With the reason, when no CloudWatch alarm means the same.
    """
    node = bare(node)
    if isinstance(node, Binary) and node.op in ("and", "or"):
        if node.vector_matching:
            raise NoFaithfulForm(f"'{node.op}' with on()/ignoring() pairs series by labels; a composite alarm "
                                 "combines whole alarms")
        return Composite(node.op.upper(), emf_form(node.left, publishing), emf_form(node.right, publishing))
    if isinstance(node, Binary) and node.op == "unless":
        raise NoFaithfulForm("'unless' removes series by labels; a composite alarm has AND, OR and NOT of whole "
                             "alarms, which is not the same")
    if isinstance(node, Call) and node.name == "absent":
        where, metric, job, dropped = insights_selector(node.args[0], "absent", publishing)
        query = f"SELECT COUNT({metric}) FROM {quoted_string(publishing.namespace_for(job))}{where}"
        return MetricForm({"expression": query, "period": GAUGE_PERIOD, "comparison": "<", "threshold": 1,
                           "treat_missing_data": "breaching"}, notes=dropped)
    if not (isinstance(node, Binary) and node.op in COMPARISONS):
        raise NoFaithfulForm("the expression is not a comparison with a number (every series it returns fires); "
                             "a CloudWatch alarm needs a threshold")
    if node.bool_modifier:
        raise NoFaithfulForm("a 'bool' comparison returns 0 or 1 for every series, so the alert always fires")
    right, left = _number(node.right), _number(node.left)
    if right is not None and left is None:
        side, op, threshold = node.left, node.op, right
    elif left is not None and right is None:
        side, op, threshold = node.right, FLIPPED[node.op], left
    else:
        raise NoFaithfulForm("a comparison of two series (or two numbers); a CloudWatch alarm compares one "
                             "value with a fixed threshold")
    return _comparison(bare(side), op, threshold, publishing)


def _number(node: Node) -> float | None:
    node = bare(node)
    if isinstance(node, Unary) and isinstance(bare(node.operand), Number):
        inner = bare(node.operand)
        assert isinstance(inner, Number)
        return -inner.value if node.op == "-" else inner.value
    return node.value if isinstance(node, Number) else None


def _comparison(side: Node, op: str, threshold: float, publishing: Publishing) -> MetricForm:
    plain = isinstance(side, Selector) and side.range_ms is None
    if plain and isinstance(side, Selector) and side.name == "up" and op == "==" and threshold == 0:
        op, threshold = "<", 1.0
    if op in ("==", "!="):
        raise NoFaithfulForm(f"'{op} {threshold:g}': CloudWatch alarms compare with >, >=, < and <= only (up == 0 "
                             "is the exception: up is 0 or 1, so it is up < 1)")
    operand = bare(side.operand) if isinstance(side, Aggregation) else None
    extreme = (isinstance(side, Aggregation) and side.op in ("max", "min") and not side.without
               and isinstance(operand, Selector) and operand.range_ms is None)
    if plain or extreme:
        if isinstance(side, Aggregation):
            # max/min across series: Metrics Insights' MAX/MIN of every sample, whatever the dimension sets
            _one_group(side, "alarms per group")
            aggregate, side = side.op.upper(), bare(side.operand)
        else:
            aggregate = "MAX" if op in (">", ">=") else "MIN"
        assert isinstance(side, Selector)
        _not_a_counter(side)
        where, metric, job, dropped = insights_selector(side, "the comparison", publishing)
        query = f"SELECT {aggregate}({metric}) FROM {quoted_string(publishing.namespace_for(job))}{where}"
        return MetricForm({"expression": query, "period": GAUGE_PERIOD, "comparison": op, "threshold": threshold,
                           "treat_missing_data": "notBreaching"}, notes=dropped)
    math = _Math(publishing)
    expression = _math(side, math)
    if len(math.periods) > 1:
        raise NoFaithfulForm(f"its ranges differ ({', '.join(f'{p}s' for p in sorted(math.periods))}); metric math "
                             "takes one period")
    if len(math.leaves) > ALARM_MAX_METRICS_IN_MATH:
        raise NoFaithfulForm(f"it reads {len(math.leaves)} metrics; an alarm's math takes at most "
                             f"{ALARM_MAX_METRICS_IN_MATH}")
    period = next(iter(math.periods), GAUGE_PERIOD)
    common = {"comparison": op, "threshold": threshold, "treat_missing_data": "notBreaching"}
    sets, notes = tuple(math.exact_sets), tuple(dict.fromkeys(math.notes))
    if expression == "m1":
        (leaf,) = math.leaves
        return MetricForm({"namespace": leaf["namespace"], "metric": leaf["name"], "dimensions": leaf["dimensions"],
                           "stat": leaf["stat"], "period": period, **common}, sets, notes)
    metrics = [{**leaf, "period": period} for leaf in math.leaves]
    return MetricForm({"expression": expression, "metrics": metrics, "period": period, **common}, sets, notes)


def _math(node: Node, math: _Math) -> str:
    if isinstance(node, Paren):
        return f"({_math(node.inner, math)})"
    if isinstance(node, Number):
        return f"{node.value:g}"
    if isinstance(node, Unary):
        return f"{node.op}{_math(node.operand, math)}"
    if isinstance(node, Binary) and node.op in ("+", "-", "*", "/"):
        if node.vector_matching:
            raise NoFaithfulForm(f"'{node.op}' with on()/ignoring() pairs series by labels; metric math combines "
                                 "whole metrics")
        return f"{_math(node.left, math)} {node.op} {_math(node.right, math)}"
    if isinstance(node, Binary):
        raise NoFaithfulForm(f"'{node.op}' inside the compared value has no metric math form")
    if isinstance(node, Aggregation):
        return _aggregation(node, math)
    if isinstance(node, Selector):
        if node.range_ms is not None:
            raise NoFaithfulForm("a range selector outside a function")
        _not_a_counter(node)
        return _leaf(node, "Average", None, math, per_second=False)
    if isinstance(node, Call):
        return _call(node, math)
    raise NoFaithfulForm(f"{type(node).__name__.lower()} has no metric math form")


def _aggregation(node: Aggregation, math: _Math) -> str:
    """An aggregation across series: the statistic of its operand's metric over every series the
    metric holds, when that statistic aggregates across series with the same function."""
    stats = ACROSS_SERIES.get(node.op)
    if stats is None or node.without:
        raise NoFaithfulForm(f"the aggregation {node.op}{' without' if node.without else ''}: only sum, avg, max "
                             "and min have a CloudWatch statistic that aggregates a metric's series the same way")
    _one_group(node, "alarms per group")
    operand = bare(node.operand)
    if not isinstance(operand, Selector | Call):
        raise NoFaithfulForm(f"{node.op}(...) of an expression: a CloudWatch statistic aggregates one metric's "
                             "series (aggregate each metric, then combine them)")
    first, outer = len(math.leaves), math.across
    math.across = node.op
    text = _math(operand, math)
    math.across = outer
    for leaf in math.leaves[first:]:
        if leaf["stat"] not in stats:
            raise NoFaithfulForm(f"{node.op}(...) of {_described(operand)}: CloudWatch's {leaf['stat']} of "
                                 f"{leaf['name']} over its series is {STAT_ACROSS_SERIES.get(leaf['stat'], 'a percentile of their merged samples')}, "
                                 f"not their {node.op} (Metrics Insights {node.op.upper()}() takes every sample of "
                                 "the period, each series once per dimension set it is published under, so it is not "
                                 "either)")
    return text


def _one_group(node: Aggregation, what: str) -> None:
    exact = {m.label for s in selectors(node.operand) for m in s.matchers if m.op == "="}
    extra = set(node.grouping) - exact
    if extra:
        raise NoFaithfulForm(f"{node.op} by ({', '.join(sorted(extra))}) {what}; a CloudWatch alarm watches one "
                             "metric (match those labels to exact values)")


def _described(node: Node) -> str:
    if isinstance(node, Call):
        return f"{node.name}()"
    return "a gauge" if isinstance(node, Selector) else type(node).__name__.lower()


def _call(node: Call, math: _Math) -> str:
    if node.name in ("rate", "increase") or node.name in OVER_TIME_STATS:
        selector = _range_selector(node)
        stat = OVER_TIME_STATS.get(node.name, "Sum")
        if node.name in OVER_TIME_STATS:
            _not_a_counter(selector)
        if node.name == "count_over_time" and math.across != "sum":
            raise NoFaithfulForm("count_over_time counts each series' samples; CloudWatch's SampleCount of the metric "
                                 "counts the samples of every series it holds (targets x scrapes), which is "
                                 "sum(count_over_time(...))")
        elif (name := selector.name or "").endswith(("_count", "_sum")):
            family, _, part = name.rpartition("_")
            math.notes.append(f"{name}: right for a summary's; a histogram's {name} is the "
                              f"{'SampleCount' if part == 'count' else 'Sum'} of the distribution {family} "
                              "(promwatch publishes no separate metric for it)")
        return _leaf(selector, stat, selector.range_ms, math, per_second=node.name == "rate")
    if node.name == "quantile_over_time":
        quantile = _number(node.args[0])
        if quantile is None or not 0 < quantile < 1:
            raise NoFaithfulForm("quantile_over_time needs a fixed quantile between 0 and 1")
        selector = _range_selector(Call(node.type, node.start, node.end, node.name, node.args[1:]))
        return _leaf(selector, _percentile(quantile), selector.range_ms, math, per_second=False)
    if node.name == "histogram_quantile":
        quantile = _number(node.args[0])
        if quantile is None or not 0 < quantile < 1:
            raise NoFaithfulForm("histogram_quantile needs a fixed quantile between 0 and 1")
        inner = bare(node.args[1])
        merged = isinstance(inner, Aggregation)  # sum by (le): the quantile of the merged buckets
        if isinstance(inner, Aggregation) and inner.op == "sum" and not inner.without and "le" not in inner.grouping:
            raise NoFaithfulForm("histogram_quantile of a sum without le in by (...): the buckets lose their le "
                                 "label, so Prometheus returns nothing and the alert never fires (sum by (le) (...))")
        if isinstance(inner, Aggregation) and inner.op == "sum" and not inner.without:
            exact = {m.label for s in selectors(inner.operand) for m in s.matchers if m.op == "="}
            if set(inner.grouping) - exact - {"le"}:
                raise NoFaithfulForm(f"histogram_quantile by ({', '.join(inner.grouping)}) is one quantile per "
                                     "group; a CloudWatch alarm watches one distribution")
            inner = bare(inner.operand)
        if not (isinstance(inner, Call) and inner.name in ("rate", "increase")):
            raise NoFaithfulForm("histogram_quantile of something other than rate(x_bucket[d]) (or sum by (le) of "
                                 "it) has no CloudWatch form")
        selector = _range_selector(inner)
        if not (selector.name or "").endswith("_bucket"):
            raise NoFaithfulForm(f"histogram_quantile over {selector.name!r}: promwatch publishes a histogram's "
                                 "buckets as one distribution named without _bucket")
        if any(m.label == "le" for m in selector.matchers):
            raise NoFaithfulForm("a matcher on le selects buckets; the distribution has them all")
        base = Selector(selector.type, selector.start, selector.end, (selector.name or "")[: -len("_bucket")],
                        selector.matchers, selector.range_ms)
        outer, math.across = math.across, ("sum" if merged else math.across)
        text = _leaf(base, _percentile(quantile), selector.range_ms, math, per_second=False)
        math.across = outer
        return text
    reason = REFUSED_FUNCTIONS.get(node.name, f"{node.name}() has no CloudWatch metric math form")
    raise NoFaithfulForm(reason)


def _not_a_counter(selector: Selector) -> None:
    """Refuse a counter's (or bucket's) value read as a gauge: promwatch publishes its increases."""
    if (selector.name or "").endswith(("_total", "_bucket")):
        raise NoFaithfulForm(f"{selector.name} read as a value: promwatch publishes a counter's increases, not its "
                             "running total (use rate() or increase())")


def _percentile(quantile: float) -> str:
    """0.99 -> ``p99``, 0.999 -> ``p99.9``: CloudWatch's extended statistic of that quantile."""
    return f"p{round(quantile * 100, 6):g}"


def _range_selector(node: Call) -> Selector:
    selector = bare(node.args[0])
    if not isinstance(selector, Selector) or selector.range_ms is None:
        raise NoFaithfulForm(f"{node.name} of a subquery: CloudWatch has statistics of stored metrics only")
    if selector.modified:
        raise NoFaithfulForm("offset/@ shifts the window; a CloudWatch alarm looks at the latest periods")
    if selector.range_ms % 1000:
        raise NoFaithfulForm(f"the range {selector.range_ms} ms is not whole seconds; an alarm period is")
    return selector


def _leaf(selector: Selector, stat: str, range_ms: int | None, math: _Math, *, per_second: bool) -> str:
    if selector.modified:
        raise NoFaithfulForm("offset/@ shifts the window; a CloudWatch alarm looks at the latest periods")
    if not selector.name:
        raise NoFaithfulForm("a selector without a metric name; a CloudWatch alarm watches one metric")
    kept, job, dropped = selected(selector, math.publishing)
    math.notes.extend(dropped)
    dimensions: dict[str, str] = {}
    for matcher in kept:
        value = literal(matcher)
        if value is None or matcher.op in ("!=", "!~") or value == "":
            raise NoFaithfulForm(f"the matcher {matcher_text(matcher)}: a metric alarm watches one dimension set, each "
                                 "dimension an exact value")
        dimensions[matcher.label] = escape_value(value)
    if range_ms is not None:
        seconds = range_ms // 1000
        try:
            check_alarm_period(seconds)
        except ValueError as exc:
            raise NoFaithfulForm(f"the range {seconds}s: {exc}") from None
        math.periods.add(seconds)
    ident = f"m{len(math.leaves) + 1}"
    math.leaves.append({"id": ident, "namespace": math.publishing.namespace_for(job), "name": selector.name,
                        "dimensions": dimensions, "stat": stat})
    math.exact_sets.append((selector.name, job, tuple(sorted(dimensions))))
    if math.across is None and stat not in ("Maximum", "Minimum"):
        math.notes.append(f"Prometheus compares each series of {selector.name} on its own; the alarm's {stat} covers "
                          f"every series published under the dimension set {{{', '.join(sorted(dimensions))}}} "
                          "(a roll-up or declared set holds several): the same only when that is one series (if the "
                          "total is meant, write sum(...))")
    return f"({ident} / PERIOD({ident}))" if per_second else ident


