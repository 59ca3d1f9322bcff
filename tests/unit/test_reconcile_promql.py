"""The PromQL checker (pure): what it accepts, what it refuses and how it says so."""
from __future__ import annotations

import re

import pytest
from promwatch.reconcile.errors import PromQLError, ReconcileError
from promwatch.reconcile.promql import check_promql, parse_duration, result_type

from tests.support.promql_corpus import INVALID, VALID

PROMETHEUS_3 = (
    '{"http.server.active_requests"}',
    '{"http.server.active_requests", "@resource.service.name"="myservice", "@aws.region"=~"us-.*"}',
    'avg_over_time({"http.server.active_requests", "@resource.service.name"="myservice"}[5m])',
    'sum by ("@resource.service.name") (rate({"http.server.request.count"}[5m]))',
    "histogram_avg(rate(foo[5m]))",
    "x * ignoring(a) group_left(a) y",
    "x @ 1e18",
    "x + 0x7fffffffffffffff",
    "x > 1e-400",
    "x[106751d]",
)
"""Valid in Prometheus 3 (what CloudWatch follows), not in Debian's promtool 2.42."""


@pytest.mark.parametrize("query", [*VALID, *PROMETHEUS_3])
def test_valid_queries_are_accepted(query: str) -> None:
    # when a valid query is checked / then it has a type
    assert result_type(query) in ("instant vector", "range vector", "scalar", "string")


@pytest.mark.parametrize("query", INVALID)
def test_invalid_queries_are_refused_naming_the_query(query: str) -> None:
    # when an invalid query is checked / then it is refused, the message naming the query and what was expected
    with pytest.raises(PromQLError) as refused:
        result_type(query)
    assert repr(query) in str(refused.value)
    assert "expected" in str(refused.value)


@pytest.mark.parametrize(("query", "message"), [
    ("rate(foo)", "at column 1, argument 1 of rate is an instant vector; expected a range vector"),
    ("rte(foo[5m])", "unknown function 'rte'; did you mean 'rate'?"),
    ("sum(foo", "at column 8, unexpected end of the query; expected ')' to close the '(' at column 4"),
    ("foo[5m", "expected ']' to close the '[' at column 4"),
    ('foo{a="b}', 'unterminated string starting with "'),
    ("foo[1m30h]", "'1m30h' is not a duration"),
    ("foo[5x]", "'5x' is not a number or a duration"),
    ("foo[5]", "expected a duration such as 30s, 5m, 1h30m"),
    ("holt_winters(foo[5m], 0.1, 0.1)", "Prometheus 3 renamed it 'double_exponential_smoothing', an experimental"),
    ("x or on(a) group_left y", "at column 12, group_left is not allowed with set operator 'or'"),
    ("x * on(a) group_right(b, a) y", "label 'a' is in both on(...) and group_right(...)"),
    ('x{__name__="y"}', "at column 3, the metric name is given twice: 'x' and __name__='y'"),
    ("x > 1e400", "at column 5, 1e400 is out of range; expected a number a float64 holds"),
    ("x @ -1e19", "the @ timestamp is out of bounds"),
    ("x + 0xffffffffffffffffff", "expected a hexadecimal number up to 0x7fffffffffffffff"),
    ("x[300y]", "'300y' is out of range; expected a duration up to about 292y"),
    ("1 > 2", "a comparison between scalars needs the bool modifier; expected '> bool'"),
    ("topk(foo)", "topk takes a scalar first, not an instant vector"),
    ('{a=""}', "a selector must have a name or a matcher that does not match the empty string"),
    ("sum by job (foo)", "expected '(' and a list of label names"),
    ('label_replace(up, "a", "b")', "label_replace takes 5 argument(s), got 3"),
    ("foo and 1", "set operator 'and' needs instant vectors on both sides"),
    ("1h", "a duration is only allowed in a range [..], a subquery or after offset"),
    ("", "the PromQL query is empty"),
    ("(" * 5000 + "up" + ")" * 5000, "nests too deeply"),
])
def test_the_refusal_says_where_and_what_was_expected(query: str, message: str) -> None:
    # given a PromQL query Prometheus refuses
    with pytest.raises(PromQLError) as refused:
        # when its result type is asked for
        result_type(query)
    # then the refusal says where and what was expected
    assert message in str(refused.value)


