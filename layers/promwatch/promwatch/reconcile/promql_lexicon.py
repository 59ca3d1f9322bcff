"""The words of PromQL (pure): its functions, aggregations, operators, durations and tokens.

Function signatures follow https://prometheus.io/docs/prometheus/latest/querying/functions/
and the aggregation operators https://prometheus.io/docs/prometheus/latest/querying/operators/
(Prometheus 3, the version CloudWatch's PromQL follows). :mod:`promwatch.reconcile.promql`
parses with them.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass

from promwatch.reconcile.errors import PromQLError, ReconcileError
from promwatch.text import shown
from promwatch.units import MAX_DURATION_MILLIS, duration_millis

__all__ = [
    "AGGREGATIONS", "COMPARISONS", "EXPERIMENTAL", "FUNCTIONS", "INSTANT", "KEYWORDS", "NAME_KEYWORDS", "PRECEDENCE", "RANGE", "RENAMED",
    "SCALAR", "SET_OPERATORS", "STRING", "TYPE_CODES", "Function", "Problem", "Token",
    "article", "parse_duration", "tokens", "unquote",
]

# Argument types: v instant vector, m range vector, s scalar, S string.
INSTANT, RANGE, SCALAR, STRING = "instant vector", "range vector", "scalar", "string"


def article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
TYPE_CODES = {"v": INSTANT, "m": RANGE, "s": SCALAR, "S": STRING}


@dataclass(frozen=True)
class Function:
    args: str
    optional: int = 0
    """How many trailing arguments may be left out; -1: the last one repeats (any number, 0 too)."""
    returns: str = INSTANT


_MATH = ("abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "ceil", "cos", "cosh", "deg", "exp", "floor",
         "histogram_avg", "histogram_count", "histogram_stddev", "histogram_stdvar", "histogram_sum", "ln",
         "log10", "log2", "rad", "sgn", "sin", "sinh", "sort", "sort_desc", "sqrt", "tan", "tanh", "timestamp",
         "absent")
_OVER_TIME = ("absent_over_time", "avg_over_time", "changes", "count_over_time", "delta", "deriv", "first_over_time",
              "idelta", "increase", "irate", "last_over_time", "mad_over_time", "max_over_time", "min_over_time",
              "present_over_time", "rate", "resets", "stddev_over_time", "stdvar_over_time", "sum_over_time",
              "ts_of_first_over_time", "ts_of_last_over_time", "ts_of_max_over_time", "ts_of_min_over_time")
_CALENDAR = ("day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year")

FUNCTIONS: dict[str, Function] = {
    **{name: Function("v") for name in _MATH},
    **{name: Function("m") for name in _OVER_TIME},
    **{name: Function("v", optional=1) for name in _CALENDAR},
    "clamp": Function("vss"),
    "clamp_max": Function("vs"),
    "clamp_min": Function("vs"),
    "double_exponential_smoothing": Function("mss"),
    "histogram_fraction": Function("ssv"),
    "histogram_quantile": Function("sv"),
    "info": Function("vv", optional=1),
    "label_join": Function("vSSS", optional=-1),
    "label_replace": Function("vSSSS"),
    "pi": Function("", returns=SCALAR),
    "predict_linear": Function("ms"),
    "quantile_over_time": Function("sm"),
    "round": Function("vs", optional=1),
    "scalar": Function("v", returns=SCALAR),
    "sort_by_label": Function("vS", optional=-1),
    "sort_by_label_desc": Function("vS", optional=-1),
    "time": Function("", returns=SCALAR),
    "vector": Function("s"),
}
"""The functions of https://prometheus.io/docs/prometheus/latest/querying/functions/ (Prometheus 3)."""

EXPERIMENTAL = frozenset({
    "double_exponential_smoothing", "first_over_time", "info", "limit_ratio", "limitk", "mad_over_time",
    "sort_by_label", "sort_by_label_desc", "ts_of_first_over_time", "ts_of_last_over_time", "ts_of_max_over_time",
    "ts_of_min_over_time",
})
"""Functions and aggregations Prometheus 3 parses only with ``--enable-feature=promql-experimental-functions``.

CloudWatch's PromQL documentation names no such flag nor these functions, so the checker refuses them
(a query that CloudWatch may refuse is caught before it is applied); they stay in the tables above so the
refusal names them as experimental rather than unknown.
"""

RENAMED = {"holt_winters": "double_exponential_smoothing"}
"""Functions Prometheus 3 renamed: named in the refusal."""

AGGREGATIONS: dict[str, str | None] = {
    "avg": None, "bottomk": SCALAR, "count": None, "count_values": STRING, "group": None, "limit_ratio": SCALAR,
    "limitk": SCALAR, "max": None, "min": None, "quantile": SCALAR, "stddev": None, "stdvar": None, "sum": None, "topk": SCALAR,
}
"""Aggregation operators -> the type of their leading parameter (None: they take none)."""

PRECEDENCE = {"or": 1, "and": 2, "unless": 2, "==": 3, "!=": 3, "<=": 3, "<": 3, ">=": 3, ">": 3,
               "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "atan2": 5, "^": 6}
COMPARISONS = frozenset({"==", "!=", "<=", "<", ">=", ">"})
SET_OPERATORS = frozenset({"and", "or", "unless"})
KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
                       "and", "or", "unless", "atan2"})
