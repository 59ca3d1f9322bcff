"""Relabelling semantics, table-tested against Prometheus' own documented cases
(model/relabel/relabel_test.go) and its configuration rules."""
from __future__ import annotations

import pytest
from promwatch.regex import Template, relabel_regex
from promwatch.scrape import ConfigError, parse_config
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
    regex = relabel_regex("(?P<name>x)")
    groups = regex.submatches("x")
    assert groups is not None
    assert Template(template, regex).expand(groups) == expected


def test_regex_is_fully_anchored_and_dotall() -> None:
    # Given Prometheus' ^(?s:re)$ anchoring, then partial matches fail and . spans newlines.
    pattern = relabel_regex("a.c")
    assert pattern.matches("a\nc")
    assert not pattern.matches("xa\ncx")
    assert not relabel_regex("a").matches("a\n")
    assert relabel_regex("[[:digit:]]+").matches("123")
    assert relabel_regex("(?<n>x)").matches("x")
    # RE2's leading inline flags, common in configs (regex: "(?i)get|post"), work too.
    assert relabel_regex("(?i)get|post").matches("POST")
    assert not relabel_regex("(?i)get|post").matches("PUT")


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
        ({"regex": "(", "target_label": "x"}, "invalid regular expression '\\(': missing \\)"),
        ({"regex": "(?<=a)b", "target_label": "x"}, "invalid regular expression '\\(\\?<=a\\)b'"),
        ({"regex": "(a)\\1", "target_label": "x"}, "invalid escape sequence: \\\\1"),
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


# RE2 semantics, as Prometheus: linear time, Go's syntax, refusals under the key path.


@pytest.mark.timeout(10)
@pytest.mark.parametrize("action", ["keep", "drop", "replace"])
def test_catastrophic_pattern_answers_in_linear_time(action: str) -> None:
    # Given the classic backtracking bomb, and a value that makes a backtracking engine try
    # 2**40 ways (it would hang; RE2 does not backtrack)
    labels = {"a": "a" * 40}
    # when a rule of each regex-driven kind applies it
    result = relabel(labels, [rule(source_labels=["a"], regex="(a+)+b", action=action, target_label="b")])
    # then the answer is the right one: no match
    assert result == {"keep": None, "drop": labels, "replace": labels}[action]


@pytest.mark.timeout(10)
def test_catastrophic_pattern_on_label_names_answers_in_linear_time() -> None:
    # Given a label name built to make (a+)+b backtrack, when labeldrop and labelmap apply it,
    # then they finish and leave the label alone (no match).
    labels = {"a" * 40: "v"}
    assert relabel(labels, [rule(regex="(a+)+b", action="labeldrop")]) == labels
    assert relabel(labels, [rule(regex="(a+)+b", replacement="x", action="labelmap")]) == labels


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"action": "labelmap", "replacement": "a" * 40 + "-"},
        {"source_labels": ["a"], "target_label": "$1" + "a" * 40 + "-"},
    ],
)
def test_label_template_check_is_linear_time(kwargs: dict[str, object]) -> None:
    # Given a labelmap replacement / target_label that Prometheus' template check refuses, long
    # enough that its nested repetition would backtrack for hours, when validated, then it is
    # refused at once.
    with pytest.raises(ValueError, match="is invalid"):
        RelabelConfig.model_validate(kwargs)


@pytest.mark.parametrize(
    "pattern",
    ["(?<=a)b", "(?<!a)b", "a(?=b)", "a(?!b)", "(a)\\1", "(?P<n>a)(?P=n)", "a\\Z", "a++", "(?#note)a", "\\C"],
)
def test_what_re2_refuses_is_a_config_error_naming_the_key(pattern: str) -> None:
    # Given a metric relabelling rule whose regex Python's re takes but Prometheus (RE2) refuses:
    # lookaround, backreferences, \Z, possessive repeats, comments, RE2's any-byte \C
    text = f"""
scrape_configs:
  - job_name: app
    static_configs: [{{targets: ["127.0.0.1:3000"]}}]
    metric_relabel_configs:
      - {{source_labels: [__name__], regex: "go_.*", action: drop}}
      - source_labels: [__name__]
        regex: '{pattern}'
        action: drop
"""
    # when the config is parsed
    with pytest.raises(ConfigError) as info:
        parse_config(text, origin="scrape.yaml")
    # then the error names the file, the key path, the pattern and why
    message = str(info.value)
    assert message.startswith(
        f"scrape.yaml: scrape_configs[0].metric_relabel_configs[1].regex: invalid regular expression {pattern!r}: "
    )
    assert "RE2" in message


