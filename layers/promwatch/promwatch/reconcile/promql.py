"""A PromQL syntax and type checker (pure): a query is refused before anything is applied.

CloudWatch evaluates PromQL "based on the Prometheus 3.0 specification"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-PromQL.html), so
this follows Prometheus 3's grammar: balanced ``()``/``{}``/``[]`` and quotes, the functions
and aggregations of the Prometheus documentation with their argument counts and types
(``rate(foo)`` is refused: rate takes a range vector), durations (``5m``, ``1h30m``) in range
selectors, subqueries and offsets, label matchers (``=``, ``!=``, ``=~``, ``!~``; UTF-8 names
quoted, ``{"http.server.duration", "@resource.service.name"="api"}``), ``by``/``without``
grouping, ``on``/``ignoring``/``group_left``/``group_right`` vector matching and ``bool``, and the
checks Prometheus makes after parsing (no grouping with set operators, the metric name once, numbers
and durations in range). Functions behind Prometheus 3's experimental-functions flag are refused
(``promql_lexicon.EXPERIMENTAL``).
"""
from __future__ import annotations

from promwatch.reconcile.checks import suggestion
from promwatch.reconcile.errors import PromQLError
from promwatch.reconcile.promql_base import TokenParser, end_of
from promwatch.reconcile.promql_lexicon import (
    AGGREGATIONS,
    COMPARISONS,
    EXPERIMENTAL,
    FUNCTIONS,
    INSTANT,
    KEYWORDS,
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
    unquote,
)
from promwatch.reconcile.promql_tree import (
    Aggregation,
    Binary,
    Call,
    Matcher,
    Node,
    Number,
    Paren,
    Selector,
    StringLiteral,
    Subquery,
    Unary,
)

__all__ = ["AGGREGATIONS", "FUNCTIONS", "check_promql", "parse_duration", "parse_promql", "result_type"]


