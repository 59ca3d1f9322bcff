"""Derive expressions: safe arithmetic over an event's numeric fields.

``pod_cpu_usage_total / pod_cpu_request * 100`` is parsed with :mod:`ast` and compiled into
nested closures; nothing is ever ``eval``'d. Only numbers, field names, ``+ - * /``,
parentheses and unary minus/plus are accepted. Evaluation returns None (the metric is skipped
for that event) when a field is missing or not a number, on division by zero, and when the
result is not finite (an integer field beyond the float range included).
"""
from __future__ import annotations

import ast
import math
import operator
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from promwatch.insights.errors import RulesError

__all__ = ["MAX_EXPRESSION_CHARS", "Expression", "compile_expression"]

MAX_EXPRESSION_CHARS = 500
"""Longer expressions are refused (deep nesting would exhaust the parser's recursion)."""

Evaluator = Callable[[Mapping[str, Any]], float | None]

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled derive expression.

    Attributes
    ----------
    source
        The expression as written.
    fields
        The event fields it reads, in order of first appearance.
    evaluate
        ``fields mapping -> float | None``.
    """

    source: str
    fields: tuple[str, ...]
    evaluate: Evaluator


def _field(name: str) -> Evaluator:
    def read(values: Mapping[str, Any]) -> float | None:
        value = values.get(name)
        if type(value) is float or type(value) is int:
            return value
        return None

    return read


def _constant(number: float) -> Evaluator:
    def constant(_values: Mapping[str, Any]) -> float | None:
        return number

    return constant


def _negate(inner: Evaluator) -> Evaluator:
    def negate(values: Mapping[str, Any]) -> float | None:
        value = inner(values)
        return None if value is None else -value

    return negate


def _binary(op: Callable[[float, float], float], left: Evaluator, right: Evaluator, divide: bool) -> Evaluator:
    def apply(values: Mapping[str, Any]) -> float | None:
        a = left(values)
        if a is None:
            return None
        b = right(values)
        if b is None or (divide and b == 0):
            return None
        return op(a, b)

    return apply


def _build(node: ast.AST, source: str, fields: list[str]) -> Evaluator:
    if isinstance(node, ast.Expression):
        return _build(node.body, source, fields)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _binary(
            _BINARY[type(node.op)],
            _build(node.left, source, fields),
            _build(node.right, source, fields),
            isinstance(node.op, ast.Div),
        )
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _build(node.operand, source, fields)
        return _negate(inner) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        try:
            number = float(node.value)
        except OverflowError:  # an integer literal beyond the float range
            number = math.inf
        if not math.isfinite(number):
            literal = ast.get_source_segment(source, node) or repr(node.value)
            raise RulesError(
                f"derive expression {source!r}: number {literal[:40]!r} is out of range; "
                f"expected a finite number (at most {sys.float_info.max:.3g} in magnitude)"
            )
        return _constant(number)
    if isinstance(node, ast.Name):
        if node.id not in fields:
            fields.append(node.id)
        return _field(node.id)
    piece = ast.get_source_segment(source, node) or type(node).__name__
    raise RulesError(
        f"derive expression {source!r}: {piece!r} is not allowed; expected numbers, field names, "
        "+ - * /, parentheses and unary minus"
    )


def compile_expression(source: str) -> Expression:
    """Parse and compile one derive expression.

    Parameters
    ----------
    source
        Arithmetic over event field names, e.g. ``pod_memory_working_set / pod_memory_request * 100``.

    Raises
    ------
    RulesError
        When the text is not an expression or uses anything beyond the allowed arithmetic.
    """
    if len(source) > MAX_EXPRESSION_CHARS:
        raise RulesError(
            f"derive expression {source[:40]!r}... is {len(source)} characters; expected at most {MAX_EXPRESSION_CHARS}"
        )
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError) as error:  # ValueError: text Python cannot encode (a lone surrogate)
        reason = error.msg if isinstance(error, SyntaxError) else str(error)
        raise RulesError(f"derive expression {source!r} is not valid arithmetic: {reason}") from None
    fields: list[str] = []
    evaluator = _build(tree, source.strip(), fields)
    if not fields:
        raise RulesError(f"derive expression {source!r} reads no event field; expected at least one field name")

    def finite(values: Mapping[str, Any]) -> float | None:
        try:
            value = evaluator(values)
            return value if value is not None and math.isfinite(value) else None
        except OverflowError:  # an integer field beyond the float range, or arithmetic on one
            return None

    return Expression(source=source, fields=tuple(fields), evaluate=finite)
