"""The PromQL parser's token cursor and selector parts (pure): durations, ``@`` timestamps,
label matchers and label lists. :mod:`promwatch.reconcile.promql` parses expressions on top.
"""
from __future__ import annotations

import math

from promwatch.labelnames import is_label_name
from promwatch.reconcile.errors import PromQLError
from promwatch.reconcile.promql_lexicon import Problem, Token, parse_duration, tokens, unquote
from promwatch.reconcile.promql_tree import Matcher
from promwatch.regex import RegexError, relabel_regex

__all__ = ["TokenParser", "end_of"]

_INT64_MAX = 2**63 - 1
_AT_BOUND = float(2**63)
"""Prometheus refuses an ``@`` timestamp (seconds) at or beyond the int64 range."""


def end_of(token: Token) -> int:
    """The offset just after ``token`` in the query."""
    return token.column - 1 + len(token.text)


class TokenParser:
    """The token cursor of the PromQL parser and the parts of a selector (durations, ``@``,
    matchers, label lists), each returning what it read."""

    def __init__(self, query: str) -> None:
        self.tokens = tokens(query)
        self.index = 0
        self.last = self.tokens[0]
        """The token consumed last (where the node being built ends)."""

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        self.last = token
        return token

    def fail(self, problem: str, expected: str, token: Token | None = None) -> Problem:
        """A problem at ``token`` (the current one); with no ``problem``, the token was not expected."""
        token = token or self.token
        got = "end of the query" if token.kind == "end" else repr(token.text)
        return Problem(token.column, problem or f"unexpected {got}", expected)

    def expect(self, text: str, expected: str, opened: Token | None = None) -> Token:
        if self.token.text != text or self.token.kind != "op":
            where = f" to close the {opened.text!r} at column {opened.column}" if opened else ""
            raise self.fail("", f"{expected}{where}")
        return self.advance()

    def at_timestamp(self) -> None:
        if self.token.word in ("start", "end"):
            self.advance()
            opened = self.expect("(", "'('")
            self.expect(")", "')'", opened)
            return
        if self.token.text in "+-" and self.token.kind == "op":
            self.advance()
        if self.token.kind != "number":
            raise self.fail("", "a Unix timestamp, start() or end() after @")
        token = self.token
        if abs(self.number()) >= _AT_BOUND:
            raise self.fail("the @ timestamp is out of bounds", "a Unix timestamp in seconds below 2^63", token)

    def number(self) -> float:
        """The value of the number token here, consumed, read as Prometheus does (Go's ParseInt, then
        ParseFloat): a decimal that overflows a float64 (``1e400``) or a hexadecimal that overflows an
        int64 is refused, not read as infinity."""
        token = self.advance()
        text = token.text
        if text[:2].lower() == "0x":
            integer = int(text, 16)
            if integer > _INT64_MAX:
                raise self.fail(f"{text} is out of range", "a hexadecimal number up to 0x7fffffffffffffff", token)
            return float(integer)
        value = float(text)
        if math.isinf(value):
            raise self.fail(f"{text} is out of range", "a number a float64 holds (up to about 1.8e308)", token)
        return value

    def duration(self) -> int:
        token = self.token
        if token.kind != "duration":
            raise self.fail("", "a duration such as 30s, 5m, 1h30m")
        try:
            millis = parse_duration(token.text)
        except PromQLError as exc:
            problem, _, expected = str(exc).partition("; expected ")
            raise Problem(token.column, problem, expected) from exc
        if millis == 0:  # Prometheus refuses a zero range, step or offset alike
            raise self.fail("a duration must be longer than 0", "a positive duration")
        self.advance()
        return millis

    def matchers(self, *, named: bool) -> tuple[str | None, tuple[Matcher, ...]]:
        """The quoted name in the braces (if any) and the matchers."""
        opened = self.advance()
        has_name = named
        selective = named
        name: str | None = None
        found: list[Matcher] = []
        while not (self.token.kind == "op" and self.token.text == "}"):
            label = self.token
            if label.kind == "string":
                self.advance()
                if self.token.text in (",", "}") and self.token.kind == "op":  # {"metric.name"}: the name
                    if has_name:
                        raise self.fail("the metric name is given twice", "one name", label)
                    has_name = selective = True
                    name = unquote(label)
                    self.comma("}", opened)
                    continue
            elif label.kind == "ident":
                if not is_label_name(label.text):
                    raise self.fail("a label name has letters, digits and '_' only", "a label name", label)
                self.advance()
            else:
                raise self.fail("", "a label name (or a quoted one) in the matchers", label)
            operator = self.token
            if operator.kind != "op" or operator.text not in ("=", "!=", "=~", "!~"):
                raise self.fail("", f"a matcher operator (=, !=, =~ or !~) after label {label.text}")
            self.advance()
            if self.token.kind != "string":
                raise self.fail("", f"a quoted value after {label.text}{operator.text}")
            value = unquote(self.advance())
            label_name = unquote(label) if label.kind == "string" else label.text
            found.append(Matcher(label_name, operator.text, value, label.column - 1, end_of(self.last)))
            selective = not _matches_empty(operator, value) or selective
            self.comma("}", opened)
        self.advance()
        if not selective:
            raise Problem(opened.column, "a selector must have a name or a matcher that does not match the "
                           "empty string", '{job="api"}, {job=~".+"} or a metric name')
        return name, tuple(found)

    def comma(self, closing: str, opened: Token) -> None:
        if self.token.kind == "op" and self.token.text == ",":
            self.advance()
        elif not (self.token.kind == "op" and self.token.text == closing):
            raise self.fail("", f"',' or '{closing}' to close the {opened.text!r} at column {opened.column}")

    def labels(self) -> tuple[str, ...]:
        opened = self.expect("(", "'(' and a list of label names")
        names: list[str] = []
        while not (self.token.kind == "op" and self.token.text == ")"):
            if not ((self.token.kind == "ident" and is_label_name(self.token.text)) or self.token.kind == "string"):
                raise self.fail("", "a label name")
            label = self.advance()
            names.append(unquote(label) if label.kind == "string" else label.text)
            self.comma(")", opened)
        self.advance()
        return tuple(names)


def _matches_empty(operator: Token, value: str) -> bool:
    if operator.text in ("=", "!="):
        return (value == "") == (operator.text == "=")
    try:
        # Prometheus anchors a matcher's regex as relabelling does, and matches it with Go's RE2.
        matches = relabel_regex(value).matches("")
    except RegexError as exc:
        raise Problem(operator.column, str(exc).partition(";")[0], "a regular expression in RE2 syntax (no "
                      "lookaround, no backreferences)") from exc
    return matches == (operator.text == "=~")