NAME_KEYWORDS = frozenset({"by", "without", "offset", "and", "or", "unless", *AGGREGATIONS})
"""Keywords Prometheus' grammar also takes as a metric name where an expression starts (``count_values``)."""
_TOKEN = re.compile(r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<duration>(?:\d+(?:ms|[ywdhms]))+)(?![A-Za-z0-9_.])
  | (?P<number>(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![A-Za-z0-9_:.]))
  | (?P<bad>\.?\d[A-Za-z0-9_:.]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|==|!=|<=|>=|[-+*/%^<>=(){}\[\],:@])
""", re.VERBOSE)

def parse_duration(text: str) -> int:
    """``1h30m`` -> milliseconds; units y w d h m s ms, each once, largest first (Prometheus' rule).

    Raises
    ------
    PromQLError
        When ``text`` is not such a duration.
    """
    expected = "a duration such as 30s, 5m, 1h30m (units y w d h m s ms, each once, largest first)"
    millis = duration_millis(text)
    if millis is None:
        raise PromQLError(f"{shown(text, 40)} is not a duration; expected {expected}")
    if millis > MAX_DURATION_MILLIS:
        raise PromQLError(f"{shown(text, 40)} is out of range; expected a duration up to about 292y (Prometheus "
                          "holds durations in int64 nanoseconds)")
    return millis


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    column: int

    @property
    def word(self) -> str:
        """The keyword this token spells (keywords are case-insensitive), or ''."""
        return self.text.lower() if self.kind == "ident" else ""


def tokens(query: str) -> list[Token]:
    """The tokens of ``query`` (spaces and ``#`` comments dropped), ending with an ``end`` token."""
    found: list[Token] = []
    position = 0
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None:
            char = query[position]
            if char in "\"'`":
                raise Problem(position + 1, f"unterminated string starting with {char}", f"a closing {char}")
            raise Problem(position + 1, f"unexpected character {char!r}", "an operator, a name, a number or a string")
        kind = match.lastgroup or ""
        if kind == "bad":
            raise Problem(position + 1, f"{match.group()!r} is not a number or a duration",
                          "a number (1, 0.5, 1e3, 0x1f) or a duration (5m, 1h30m) followed by a space or an operator")
        if kind == "ident" and match.group().startswith(":") and found and found[-1].kind == "duration":
            # [5m:1m]: the colon of a subquery, not a name (names may start with a colon elsewhere)
            kind, end = "op", position + 1
        else:
            end = match.end()
        if kind != "space":
            found.append(Token(kind, query[position:end], position + 1))
        position = end
    found.append(Token("end", "", len(query) + 1))
    return found


class Problem(ReconcileError):
    """A problem at a column (1-based), turned into a :class:`PromQLError` naming the query by the parser."""

    def __init__(self, column: int, problem: str, expected: str) -> None:
        super().__init__(problem)
        self.column = max(column, 1)
        self.problem = problem
        self.expected = expected


_SIMPLE_ESCAPES = {"a": 0x07, "b": 0x08, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B, "\\": 0x5C}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}
_ESCAPE_EXPECTED = ("an escape Go strings take: \\a \\b \\f \\n \\r \\t \\v \\\\, the quote, \\xHH, \\ooo (octal up "
                    "to 377), \\uHHHH or \\UHHHHHHHH (a Unicode code point)")


def unquote(token: Token) -> str:
    """The value of a string token, unquoted as Prometheus does (Go's string-literal escapes).

    A backtick string is raw. In ``"..."`` and ``'...'``: ``\\a \\b \\f \\n \\r \\t \\v \\\\``, the
    string's own quote, ``\\xHH`` and ``\\ooo`` (a byte), ``\\uHHHH`` and ``\\UHHHHHHHH`` (a code point).

    Raises
    ------
    Problem
        At the escape, when it is none of those (as Prometheus' "unknown escape sequence"), or the
        bytes it spells are not UTF-8.
    """
    body = token.text[1:-1]
    quote = token.text[0]
    if quote == "`" or "\\" not in body:
        return body
    out = bytearray()
    position = 0
    while position < len(body):
        char = body[position]
        if char != "\\":
            out += char.encode()
            position += 1
            continue
        column = token.column + 1 + position
        letter = body[position + 1]  # the lexer's pattern puts a character after every backslash
        position += 2
        if letter in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[letter])
        elif letter == quote:
            out += quote.encode()
        elif letter in _HEX_DIGITS:
            digits = body[position:position + _HEX_DIGITS[letter]]
            if len(digits) != _HEX_DIGITS[letter] or not all(d in string.hexdigits for d in digits):
                raise Problem(column, f"invalid escape \\{letter}{digits}", _ESCAPE_EXPECTED)
            position += len(digits)
            value = int(digits, 16)
            if letter == "x":
                out.append(value)
            elif value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                raise Problem(column, f"\\{letter}{digits} is not a Unicode code point", _ESCAPE_EXPECTED)
            else:
                out += chr(value).encode()
        elif letter in "01234567":
            digits = body[position - 1:position + 2]
            if len(digits) != 3 or not all(d in "01234567" for d in digits) or int(digits, 8) > 0xFF:
                raise Problem(column, f"invalid octal escape \\{digits}", _ESCAPE_EXPECTED)
            position += 2
            out.append(int(digits, 8))
        else:
            raise Problem(column, f"unknown escape sequence \\{letter}", _ESCAPE_EXPECTED)
    try:
        return out.decode()
    except UnicodeDecodeError:
        raise Problem(token.column, f"the string {token.text} spells bytes that are not UTF-8",
                      "\\x and octal escapes that spell UTF-8 text (or \\u escapes)") from None
