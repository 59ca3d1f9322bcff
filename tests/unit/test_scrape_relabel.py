"""Relabelling semantics, table-tested against Prometheus' own documented cases
(model/relabel/relabel_test.go) and its configuration rules."""
from __future__ import annotations

import pytest
from promwatch.scrape.regex import compile_anchored, expand
from promwatch.scrape.relabel import RelabelConfig, hashmod, relabel


def rule(**kwargs: object) -> RelabelConfig:
    return RelabelConfig.model_validate(kwargs)


CASES = [
    pytest.param(
        {"a": "foo", "b": "bar", "c": "baz"},
        [rule(source_labels=["a"], regex="f(.*)", target_label="d", replacement="ch${1}-ch${1}")],
        {"a": "foo", "b": "bar", "c": "baz", "d": "choo-choo"},
        id="replace-with-group",
    ),
    pytest.param(
        {"a": "foo", "b": "bar", "c": "baz"},
        [
            rule(source_labels=["a", "b"], regex="f(.*);(.*)r", target_label="a", replacement="b${1}${2}m"),
            rule(source_labels=["c", "a"], regex="(b).*b(.*)ba(.*)", target_label="d", replacement="$1$2$2$3"),
        ],
        {"a": "boobam", "b": "bar", "c": "baz", "d": "boooom"},
        id="replace-joined-sources",
    ),
    pytest.param({"a": "foo"}, [rule(source_labels=["a"], regex=".*o.*", action="drop")], None, id="drop-match"),
    pytest.param({"a": "foo"}, [rule(source_labels=["a"], regex="f|o", action="drop")], {"a": "foo"},
                 id="drop-is-anchored"),
    pytest.param({"a": "foo"}, [rule(source_labels=["a"], regex="no-match", action="keep")], None, id="keep-no-match"),
    pytest.param({"a": "foo"}, [rule(source_labels=["a"], regex="f.*", action="keep")], {"a": "foo"}, id="keep-match"),
    pytest.param({"a": "abc"}, [rule(source_labels=["a"], regex=".*(b).*", target_label="d")], {"a": "abc", "d": "b"},
                 id="replace-default-replacement"),
    pytest.param({"a": "boo"}, [rule(source_labels=["a"], regex="f", target_label="b", replacement="bar")],
                 {"a": "boo"}, id="replace-no-match-no-change"),
    pytest.param({"a": "foo", "b": "bar", "c": "baz"},
                 [rule(source_labels=["c"], target_label="d", action="hashmod", modulus=1000)],
                 {"a": "foo", "b": "bar", "c": "baz", "d": "976"}, id="hashmod"),
    pytest.param({"a": "foo\nbar"}, [rule(source_labels=["a"], target_label="b", action="hashmod", modulus=1000)],
                 {"a": "foo\nbar", "b": "734"}, id="hashmod-newline"),
    pytest.param({"a": "foo", "b1": "bar", "b2": "baz"}, [rule(regex="(b.*)", replacement="bar_${1}", action="labelmap")],
                 {"a": "foo", "b1": "bar", "b2": "baz", "bar_b1": "bar", "bar_b2": "baz"}, id="labelmap"),
    pytest.param({"a": "foo", "__meta_my_bar": "aaa", "__meta_my_baz": "bbb", "__meta_other": "ccc"},
                 [rule(regex="__meta_(my.*)", replacement="${1}", action="labelmap")],
                 {"a": "foo", "__meta_my_bar": "aaa", "__meta_my_baz": "bbb", "__meta_other": "ccc",
                  "my_bar": "aaa", "my_baz": "bbb"}, id="labelmap-meta"),
    pytest.param({"a": "some-name-value"},
                 [rule(source_labels=["a"], regex="some-([^-]+)-([^,]+)", replacement="${2}", target_label="${1}")],
                 {"a": "some-name-value", "name": "value"}, id="replace-target-template"),
    pytest.param({"a": "some-name-value"},
                 [rule(source_labels=["a"], regex="some-([^-]+)-([^,]+)", replacement="${3}", target_label="${1}")],
                 {"a": "some-name-value"}, id="replace-empty-result-deletes"),
    pytest.param({"a": "some-name-value"},
                 [rule(source_labels=["a"], regex="some-([^-]+)-([^,]+)", replacement="${1}", target_label="${3}")],
                 {"a": "some-name-value"}, id="replace-invalid-target-skipped"),
    pytest.param({"a": "foo", "b1": "bar", "b2": "baz"}, [rule(regex="(b.*)", action="labelkeep")],
                 {"b1": "bar", "b2": "baz"}, id="labelkeep"),
    pytest.param({"a": "foo", "b1": "bar", "b2": "baz"}, [rule(regex="(b.*)", action="labeldrop")],
                 {"a": "foo"}, id="labeldrop"),
    pytest.param({"foo": "bAr123Foo"},
                 [rule(source_labels=["foo"], action="uppercase", target_label="foo_uppercase"),
                  rule(source_labels=["foo"], action="lowercase", target_label="foo_lowercase")],
                 {"foo": "bAr123Foo", "foo_lowercase": "bar123foo", "foo_uppercase": "BAR123FOO"}, id="case"),
    pytest.param({"__tmp_port": "1234", "__port1": "1234"},
                 [rule(source_labels=["__tmp_port"], action="keepequal", target_label="__port1")],
                 {"__tmp_port": "1234", "__port1": "1234"}, id="keepequal-equal"),
    pytest.param({"__tmp_port": "1234", "__port2": "5678"},
                 [rule(source_labels=["__tmp_port"], action="keepequal", target_label="__port2")], None,
                 id="keepequal-differs"),
    pytest.param({"__tmp_port": "1234", "__port1": "1234"},
                 [rule(source_labels=["__tmp_port"], action="dropequal", target_label="__port1")], None,
                 id="dropequal-equal"),
    pytest.param({"a": "x"}, [rule(target_label="b", replacement="static")], {"a": "x", "b": "static"},
                 id="replace-static-no-sources"),
    pytest.param({"__meta_sd_tags": "path:/secret,job:some-job,label:foo=bar"},
                 [rule(source_labels=["__meta_sd_tags"], regex="(?:.+,|^)path:(/[^,]+).*", replacement="${1}",
                       target_label="__metrics_path__"),
                  rule(source_labels=["__meta_sd_tags"], regex="(?:.+,|^)label:([^=]+)=([^,]+).*",
                       replacement="${2}", target_label="${1}")],
                 {"__meta_sd_tags": "path:/secret,job:some-job,label:foo=bar", "__metrics_path__": "/secret",
                  "foo": "bar"}, id="real-life"),
]


