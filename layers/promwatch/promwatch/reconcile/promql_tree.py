"""The parse tree of a PromQL query (pure): what :func:`promwatch.reconcile.promql.parse_promql`
returns. Each node has its result ``type`` (``instant vector``, ``range vector``, ``scalar``,
``string``) and its ``start``/``end`` offsets in the query text (0-based, end exclusive), so a
caller can read the node's text back or replace it (an alert rule's recorded series).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Aggregation", "Binary", "Call", "Matcher", "Node", "Number", "Paren", "Selector", "StringLiteral",
           "Subquery", "Unary"]


@dataclass(frozen=True)
class Node:
    """What every node has: its result type and where it is in the query."""

    type: str
    start: int
    end: int


@dataclass(frozen=True)
class Number(Node):
    """A number literal (``0``, ``0.5``, ``1e3``, ``0x1f``, ``Inf``, ``NaN``)."""

    value: float


@dataclass(frozen=True)
class StringLiteral(Node):
    """A quoted string argument (``label_replace``'s, ``count_values``')."""

    value: str


@dataclass(frozen=True)
class Matcher:
    """One label matcher: ``label op "value"`` (op ``=``, ``!=``, ``=~`` or ``!~``), at ``start``..``end``."""

    label: str
    op: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Selector(Node):
    """``name{matchers}``, with its range (``[5m]``, milliseconds) when it is a range selector.

    ``name`` is None for ``{matchers}`` alone; a quoted name in the braces is the name.
    ``modified``: an ``offset`` or ``@`` applies to it.
    """

    name: str | None
    matchers: tuple[Matcher, ...]
    range_ms: int | None = None
    modified: bool = False


@dataclass(frozen=True)
class Subquery(Node):
    """``expr[range:step]`` (and its ``offset``/``@``, if any)."""

    inner: Node


@dataclass(frozen=True)
class Call(Node):
    """A function call: ``rate(x[5m])``."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Aggregation(Node):
    """``sum by (le) (x)``: the operator (lower case), its grouping and its parameter (``topk``'s k)."""

    op: str
    operand: Node
    param: Node | None = None
    grouping: tuple[str, ...] = ()
    without: bool = False
    grouped: bool = False
    """Whether ``by``/``without`` was written (``sum by () (x)`` is grouped by nothing)."""


@dataclass(frozen=True)
class Binary(Node):
    """``left op right``; ``op`` is lower case for ``and``/``or``/``unless``/``atan2``."""

    op: str
    left: Node
    right: Node
    bool_modifier: bool = False
    vector_matching: bool = False
    """Whether ``on(...)``/``ignoring(...)`` (and ``group_left``/``group_right``) was written."""


@dataclass(frozen=True)
class Unary(Node):
    """``-x`` or ``+x``."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Paren(Node):
    """``(expr)``."""

    inner: Node
