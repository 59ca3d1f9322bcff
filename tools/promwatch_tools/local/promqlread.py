"""PromQL for the demo's preview: the subset the packs generate, read into a small tree (pure).

The query is first checked with the layer's PromQL checker
(:func:`promwatch.reconcile.promql.check_promql`, which answers with a type, not a tree); its
tokens (:func:`promwatch.reconcile.promql_lexicon.tokens`) are then read into the nodes below.
What is outside the subset raises :class:`NotEvaluated` naming it.
"""
from __future__ import annotations

from dataclasses import dataclass

from promwatch.errors import PromwatchError
from promwatch.reconcile.promql import check_promql
from promwatch.reconcile.promql_lexicon import (
    AGGREGATIONS,
    INSTANT,
    KEYWORDS,
    NAME_KEYWORDS,
    SCALAR,
    Token,
    parse_duration,
    tokens,
    unquote,
)

__all__ = ["Aggregate", "Binary", "Call", "Node", "NotEvaluated", "Selector", "metric_name", "parse"]

RANGE_FUNCTIONS = ("rate", "increase", "irate")
AGGREGATES = ("sum", "avg", "min", "max", "count")
COMPARISONS = ("==", "!=", ">", "<", ">=", "<=")


class NotEvaluated(PromwatchError):
    """A query outside the locally evaluated subset (or not valid PromQL); the message says why."""


@dataclass(frozen=True, slots=True)
class Selector:
    """``name{label="value"}``, with ``[range]`` when it has one."""

    matchers: tuple[tuple[str, str, str], ...]
    """(label, operator, value); the metric name is ``__name__``."""
    range_s: float | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """``rate(...)``, ``histogram_quantile(q, ...)``."""

    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Aggregate:
    """``sum by (labels) (...)``."""

    operation: str
    operand: Node
    labels: tuple[str, ...] = ()
    without: bool = False


@dataclass(frozen=True, slots=True)
class Binary:
    """``left <operation> right``: comparison, arithmetic or ``or``."""

    operation: str
    left: Node
    right: Node


Node = Selector | Call | Aggregate | Binary | float
"""A read query; a number is a float."""


class _Reader:
    """Tokens of a checked query -> a :data:`Node` tree (the subset only)."""

    def __init__(self, query: str) -> None:
        self.tokens = tokens(query)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def is_op(self, text: str) -> bool:
        return self.token.kind == "op" and self.token.text == text

    def expression(self, minimum: int = 1) -> Node:
        left = self.primary()
        while True:
            op = self.token.word or (self.token.text if self.token.kind == "op" else "")
            precedence = {"or": 1, **dict.fromkeys(COMPARISONS, 3), "+": 4, "-": 4, "*": 5, "/": 5}.get(op)
            if precedence is None or precedence < minimum:
                if op in ("and", "unless", "%", "^", "atan2"):
                    raise NotEvaluated(f"operator {op!r} is not evaluated locally")
                return left
            self.take()
            if self.token.word in ("bool", "on", "ignoring"):
                raise NotEvaluated(f"{self.token.text!r} modifiers are not evaluated locally")
            left = Binary(op, left, self.expression(precedence + 1))

    def primary(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.take()
            return float(token.text)
        if self.is_op("("):
            self.take()
            inner = self.expression()
            self.take()  # ')': balanced, the checker said so
            return inner
        if self.is_op("{"):
            return self.selector(None)
        if token.kind != "ident":
            raise NotEvaluated(f"{token.text!r} at column {token.column} is not evaluated locally")
        after = self.tokens[self.index + 1]
        if token.word in AGGREGATIONS and (after.text == "(" or after.word in ("by", "without")):
            if token.word not in AGGREGATES:
                raise NotEvaluated(f"aggregation {token.text} is not evaluated locally")
            return self.aggregate()
        if after.kind == "op" and after.text == "(":
            return self.call()
        if (token.word in KEYWORDS and token.word not in NAME_KEYWORDS) or token.word in ("inf", "nan"):
            raise NotEvaluated(f"{token.text!r} is not evaluated locally")
        self.take()
        return self.selector(token.text)

    def selector(self, name: str | None) -> Node:
        matchers: list[tuple[str, str, str]] = [("__name__", "=", name)] if name else []
        if self.is_op("{"):
            self.take()
            while not self.is_op("}"):
                label = self.take()
                label_text = unquote(label) if label.kind == "string" else label.text
                if self.is_op(",") or self.is_op("}"):
                    matchers.append(("__name__", "=", label_text))
                else:
                    op = self.take().text
                    matchers.append((label_text, op, unquote(self.take())))
                if self.is_op(","):
                    self.take()
            self.take()
        range_s = None
        if self.is_op("["):
            self.take()
            range_s = parse_duration(self.take().text) / 1000
            if not self.is_op("]"):
                raise NotEvaluated("subqueries are not evaluated locally")
            self.take()
        if self.token.word == "offset" or self.is_op("@"):
            raise NotEvaluated(f"{self.token.text!r} is not evaluated locally")
        return Selector(tuple(matchers), range_s)

    def grouping(self) -> tuple[bool, tuple[str, ...]]:
        without = self.take().word == "without"
        self.take()
        labels: list[str] = []
        while not self.is_op(")"):
            label = self.take()
            labels.append(unquote(label) if label.kind == "string" else label.text)
            if self.is_op(","):
                self.take()
        self.take()
        return without, tuple(labels)

    def aggregate(self) -> Node:
        operation = self.take().word
        without, labels = self.grouping() if self.token.word in ("by", "without") else (False, ())
        self.take()
        operand = self.expression()
        self.take()
        if self.token.word in ("by", "without"):
            without, labels = self.grouping()
        return Aggregate(operation, operand, labels, without)

    def call(self) -> Node:
        name = self.take().text
        if name not in (*RANGE_FUNCTIONS, "histogram_quantile"):
            raise NotEvaluated(f"function {name}() is not evaluated locally")
        self.take()
        args = [self.expression()]
        while self.is_op(","):
            self.take()
            args.append(self.expression())
        self.take()
        return Call(name, tuple(args))


def parse(query: str) -> Node:
    """The tree of ``query``.

    Raises
    ------
    NotEvaluated
        When the query is not valid PromQL, or uses what is not evaluated locally.
    """
    try:
        check_promql(query, types=(INSTANT, SCALAR))
    except PromwatchError as error:
        raise NotEvaluated(str(error)) from error
    reader = _Reader(query)
    node = reader.expression()
    if reader.token.kind != "end":
        raise NotEvaluated(f"{reader.token.text!r} at column {reader.token.column} is not evaluated locally")
    return node



def metric_name(node: Node) -> str | None:
    """The metric name of the first selector in ``node`` (a legend for an unlabelled query)."""
    if isinstance(node, Selector):
        return next((value for label, op, value in node.matchers if label == "__name__" and op == "="), None)
    children: tuple[Node, ...] = ()
    if isinstance(node, Call):
        children = node.args
    elif isinstance(node, Aggregate):
        children = (node.operand,)
    elif isinstance(node, Binary):
        children = (node.left, node.right)
    return next((name for child in children if (name := metric_name(child)) is not None), None)
