"""Rule files checked as ``promtool check rules`` does (pure); tests/e2e runs promtool on the same
documents (tests/support/rule_files.py) to show both agree."""
from __future__ import annotations

from typing import Any

import pytest
from promwatch.reconcile.promql import parse_promql
from promwatch.reconcile.promql_tree import Aggregation, Binary, Call, Number, Selector
from promwatch_tools.importers import ImportInputError
from promwatch_tools.importers.rulefile import parse_rule_file

from tests.support.rule_files import INVALID, VALID


@pytest.mark.parametrize("name", sorted(VALID))
def test_a_file_promtool_accepts_is_read(name: str) -> None:
    # given a rule file promtool accepts / when read / then its groups come back
    groups = parse_rule_file(VALID[name], name)
    assert [group.name for group in groups] == [group["name"] for group in VALID[name]["groups"]] != []


@pytest.mark.parametrize("name", sorted(INVALID))
def test_a_file_promtool_refuses_is_refused_with_the_place(name: str) -> None:
    document, where = INVALID[name]
    # when read / then refused, the message naming where the problem is
    with pytest.raises(ImportInputError) as refused:
        parse_rule_file(document, "r.yml")
    assert where in str(refused.value)


def test_every_problem_of_a_file_is_listed_at_once() -> None:
    # given a rule file with a bad expression, a bad duration and a rule that is neither record nor alert
    document: dict[str, Any] = {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up ==", "for": "5"},
                                                                   {"expr": "up"}]}]}
    # when parsed, then one error lists all three, each with its place in the file
    with pytest.raises(ImportInputError) as refused:
        parse_rule_file(document, "r.yml")
    assert str(refused.value).splitlines() == [
        "r.yml:groups[0].rules[0].expr: could not parse expression: 'up ==' is not valid PromQL: at column 6, "
        "unexpected end of the query; expected an expression: a number, a string, a selector, a function or an "
        "aggregation",
        "r.yml:groups[0].rules[0].for: '5' is not a duration; expected a duration such as 30s, 5m, 1h30m (units y w "
        "d h m s ms, each once, largest first)",
        "r.yml:groups[0].rules[1]: one of 'record' or 'alert' must be set",
    ]


def test_an_empty_file_has_no_groups() -> None:
    # given an empty file (YAML null), when parsed, then there are no groups
    assert parse_rule_file(None, "r.yml") == []


def test_durations_are_milliseconds_and_zero_is_a_duration() -> None:
    # given an interval, a 'for' of 0 and a keep_firing_for, when parsed
    (group,) = parse_rule_file({"groups": [{"name": "g", "interval": "1m30s", "rules": [
        {"alert": "A", "expr": "up == 0", "for": "0", "keep_firing_for": "1h"}]}]}, "r.yml")
    # then each is in milliseconds, and 0 is a duration, not a missing one
    assert (group.interval_ms, group.rules[0].for_ms, group.rules[0].keep_firing_for_ms) == (90_000, 0, 3_600_000)


# --- the parse tree the importer reads


def test_the_parse_tree_has_the_parts_and_their_places() -> None:
    # given a quantile over a sum over a rate, compared with a number
    query = 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{job="a"}[5m]))) > 0.5'
    # when parsed
    tree = parse_promql(query)
    # then each node has its kind and parts, and its start/end mark its text in the query
    assert isinstance(tree, Binary) and tree.op == ">" and tree.type == "instant vector"
    call = tree.left
    assert isinstance(call, Call) and call.name == "histogram_quantile"
    assert isinstance(call.args[0], Number) and call.args[0].value == 0.99
    aggregation = call.args[1]
    assert isinstance(aggregation, Aggregation) and (aggregation.op, aggregation.grouping) == ("sum", ("le",))
    rate = aggregation.operand
    assert isinstance(rate, Call)
    selector = rate.args[0]
    assert isinstance(selector, Selector) and (selector.name, selector.range_ms) == ("x_bucket", 300_000)
    (matcher,) = selector.matchers
    assert (matcher.label, matcher.op, matcher.value, query[matcher.start:matcher.end]) == (
        "job", "=", "a", 'job="a"')
    assert query[selector.start:selector.end] == 'x_bucket{job="a"}[5m]'
    assert query[tree.start:tree.end] == query


def test_the_parse_tree_marks_offsets_grouping_after_and_quoted_names() -> None:
    # given an offset, a grouping after the aggregation and quoted names, when parsed
    tree = parse_promql('sum(rate({"a.b", "c.d"="e"}[1m] offset 5m)) without (f)')
    # then the aggregation, the selector and its matcher record them
    assert isinstance(tree, Aggregation) and (tree.without, tree.grouping, tree.grouped) == (True, ("f",), True)
    rate = tree.operand
    assert isinstance(rate, Call)
    selector = rate.args[0]
    assert isinstance(selector, Selector)
    assert (selector.name, selector.modified, selector.matchers[0].label) == ("a.b", True, "c.d")