class _Parser(TokenParser):
    """Recursive descent over the tokens; each rule returns the node it parsed (with its type)."""

    def query(self) -> Node:
        result = self.expression(1)
        if self.token.kind != "end":
            raise self.fail("", "an operator or the end of the query")
        return result

    def expression(self, minimum: int) -> Node:
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
            matching, grouping = self.vector_matching()
            if grouping is not None and operator in SET_OPERATORS:
                raise self.fail(f"{grouping.word} is not allowed with set operator {operator!r}: set operators "
                                "match many-to-many", f"on(...) or ignoring(...) alone after {operator!r}", grouping)
            right = self.expression(precedence if operator == "^" else precedence + 1)
            kind = self.binary(operator, token, left.type, right.type, is_bool, matching)
            left = Binary(kind, left.start, right.end, operator, left, right, is_bool, matching)

    def vector_matching(self) -> tuple[bool, Token | None]:
        """Whether on(...)/ignoring(...) was written, and the group_left/group_right token after it."""
        if self.token.word not in ("on", "ignoring"):
            if self.token.word in ("group_left", "group_right"):
                raise self.fail("group_left/group_right need on(...) or ignoring(...) before them", "on or ignoring")
            return False, None
        on = self.advance().word == "on"
        matched = self.labels()
        if self.token.word not in ("group_left", "group_right"):
            return True, None
        grouping = self.advance()
        if self.token.text == "(":
            for label in self.labels():
                if on and label in matched:  # Prometheus' rule: a label is matched on or copied, not both
                    raise self.fail(f"label {label!r} is in both on(...) and {grouping.word}(...)",
                                    f"{label!r} in one of them", grouping)
        return True, grouping
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

    def unary(self) -> Node:
        if self.token.kind == "op" and self.token.text in "+-":
            token = self.advance()
            operand = self.unary()
            if operand.type not in (SCALAR, INSTANT):
                raise self.fail(f"unary {token.text!r} needs a scalar or an instant vector, not {article(operand.type)}",
                                "a scalar or an instant vector", token)
            return Unary(operand.type, token.column - 1, operand.end, token.text, operand)
        return self.postfix()

    def postfix(self) -> Node:
        start = self.token
        node = self.primary()
        result, selector = node.type, isinstance(node, Selector | Subquery)
        modifiers: set[str] = set()  # offset and @ of the selector or subquery before them, each once
        while True:
            if self.token.text == "[" and self.token.kind == "op":
                opened = self.advance()
                millis = self.duration()
                if self.token.text == ":":
                    self.advance()
                    if self.token.kind == "duration":
                        self.duration()
                    if result != INSTANT:
                        raise self.fail(f"a subquery needs an instant vector, not {article(result)}", "an instant vector",
                                        start)
                    self.expect("]", "']'", opened)
                    node = Subquery(RANGE, node.start, end_of(self.last), node)
                elif not isinstance(node, Selector) or modifiers or result != INSTANT:
                    raise self.fail("a range [..] can only follow a vector selector (name{labels})",
                                    "a subquery [range:step] here", opened)
                else:
                    self.expect("]", "']'", opened)
                    node = Selector(RANGE, node.start, end_of(self.last), node.name, node.matchers, millis)
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
                if isinstance(node, Selector):
                    node = Selector(node.type, node.start, end_of(self.last), node.name, node.matchers,
                                    node.range_ms, modified=True)
                elif isinstance(node, Subquery):
                    node = Subquery(node.type, node.start, end_of(self.last), node.inner)
            else:
                return node

    def primary(self) -> Node:
        token = self.token
        begin = token.column - 1
        if token.kind == "number" or token.word in ("inf", "nan"):
            value = self.number() if token.kind == "number" else float(self.advance().text)
            return Number(SCALAR, begin, end_of(token), value)
        if token.kind == "string":
            self.advance()
            return StringLiteral(STRING, begin, end_of(token), unquote(token))
        if token.kind == "duration":
            raise self.fail("a duration is only allowed in a range [..], a subquery or after offset",
                            "a number (seconds)")
        if token.kind == "op" and token.text == "(":
            self.advance()
            inner = self.expression(1)
            closed = self.expect(")", "')'", token)
            return Paren(inner.type, begin, end_of(closed), inner)
        if token.kind == "op" and token.text == "{":
            quoted_name, braced = self.matchers(named=False)
            return Selector(INSTANT, begin, end_of(self.last), quoted_name, braced)
        if token.kind != "ident":
            raise self.fail("", "an expression: a number, a string, a selector, a function or an aggregation")
        after = self.tokens[self.index + 1]
        if token.word in AGGREGATIONS and (after.text == "(" or after.word in ("by", "without")):
            return self.aggregation()
        if after.text == "(" and after.kind == "op":
            return self.call()
        if token.word in KEYWORDS and token.word not in NAME_KEYWORDS:
            raise self.fail(f"{token.text!r} is a keyword", "an expression before it")
        self.advance()
        matchers: tuple[Matcher, ...] = ()
        if self.token.text == "{" and self.token.kind == "op":
            _, matchers = self.matchers(named=True)
            for matcher in matchers:
                if matcher.label == "__name__":  # Prometheus: the metric name must not be set twice
                    raise Problem(matcher.start + 1, f"the metric name is given twice: {token.text!r} and "
                                  f"__name__{matcher.op}{matcher.value!r}",
                                  f"{token.text}{{...}} without __name__, or {{__name__=...}} without a name before it")
        return Selector(INSTANT, begin, end_of(self.last), token.text, matchers)

    def aggregation(self) -> Node:
        name = self.advance()
        self.stable(name)
        grouped = self.token.word in ("by", "without")
        without = self.token.word == "without"
        grouping: tuple[str, ...] = ()
        if grouped:
            self.advance()
            grouping = self.labels()
        opened = self.expect("(", f"'(' after {name.text}")
        parameter = AGGREGATIONS[name.word]
        param: Node | None = None
        if parameter is not None:
            param = self.expression(1)
            if param.type != parameter:
                raise self.fail(f"{name.text} takes {article(parameter)} first, not {article(param.type)}",
                                f"{name.text}(<{parameter}>, <instant vector>)", name)
            self.expect(",", f"',' and the instant vector {name.text} aggregates")
        operand = self.expression(1)
        if operand.type != INSTANT:
            raise self.fail(f"{name.text} aggregates an instant vector, not {article(operand.type)}", "an instant vector",
                            name)
        self.expect(")", "')'", opened)
        if self.token.word in ("by", "without"):
            if grouped:
                raise self.fail("by/without is given twice", "one grouping")
            without = self.advance().word == "without"
            grouping, grouped = self.labels(), True
        return Aggregation(INSTANT, name.column - 1, end_of(self.last), name.word, operand, param, grouping, without,
                           grouped)

    def call(self) -> Node:
        name = self.advance()
        self.stable(name)
        function = FUNCTIONS.get(name.text)
        if function is None:
            if name.text in RENAMED:
                hint = f"; Prometheus 3 renamed it {RENAMED[name.text]!r}"
                if RENAMED[name.text] in EXPERIMENTAL:
                    hint += ", an experimental function CloudWatch does not document"
            else:
                hint = suggestion(name.text, [*FUNCTIONS, *AGGREGATIONS])
            raise Problem(name.column, f"unknown function {name.text!r}{hint}", "a PromQL function")
        opened = self.advance()
        args: list[Node] = []
        if not (self.token.kind == "op" and self.token.text == ")"):
            args.append(self.expression(1))
            while self.token.kind == "op" and self.token.text == ",":  # no trailing comma in a call
                self.advance()
                args.append(self.expression(1))
        closed = self.expect(")", "',' or ')'", opened)
        self.arguments(name, function, [a.type for a in args])
        return Call(function.returns, name.column - 1, end_of(closed), name.text, tuple(args))

    @staticmethod
    def stable(name: Token) -> None:
        """Refuse a function or aggregation Prometheus 3 keeps behind its experimental-functions flag."""
        if (name.word if name.word in AGGREGATIONS else name.text) in EXPERIMENTAL:
            raise Problem(name.column, f"{name.text} is experimental in Prometheus 3 (only with "
                          "--enable-feature=promql-experimental-functions) and CloudWatch does not document it",
                          "a stable PromQL function or aggregation")

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


def result_type(query: str) -> str:
    """The type of ``query``'s result: ``instant vector``, ``range vector``, ``scalar`` or ``string``.

    Raises
    ------
    PromQLError
        As :func:`parse_promql`.
    """
    return parse_promql(query).type


def parse_promql(query: str) -> Node:
    """The parse tree of ``query`` (:mod:`promwatch.reconcile.promql_tree`); its ``type`` is the result's.

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
