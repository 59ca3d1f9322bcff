"""promwatch.regex: RE2 with Go's semantics, the one engine for patterns from configuration."""
from __future__ import annotations

import pytest
from promwatch.errors import PromwatchError
from promwatch.regex import (
    MATCH_CACHE_SIZE,
    RegexError,
    Template,
    memoise,
    relabel_regex,
    search_regex,
    whole_regex,
)


def test_the_three_anchorings() -> None:
    # Given one pattern compiled each way, then relabelling and whole-name rules match the
    # whole text only, and the awsemfexporter's selectors match anywhere.
    assert not relabel_regex("b").matches("abc") and relabel_regex("b").matches("b")
    assert not whole_regex("b").matches("abc") and whole_regex("b").matches("b")
    assert search_regex("b").matches("abc") and not search_regex("^b").matches("abc")
    # and only relabelling makes . match a newline (Prometheus' (?s:...))
    assert relabel_regex("a.b").matches("a\nb")
    assert not whole_regex("a.b").matches("a\nb")


def test_a_refused_pattern_is_a_promwatch_value_error_naming_it() -> None:
    # Given a pattern with a lookbehind, when compiled, then the error names the pattern and
    # RE2's reason, and is both a PromwatchError and a ValueError (for pydantic validators).
    with pytest.raises(RegexError, match=r"invalid regular expression '\(\?<=a\)b': invalid perl operator") as info:
        search_regex("(?<=a)b")
    assert isinstance(info.value, PromwatchError) and isinstance(info.value, ValueError)


def test_an_error_in_the_configured_text_is_reported_on_that_text() -> None:
    # Given an unbalanced pattern, when compiled for relabelling (wrapped in ^(?s:...)$),
    # then the reason quotes what was configured, not the wrapper.
    with pytest.raises(RegexError, match=r"invalid regular expression '\(': missing \): \(;") as info:
        relabel_regex("(")
    assert "(?s:" not in str(info.value)


def test_any_byte_escape_is_refused_but_not_when_quoted_or_escaped() -> None:
    # Given RE2's \C, which Go's regexp does not have, then it is refused; a quoted \C and an
    # escaped backslash before C are ordinary text.
    with pytest.raises(RegexError, match=r"\\C"):
        whole_regex("a\\Cb")
    assert whole_regex("\\Qa\\Cb\\E").matches("a\\Cb")
    assert whole_regex("\\\\C").matches("\\C")


@pytest.mark.parametrize(
    ("pattern", "text", "template", "expected"),
    [
        ("x*", "axxb", "<$0>", "<>a<xx>b<>"),  # Go: no empty match right after a match
        ("x*", "abc", "-", "-a-b-c-"),
        ("é", "aébé", "E", "aEbE"),
        ("(b)", "abcb", "[$1]", "a[b]c[b]"),
    ],
)
def test_replace_all_is_gos_replace_all_string(pattern: str, text: str, template: str, expected: str) -> None:
    # given a pattern, a text and a template
    regex = search_regex(pattern)
    # when every match is replaced, then the result is Go's ReplaceAllString's
    assert regex.replace_all(text, Template(template, regex)) == expected


def test_submatches_give_every_group_and_none_for_groups_not_taking_part() -> None:
    # given a pattern with an optional named group and a plain group
    regex = relabel_regex("(?P<a>x)?(y)")
    # when matched, then every group is given, None for one not taking part
    assert regex.submatches("y") == ("y", None, "y")
    # and a text that does not match gives no submatches
    assert regex.submatches("z") is None
    # and the group count and names are kept
    assert regex.groups == 2 and regex.groupindex == {"a": 1}


def test_text_python_cannot_encode_as_utf8_is_matched_not_raised() -> None:
    # Given a lone surrogate (YAML can produce one), when matched, then there is an answer.
    assert relabel_regex("a.*").matches("a\ud800")
    assert relabel_regex("a(.*)").submatches("a\ud800") == ("a\ud800", "\ud800")


def test_memo_starts_over_when_full() -> None:
    # Given a full memo, when one more result is stored, then the memo holds just that one.
    memo = {str(i): i for i in range(MATCH_CACHE_SIZE)}
    assert memoise(memo, "new", -1) == -1
    assert memo == {"new": -1}


def test_compiled_patterns_are_shared() -> None:
    # Given the same pattern compiled twice (a config reload), then it is one object, so the
    # answers memoised for the first config serve the next.
    assert relabel_regex("go_.*") is relabel_regex("go_.*")
