"""A PromQL syntax and type checker (pure): a query is refused before anything is applied.

CloudWatch evaluates PromQL "based on the Prometheus 3.0 specification"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-PromQL.html), so
this follows Prometheus 3's grammar: balanced ``()``/``{}``/``[]`` and quotes, the functions
and aggregations of the Prometheus documentation with their argument counts and types
(``rate(foo)`` is refused: rate takes a range vector), durations (``5m``, ``1h30m``) in range
selectors, subqueries and offsets, label matchers (``=``, ``!=``, ``=~``, ``!~``; UTF-8 names
quoted, ``{"http.server.duration", "@resource.service.name"="api"}``), ``by``/``without``
grouping, ``on``/``ignoring``/``group_left``/``group_right`` vector matching and ``bool``.
"""
from __future__ import annotations

from promwatch.reconcile.checks import suggestion
from promwatch.reconcile.errors import PromQLError
from promwatch.reconcile.promql_lexicon import (
    AGGREGATIONS,
    COMPARISONS,
    FUNCTIONS,
    INSTANT,
    KEYWORDS,
    LABEL_NAME,
    NAME_KEYWORDS,
    PRECEDENCE,
    RANGE,
    RENAMED,
    SCALAR,
    SET_OPERATORS,
    STRING,
    TYPE_CODES,
    Function,
    Problem,
    Token,
    article,
    parse_duration,
    tokens,
    unquote,
)
from promwatch.regex import RegexError, relabel_regex

__all__ = ["AGGREGATIONS", "FUNCTIONS", "check_promql", "parse_duration", "result_type"]