EXPERIMENTAL_QUERIES = (
    "double_exponential_smoothing(foo[1h], 0.5, 0.5)", "mad_over_time(foo[5m])", "limitk(2, foo)",
    "limit_ratio by (job) (0.5, foo)", 'sort_by_label(foo, "job", "instance")', 'sort_by_label_desc(foo, "job")',
    "ts_of_max_over_time(foo[1h])", "ts_of_min_over_time(foo[1h])", "ts_of_last_over_time(foo[1h])",
    "ts_of_first_over_time(foo[1h])", "first_over_time(foo[1h])", "info(foo)",
)
"""Behind Prometheus 3's promql-experimental-functions flag, which CloudWatch does not document."""


@pytest.mark.parametrize("query", EXPERIMENTAL_QUERIES)
def test_experimental_functions_are_refused_as_experimental(query: str) -> None:
    # when a query calls a function Prometheus 3 keeps behind a feature flag / then it is refused saying so
    with pytest.raises(PromQLError, match=r"is experimental in Prometheus 3 .*; expected a stable PromQL function"):
        result_type(query)


def test_an_alarm_query_must_return_an_instant_vector() -> None:
    # given queries returning a scalar and a range vector
    for query, got in (("time() > bool 0", "a scalar"), ("foo[5m]", "a range vector")):
        # when checked as an alarm's query / then refused with the type it returns
        with pytest.raises(PromQLError, match=f"returns {got}; expected a query returning an instant vector"):
            check_promql(query)
    # and an instant vector passes unchanged
    assert check_promql("up == 0") == "up == 0"


def test_promql_errors_are_reconcile_errors_and_value_errors() -> None:
    # the spec's validators turn a ValueError into a located problem; callers catch ReconcileError
    # given PromQLError, when its bases are checked, then it is both a ReconcileError and a ValueError
    assert issubclass(PromQLError, ReconcileError) and issubclass(PromQLError, ValueError)


@pytest.mark.parametrize(("text", "millis"), [
    ("5m", 300_000), ("1h30m", 5_400_000), ("90s", 90_000), ("1d", 86_400_000), ("1w", 604_800_000),
    ("1y", 31_536_000_000), ("250ms", 250), ("1m30s500ms", 90_500),
])
def test_durations_are_read_as_prometheus_reads_them(text: str, millis: int) -> None:
    # given a Prometheus duration, when parsed, then it is the same milliseconds Prometheus reads
    assert parse_duration(text) == millis


@pytest.mark.parametrize("text", ["5", "5x", "1m1h", "1m1m", "m", "1.5m", "-5m", "5 m"])
def test_bad_durations_are_refused(text: str) -> None:
    # given text that is no Prometheus duration, when parsed, then it is refused
    with pytest.raises(PromQLError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(("query", "value"), [
    (r'x{a="a\u00e9"}', "aé"),
    (r'x{a="\x41\101"}', "AA"),
    (r'x{a="\U0001F600\xc3\xa9"}', "😀é"),
    (r'x{a="\a\b\f\n\r\t\v\\\""}', '\a\b\f\n\r\t\v\\"'),
    (r"x{a='it\'s'}", "it's"),
    (r"x{a=`raw\n\q`}", r"raw\n\q"),
])
def test_string_escapes_are_go_string_escapes_as_in_prometheus(query: str, value: str) -> None:
    # given a matcher value spelled with escapes; when parsed; then its value is what Prometheus reads
    from promwatch.reconcile.promql import parse_promql
    from promwatch.reconcile.promql_tree import Selector

    node = parse_promql(query)
    assert isinstance(node, Selector)
    assert node.matchers[0].value == value


@pytest.mark.parametrize(("query", "problem"), [
    (r'x{a="\q"}', r"column 6, unknown escape sequence \q"),
    (r'x{a="\'"}', r"unknown escape sequence \'"),
    (r'x{a="\400"}', r"invalid octal escape \400"),
    (r'x{a="\x4g"}', r"invalid escape \x4g"),
    (r'x{a="\ud800"}', r"\ud800 is not a Unicode code point"),
    (r'x{a="\xe9"}', "not UTF-8"),
])
def test_an_escape_prometheus_refuses_is_refused_where_it_is(query: str, problem: str) -> None:
    # given a label value with an escape Prometheus refuses, when checked, then the refusal names it and where it is
    with pytest.raises(PromQLError, match=re.escape(problem)):
        check_promql(query)
