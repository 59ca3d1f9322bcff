"""The selectors of an alert's expression as promwatch's EMF metrics (pure): which matchers
select dimensions (a matcher on a label that is not one is dropped when the namespace selects
the same, else refused), as a Metrics Insights ``WHERE`` clause or a metric's dimensions."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from promwatch.emf.identifiers import escape_value
from promwatch.errors import PromwatchError
from promwatch.reconcile.promql_tree import Aggregation, Binary, Call, Matcher, Node, Paren, Selector, Unary

__all__ = ["LabelUse", "NoFaithfulForm", "Publishing", "bare", "insights_selector", "literal", "matcher_text",
           "quoted_name", "quoted_string", "selected", "selectors"]

_LITERAL = re.compile(r"^[^.^$*+?()\[\]{}|\\]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class NoFaithfulForm(PromwatchError):
    """The expression has no CloudWatch alarm with the same meaning; the message says why."""


@dataclass(frozen=True)
class LabelUse:
    """What a rule's matcher on a label can select among the metrics a job publishes."""

    dimension: bool = True
    reason: str = ""
    """Why the label is not a dimension of the metric (empty when it is)."""
    implied: bool = False
    """Not a dimension, but the namespace already selects what the matcher does (it is dropped)."""


class Publishing(Protocol):
    """Where and how promwatch publishes a rule's metrics (the scrape config's ``emf`` settings)."""

    def namespace_for(self, job: str | None) -> str:
        """The namespace of a job's metrics (None: the rule names no job); raises :class:`NoFaithfulForm`."""

    def label_use(self, metric: str, job: str | None, label: str) -> LabelUse:
        """Whether ``label`` is a dimension of ``metric`` as ``job`` publishes it."""


def bare(node: Node) -> Node:
    """``node`` without the parentheses around it."""
    while isinstance(node, Paren):
        node = node.inner
    return node


def insights_selector(node: Node, what: str, publishing: Publishing) -> tuple[str, str, str | None, tuple[str, ...]]:
    """A plain selector as a Metrics Insights ``WHERE`` clause, its quoted metric name, its job and
    notes on the matchers dropped."""
    selector = bare(node)
    if not isinstance(selector, Selector) or selector.range_ms is not None or not selector.name:
        raise NoFaithfulForm(f"{what} of something other than a metric with label matchers has no Metrics "
                             "Insights form")
    if selector.modified:
        raise NoFaithfulForm("offset/@ shifts the window; a CloudWatch alarm looks at the latest periods")
    kept, job, dropped = selected(selector, publishing)
    clauses: list[str] = []
    for matcher in kept:
        value = literal(matcher)
        if value is None or value == "" or "'" in value or matcher.op in ("!=", "!~"):
            raise NoFaithfulForm(f"the matcher {matcher_text(matcher)}: Metrics Insights selects dimensions by exact "
                                 "non-empty values (a negative matcher also selects series without the label)")
        clauses.append(f"{quoted_name(matcher.label)} = '{escape_value(value)}'")
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return where, quoted_name(selector.name), job, tuple(dropped)


def selected(selector: Selector, publishing: Publishing) -> tuple[list[Matcher], str | None, list[str]]:
    """The matchers of ``selector`` on dimensions, the job it names, and notes on the matchers dropped
    (on a label that is not a dimension, selecting what the namespace does).

    Raises
    ------
    NoFaithfulForm
        When a matcher is on a label that is not a dimension of the metric, and selects more than
        the namespace does.
    """
    job = next((value for m in selector.matchers if m.label == "job" and m.op in ("=", "=~")
                and (value := literal(m))), None)
    kept: list[Matcher] = []
    dropped: list[str] = []
    for matcher in selector.matchers:
        if matcher.label == "__name__":
            continue
        use = publishing.label_use(selector.name or "", job, matcher.label)
        if use.dimension:
            kept.append(matcher)
        elif use.implied and matcher.op in ("=", "=~") and literal(matcher) == job:
            dropped.append(f"the matcher {matcher_text(matcher)} is left out: {matcher.label} is not a dimension "
                           f"({use.reason}), and the namespace holds job {job!r}'s metrics alone")
        else:
            raise NoFaithfulForm(f"the matcher {matcher_text(matcher)}: {matcher.label} is not a dimension of "
                                 f"{selector.name} ({use.reason}); CloudWatch selects metrics by dimensions")
    return kept, job, dropped


def literal(matcher: Matcher) -> str | None:
    """The value a matcher compares with, when it is an exact value (a regex without metacharacters)."""
    if matcher.op in ("=", "!="):
        return matcher.value
    return matcher.value if _LITERAL.match(matcher.value) else None


def quoted_string(name: str) -> str:
    """A Metrics Insights quoted identifier (a namespace, a name with other characters)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quoted_name(name: str) -> str:
    return name if _IDENTIFIER.match(name) else quoted_string(name)


def matcher_text(matcher: Matcher) -> str:
    return f'{matcher.label}{matcher.op}"{matcher.value}"'


def selectors(node: Node) -> list[Selector]:
    """Every selector under ``node``."""
    if isinstance(node, Selector):
        return [node]
    children: list[Node] = []
    if isinstance(node, Paren | Unary):
        children = [node.inner if isinstance(node, Paren) else node.operand]
    elif isinstance(node, Binary):
        children = [node.left, node.right]
    elif isinstance(node, Aggregation):
        children = [node.operand]
    elif isinstance(node, Call):
        children = list(node.args)
    return [s for child in children for s in selectors(child)]