@pytest.mark.parametrize(("labels", "rules", "expected"), CASES)
def test_relabel_matches_prometheus(labels: dict[str, str], rules: list[RelabelConfig],
                                    expected: dict[str, str] | None) -> None:
    # Given a label set and rules from Prometheus' test table, when relabelled,
    # then the outcome is the one Prometheus produces.
    assert relabel(labels, rules) == expected


def test_relabel_does_not_mutate_input() -> None:
    # Given labels, when a rule rewrites them, then the caller's dict is untouched.
    labels = {"a": "1"}
    relabel(labels, [rule(target_label="a", replacement="2")])
    assert labels == {"a": "1"}


def test_hashmod_is_md5_low_eight_bytes() -> None:
    # Given Prometheus' documented values, then the hash agrees.
    assert hashmod("baz", 1000) == 976
    assert hashmod("foo\nbar", 1000) == 734


@pytest.mark.parametrize(
    ("template", "expected"),
    [("$1", "x"), ("${1}", "x"), ("${1}y", "xy"), ("$1y", ""), ("$$1", "$1"), ("${name}", "x"), ("$name-", "x-"),
     ("${", "${"), ("$", "$"), ("${}", "${}"), ("$9", ""), ("a$", "a$")],
)
def test_expand_follows_go_template_rules(template: str, expected: str) -> None:
    # Given Go's Regexp.Expand rules ($1y is group "1y"; malformed $ stays literal),
    # when a template is expanded against a match, then the result matches Go's.
    match = compile_anchored("(?P<name>x)").fullmatch("x")
    assert match is not None
    assert expand(template, match) == expected


def test_regex_is_fully_anchored_and_dotall() -> None:
    # Given Prometheus' ^(?s:re)$ anchoring, then partial matches fail and . spans newlines.
    pattern = compile_anchored("a.c")
    assert pattern.fullmatch("a\nc")
    assert not pattern.fullmatch("xa\ncx")
    assert compile_anchored("[[:digit:]]+").fullmatch("123")
    assert compile_anchored("(?<n>x)").fullmatch("x")
    # RE2's leading inline flags, common in configs (regex: "(?i)get|post"), work too.
    assert compile_anchored("(?i)get|post").fullmatch("POST")
    assert not compile_anchored("(?i)get|post").fullmatch("PUT")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "hashmod", "target_label": "x"}, "requires non-zero modulus"),
        ({"action": "replace"}, "requires 'target_label' value"),
        ({"action": "replace", "target_label": "0bad"}, "invalid 'target_label'"),
        ({"action": "lowercase", "target_label": "${1}"}, "invalid 'target_label'"),
        ({"action": "uppercase", "target_label": "x", "replacement": "y"}, "'replacement' can not be set"),
        ({"action": "labelmap", "replacement": "-bad"}, "invalid 'replacement'"),
        ({"action": "keepequal", "target_label": "x", "regex": "y"}, "requires only 'source_labels'"),
        ({"action": "labeldrop", "regex": "x", "source_labels": ["a"]}, "requires only 'regex'"),
        ({"regex": "(", "target_label": "x"}, "not a valid regular expression"),
    ],
)
def test_invalid_rules_are_rejected_like_prometheus(kwargs: dict[str, object], message: str) -> None:
    # Given a rule Prometheus refuses, when validated, then the error says why.
    with pytest.raises(ValueError, match=message):
        RelabelConfig.model_validate(kwargs)


def test_action_is_case_insensitive_and_null_regex_is_default() -> None:
    # Given YAML-style input (action in any case, "regex:" left empty), then Prometheus defaults apply.
    parsed = RelabelConfig.model_validate({"action": "LabelDrop", "regex": None})
    assert parsed.action == "labeldrop"
    assert parsed.regex == "(.*)"
