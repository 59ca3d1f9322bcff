"""Derive expressions: arithmetic only, parsed with ast, never eval'd."""
from __future__ import annotations

import pytest
from promwatch.insights import RulesError, compile_expression
from promwatch.insights.derive import MAX_EXPRESSION_CHARS


@pytest.mark.parametrize(
    ("source", "fields", "expected"),
    [
        ("a / b * 100", {"a": 50, "b": 200}, 25.0),
        ("a + b * 2", {"a": 1, "b": 3}, 7.0),
        ("(a + b) * 2", {"a": 1, "b": 3}, 8.0),
        ("-a + 10", {"a": 4}, 6.0),
        ("+a - -b", {"a": 4, "b": 1}, 5.0),
        ("a / 2.5", {"a": 5}, 2.0),
        ("1e3 * a", {"a": 0.5}, 500.0),
    ],
)
def test_arithmetic(source: str, fields: dict[str, float], expected: float) -> None:
    # Given an expression, When evaluated over fields, Then the arithmetic result comes out
    assert compile_expression(source).evaluate(fields) == pytest.approx(expected)


@pytest.mark.parametrize(
    "fields",
    [{"a": 1}, {"a": 1, "b": 0}, {"a": 1, "b": 0.0}, {"a": 1, "b": "2"}, {"a": 1, "b": True}, {"a": 1e308, "b": 1e-308}],
)
def test_missing_field_division_by_zero_non_number_and_overflow_skip(fields: dict[str, object]) -> None:
    # a / b is skipped (None) when b is absent, zero, not a number, or the result is not finite
    assert compile_expression("a / b").evaluate(fields) is None


def test_fields_are_listed() -> None:
    # given an expression using x twice and y, when compiled, then its fields are x and y, once each
    assert compile_expression("x / y * 100 + x").fields == ("x", "y")


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('true')",
        "a.real",
        "a ** 2",
        "a % 2",
        "a // 2",
        "[a][0]",
        "a if b else c",
        "lambda: 1",
        "a < b",
        "'text'",
        "True + a",
        "a; b",
        "a = 1",
        "f(a)",
        "100",
    ],
)
def test_anything_beyond_arithmetic_is_refused(source: str) -> None:
    # Given calls, attributes, powers, strings, statements or constant-only expressions
    # Then compiling refuses them with RulesError (nothing is ever executed)
    with pytest.raises(RulesError, match="derive expression"):
        compile_expression(source)


def test_overlong_expression_is_refused() -> None:
    # given an expression longer than the limit, when compiled, then it is refused naming the characters
    with pytest.raises(RulesError, match="characters"):
        compile_expression("+".join(["a"] * (MAX_EXPRESSION_CHARS // 2 + 1)))


@pytest.mark.parametrize("source", ["a * 1" + "0" * 400, "a + 1e999", "-1" + "0" * 320 + " / a"])
def test_numbers_beyond_the_float_range_are_refused(source: str) -> None:
    # Given a constant no float can hold (found by review of the fuzz harness: OverflowError escaped)
    # Then compiling refuses it with RulesError naming the number
    with pytest.raises(RulesError, match="out of range"):
        compile_expression(source)


def test_text_python_cannot_encode_is_refused() -> None:
    # Given an expression with a lone surrogate (YAML "\ud800"; found by fuzzing: UnicodeEncodeError escaped)
    # Then compiling refuses it with RulesError
    with pytest.raises(RulesError, match="not valid arithmetic"):
        compile_expression("a + \ud800")