class _Parser:
    """Recursive descent over the tokens; each rule returns the type of what it parsed."""

    def __init__(self, query: str) -> None:
        self.tokens = tokens(query)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
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

    def query(self) -> str:
        result = self.expression(1)
        if self.token.kind != "end":
            raise self.fail("", "an operator or the end of the query")
        return result

    def expression(self, minimum: int) -> str:
        left = self.unary()
        while True:
            operator = self.token.word or (self.token.text if self.token.kind == "op" else "")
            precedence = PRECEDENCE.get(operator)
            if precedence is None or precedence < minimum:
                return left
            token = self.advance()
            is_bool = self.token.word == "bool"
            if is_bool:
                if operator not in COMPARISONS:
                    raise self.fail("bool can only follow a comparison operator", "an expression")
                self.advance()
            matching = self.vector_matching()
            right = self.expression(precedence if operator == "^" else precedence + 1)
            left = self.binary(operator, token, left, right, is_bool, matching)

    def vector_matching(self) -> bool:
        if self.token.word not in ("on", "ignoring"):
            if self.token.word in ("group_left", "group_right"):
                raise self.fail("group_left/group_right need on(...) or ignoring(...) before them", "on or ignoring")
            return False
        self.advance()
        self.labels()
        if self.token.word in ("group_left", "group_right"):
            self.advance()
            if self.token.text == "(":
                self.labels()
        return True

    def binary(self, operator: str, token: Token, left: str, right: str, is_bool: bool, matching: bool) -> str:
        for side in (left, right):
            if side not in (SCALAR, INSTANT):
                raise self.fail(f"the operands of {operator!r} must be scalars or instant vectors, not {article(side)}",
                                "an instant vector or a scalar on both sides", token)
        if operator in SET_OPERATORS and SCALAR in (left, right):
            raise self.fail(f"set operator {operator!r} needs instant vectors on both sides", "instant vectors", token)
        if operator in COMPARISONS and left == right == SCALAR and not is_bool:
            raise self.fail("a comparison between scalars needs the bool modifier", f"'{operator} bool'", token)
        if matching and SCALAR in (left, right):
            raise self.fail("vector matching (on/ignoring) needs instant vectors on both sides", "instant vectors",
                            token)
        return SCALAR if left == right == SCALAR else INSTANT

    def unary(self) -> str:
        if self.token.kind == "op" and self.token.text in "+-":
            token = self.advance()
            operand = self.unary()
            if operand not in (SCALAR, INSTANT):
                raise self.fail(f"unary {token.text!r} needs a scalar or an instant vector, not {article(operand)}",
                                "a scalar or an instant vector", token)
            return operand
        return self.postfix()

    def postfix(self) -> str:
        start = self.token
        result, selector = self.primary()
        modifiers: set[str] = set()  # offset and @ of the selector or subquery before them, each once
        while True:
            if self.token.text == "[" and self.token.kind == "op":
                opened = self.advance()
                self.duration()
                if self.token.text == ":":
                    self.advance()
                    if self.token.kind == "duration":
                        self.duration()
                    if result != INSTANT:
                        raise self.fail(f"a subquery needs an instant vector, not {article(result)}", "an instant vector",
                                        start)
                elif not selector or modifiers or result != INSTANT:
                    raise self.fail("a range [..] can only follow a vector selector (name{labels})",
                                    "a subquery [range:step] here", opened)
                self.expect("]", "']'", opened)
                result, selector, modifiers = RANGE, True, set()
            elif self.token.word == "offset" or (self.token.text == "@" and self.token.kind == "op"):
                token = self.advance()
                if not selector:
                    raise self.fail(f"{token.text} can only follow a selector or a subquery",
                                    "a selector (name{labels} or name[5m]) before it", token)
                if token.word in modifiers or token.text in modifiers:
                    raise self.fail(f"{token.text} is given twice", f"one {token.text}", token)
                modifiers.add(token.word or token.text)
                if token.text == "@":
                    self.at_timestamp()
                else:
                    if self.token.text == "-":
                        self.advance()
                    self.duration()
            else:
                return result

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
        self.advance()

    def duration(self) -> None:
        token = self.token
        if token.kind != "duration":
            raise self.fail("", "a duration such as 30s, 5m, 1h30m")
        try:
            millis = parse_duration(token.text)
        except PromQLError as exc:
            raise Problem(token.column, str(exc).partition(";")[0], "units y w d h m s ms, each once, largest "
                           "first") from exc
        if millis == 0:  # Prometheus refuses a zero range, step or offset alike
            raise self.fail("a duration must be longer than 0", "a positive duration")
        self.advance()

    def primary(self) -> tuple[str, bool]:
        token = self.token
        if token.kind == "number" or token.word in ("inf", "nan"):
            self.advance()
            return SCALAR, False
        if token.kind == "string":
            self.advance()
            return STRING, False
        if token.kind == "duration":
            raise self.fail("a duration is only allowed in a range [..], a subquery or after offset",
                            "a number (seconds)")
        if token.kind == "op" and token.text == "(":
            self.advance()
            inner = self.expression(1)
            self.expect(")", "')'", token)
            return inner, False
        if token.kind == "op" and token.text == "{":
            self.matchers(named=False)
            return INSTANT, True
        if token.kind != "ident":
            raise self.fail("", "an expression: a number, a string, a selector, a function or an aggregation")
        after = self.tokens[self.index + 1]
        if token.word in AGGREGATIONS and (after.text == "(" or after.word in ("by", "without")):
            return self.aggregation(), False
        if after.text == "(" and after.kind == "op":
            return self.call(), False
        if token.word in KEYWORDS and token.word not in NAME_KEYWORDS:
            raise self.fail(f"{token.text!r} is a keyword", "an expression before it")
        self.advance()
        if self.token.text == "{" and self.token.kind == "op":
            self.matchers(named=True)
        return INSTANT, True

    def matchers(self, *, named: bool) -> None:
        opened = self.advance()
        has_name = named
        selective = named
        while not (self.token.kind == "op" and self.token.text == "}"):
            label = self.token
            if label.kind == "string":
                self.advance()
                if self.token.text in (",", "}") and self.token.kind == "op":  # {"metric.name"}: the name
                    if has_name:
                        raise self.fail("the metric name is given twice", "one name", label)
                    has_name = selective = True
                    self.comma("}", opened)
                    continue
            elif label.kind == "ident":
                if not LABEL_NAME.match(label.text):
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
            selective = not _matches_empty(operator, value) or selective
            self.comma("}", opened)
        self.advance()
        if not selective:
            raise Problem(opened.column, "a selector must have a name or a matcher that does not match the "
                           "empty string", '{job="api"}, {job=~".+"} or a metric name')

    def comma(self, closing: str, opened: Token) -> None:
        if self.token.kind == "op" and self.token.text == ",":
            self.advance()
        elif not (self.token.kind == "op" and self.token.text == closing):
            raise self.fail("", f"',' or '{closing}' to close the {opened.text!r} at column {opened.column}")

    def labels(self) -> None:
        opened = self.expect("(", "'(' and a list of label names")
        while not (self.token.kind == "op" and self.token.text == ")"):
            if not ((self.token.kind == "ident" and LABEL_NAME.match(self.token.text)) or self.token.kind == "string"):
                raise self.fail("", "a label name")
            self.advance()
            self.comma(")", opened)
        self.advance()

    def aggregation(self) -> str:
        name = self.advance()
        grouped = self.token.word in ("by", "without")
        if grouped:
            self.advance()
            self.labels()
        opened = self.expect("(", f"'(' after {name.text}")
        parameter = AGGREGATIONS[name.word]
        if parameter is not None:
            got = self.expression(1)
            if got != parameter:
                raise self.fail(f"{name.text} takes {article(parameter)} first, not {article(got)}", f"{name.text}(<{parameter}>, "
                                "<instant vector>)", name)
            self.expect(",", f"',' and the instant vector {name.text} aggregates")
        operand = self.expression(1)
        if operand != INSTANT:
            raise self.fail(f"{name.text} aggregates an instant vector, not {article(operand)}", "an instant vector", name)
        self.expect(")", "')'", opened)
        if self.token.word in ("by", "without"):
            if grouped:
                raise self.fail("by/without is given twice", "one grouping")
            self.advance()
            self.labels()
        return INSTANT

    def call(self) -> str:
        name = self.advance()
        function = FUNCTIONS.get(name.text)
        if function is None:
            if name.text in RENAMED:
                hint = f"; Prometheus 3 renamed it {RENAMED[name.text]!r}"
            else:
                hint = suggestion(name.text, [*FUNCTIONS, *AGGREGATIONS])
            raise Problem(name.column, f"unknown function {name.text!r}{hint}", "a PromQL function")
        opened = self.advance()
        types: list[str] = []
        if not (self.token.kind == "op" and self.token.text == ")"):
            types.append(self.expression(1))
            while self.token.kind == "op" and self.token.text == ",":  # no trailing comma in a call
                self.advance()
                types.append(self.expression(1))
        self.expect(")", "',' or ')'", opened)
        self.arguments(name, function, types)
        return function.returns

    def arguments(self, name: Token, function: Function, types: list[str]) -> None:
        wanted = [TYPE_CODES[c] for c in function.args]
        least = len(wanted) - (1 if function.optional == -1 else function.optional)
        most = None if function.optional == -1 else len(wanted)
        if len(types) < least or (most is not None and len(types) > most):
            count = f"{least}" if least == most else (f"{least} to {most}" if most is not None else f"{least} or more")
            raise Problem(name.column, f"{name.text} takes {count} argument(s), got {len(types)}",
                           f"{name.text}({', '.join(wanted)})")
        for position, got in enumerate(types):
            want = wanted[min(position, len(wanted) - 1)]
            if got != want:
                example = " (a selector with a range, e.g. foo[5m])" if want == RANGE else ""
                raise Problem(name.column, f"argument {position + 1} of {name.text} is {article(got)}",
                               f"{article(want)}{example}")


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


def result_type(query: str) -> str:
    """The type of ``query``'s result: ``instant vector``, ``range vector``, ``scalar`` or ``string``.

    Raises
    ------
    PromQLError
        When ``query`` is not valid PromQL; the message names the query, the column and what was
        expected there.
    """
    if not query.strip():
        raise PromQLError("the PromQL query is empty; expected an expression such as up == 0")
    try:
        return _Parser(query).query()
    except Problem as problem:
        raise PromQLError(f"{query!r} is not valid PromQL: at column {problem.column}, {problem.problem}; "
                          f"expected {problem.expected}") from None
    except RecursionError:
        raise PromQLError(f"{query!r} nests too deeply; expected fewer levels of parentheses") from None


def check_promql(query: str, *, types: tuple[str, ...] = (INSTANT,)) -> str:
    """``query`` unchanged when it is valid PromQL whose result is one of ``types``.

    An alarm's query must return an instant vector (each series is a contributor); a graph's
    may also return a scalar.

    Raises
    ------
    PromQLError
        When the query is not valid PromQL, or returns another type.
    """
    got = result_type(query)
    if got not in types:
        raise PromQLError(f"{query!r} returns {article(got)}; expected a query returning {' or '.join(article(t) for t in types)}")
    return query