def test_capture_names_are_go_names() -> None:
    # Given a capture name Go refuses (RE2's C++ library would take it), then it is refused.
    with pytest.raises(ValueError, match="invalid named capture 'é'"):
        rule(source_labels=["a"], regex="(?P<é>x)", target_label="b")


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("x(?i)y", "xY", True),  # flags mid-pattern
        ("x(?i)y", "XY", False),
        ("[[:alpha:]]+", "abc", True),  # POSIX classes
        ("[[:^digit:]]+", "abc", True),
        ("\\pL+", "déjà", True),  # Unicode classes
        ("\\p{Greek}+", "αβ", True),
        ("(?P<a>x)(?<b>y)", "xy", True),  # both spellings of named groups
        ("\\d+", "٣", False),  # Perl classes are ASCII, as in Go
        ("a{,3}", "a{,3}", True),  # not a repeat in Go: literal
        ("\\Qa.b\\E", "a.b", True),
        ("\\Qa.b\\E", "axb", False),
        ("a)|(b", "axx", True),  # ^(?s:a)|(b)$: the anchors do not enclose it, as in Prometheus
    ],
)
def test_re2_syntax_is_accepted_with_go_semantics(pattern: str, value: str, matches: bool) -> None:
    # Given a keep rule with Go (RE2) syntax, when applied, then it keeps what Prometheus keeps.
    kept = relabel({"a": value}, [rule(source_labels=["a"], regex=pattern, action="keep")])
    assert (kept is not None) == matches


def test_replacement_groups_follow_go() -> None:
    # Given named and numbered groups, some not taking part, and Go's template names
    # ($01 is a name, so is $1é), when replaced, then the result is Go's Expand.
    rules = [rule(source_labels=["a"], regex="(?P<first>x)?(?<second>y+)", target_label="b",
                  replacement="${first}|$second|$2|$01|$1é|${2}é")]
    assert relabel({"a": "yy"}, rules) == {"a": "yy", "b": "|yy|yy|||yyé"}


def test_non_ascii_groups_are_cut_on_characters() -> None:
    # Given a value with multi-byte characters, when a group is copied, then it is whole characters.
    rules = [rule(source_labels=["a"], regex="(.)(é+)(.)", target_label="b", replacement="$3$2$1")]
    assert relabel({"a": "xééy"}, rules) == {"a": "xééy", "b": "yééx"}


def test_expanded_target_must_be_a_whole_label_name() -> None:
    # Given a value ending in a newline copied into target_label, when replaced, then nothing is
    # written: "foo\n" is not a label name (Python's $ would accept it before the newline).
    rules = [rule(source_labels=["a"], regex="(.*)", target_label="${1}", replacement="v")]
    assert relabel({"a": "foo\n"}, rules) == {"a": "foo\n"}


def test_labelmap_replaces_every_match_as_go() -> None:
    # Given Prometheus' labelmap (ReplaceAllString of each matching name), when applied,
    # then matching names are copied and the values read before any copy overwrote them.
    rules = [rule(regex="(a|b)", replacement="b", action="labelmap")]
    assert relabel({"a": "1", "b": "2"}, rules) == {"a": "1", "b": "2"}
    rules = [rule(regex="__meta_(.+)", replacement="${1}", action="labelmap")]
    assert relabel({"__meta_x": "1", "y": "2"}, rules) == {"__meta_x": "1", "x": "1", "y": "2"}
