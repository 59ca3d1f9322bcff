"""The shared homes of rules that had copies: promwatch.text (shown), promwatch.labelnames and
units.duration_millis (the one duration grammar, configuration and PromQL)."""
from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

import pytest
from promwatch.labelnames import check_label_name, is_label_name
from promwatch.reconcile.errors import PromQLError
from promwatch.reconcile.promql import parse_duration as promql_duration
from promwatch.text import redact_userinfo, shown
from promwatch.units import MAX_DURATION_MILLIS, duration_millis, parse_duration

# Each module's own message path (the package promwatch.httpclient exports a function named fetch).
_SHOWN_BY_MODULE: list[Callable[[str], str]] = [
    import_module(f"promwatch.{name}")._shown
    for name in ("units", "scrape.loader", "httpclient.url", "httpclient.fetch")
]


@pytest.mark.parametrize("show", _SHOWN_BY_MODULE)
@pytest.mark.parametrize("text", [
    "http://alice:hunter2@host:9100/metrics",
    "alice:hunter2@host:9100",
    "got http://alice:hunter2@host/ from the SD server",
    "x" * 300 + " https://alice:hunter2@host/",
])
def test_a_password_in_a_url_never_reaches_a_message(show: Callable[[str], str], text: str) -> None:
    # Given a value holding a URL's userinfo (at its start or anywhere in it)
    # When any module shows it in a message
    shown_text = show(text)
    # Then the password is not in it
    assert "hunter2" not in shown_text


def test_a_password_beyond_the_cut_is_hidden_before_cutting() -> None:
    # Given a URL whose password straddles the cut
    text = "http://alice:hunter2@host/"
    # When shown cut to 15 characters, Then not even the start of the password shows
    assert "hunt" not in shown(text, 15)


def test_shown_quotes_cuts_and_says_how_long() -> None:
    # Given a long value with a control character, When shown, Then it is escaped, cut and sized
    assert shown("a\nb", 10) == "'a\\nb'"
    assert shown("h" * 1000, 5) == "'hhhhh'... (1,000 characters)"
    # and a non-text value is its repr
    assert shown(3.5, 10) == "3.5"


def test_redact_userinfo_keeps_the_rest_of_the_url() -> None:
    # Given URLs with userinfo, When redacted, Then only the userinfo is replaced
    assert redact_userinfo("http://a:b@h:1/p") == "http://<userinfo>@h:1/p"
    assert redact_userinfo("see https://a:b@h/p and x") == "see https://<userinfo>@h/p and x"


@pytest.mark.parametrize("name", ["a", "_", "job", "Abc_9", "__address__"])
def test_label_names_follow_the_classic_rule(name: str) -> None:
    # Given a classic label name, When checked, Then it is accepted unchanged
    assert is_label_name(name) and check_label_name(name) == name


@pytest.mark.parametrize("name", ["", "9a", "a-b", "a.b", "a\n", "café", "a b", "ａ"])
def test_other_names_are_refused_with_the_rule(name: str) -> None:
    # Given a name outside the rule (a trailing newline too, which ``$`` let through)
    # When checked, Then the message names the value and the rule
    assert not is_label_name(name)
    with pytest.raises(ValueError, match=r"is not a valid label name; expected \[a-zA-Z_\]") as refused:
        check_label_name(name)
    assert repr(name) in str(refused.value)


def test_one_duration_grammar_for_configuration_and_promql() -> None:
    # Given the same durations, When read by both, Then seconds and milliseconds agree
    for text in ("1h30m", "500ms", "1y2w3d4h5m6s7ms", "5m"):
        millis = duration_millis(text)
        assert millis is not None
        assert promql_duration(text) == millis and parse_duration(text) == millis / 1000
    # and 0 alone is a configuration duration only (PromQL reads it as a number)
    assert parse_duration("0") == 0.0 and duration_millis("0") is None


@pytest.mark.parametrize("text", ["1m\n", "١m", "1m30h", "1s1s", "", "1", "5 m", "-1m"])
def test_a_duration_outside_the_grammar_is_refused_by_both(text: str) -> None:
    # Given a duration with a trailing newline, a non-ASCII digit, units out of order or repeated
    # When read as configuration or PromQL, Then both refuse it
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)
    with pytest.raises(PromQLError, match="is not a duration"):
        promql_duration(text)


def test_a_duration_too_long_to_read_is_out_of_range_for_both() -> None:
    # Given a count of more digits than Python reads into an int (PromQL's int() raised ValueError)
    text = "9" * 5000 + "s"
    # When read, Then both say it is out of range, naming it cut short
    with pytest.raises(PromQLError, match="out of range"):
        promql_duration(text)
    with pytest.raises(ValueError, match="out of range") as raised:
        parse_duration(text)
    assert len(str(raised.value)) < 200
    # and the longest duration in range is read
    assert promql_duration(f"{MAX_DURATION_MILLIS}ms") == MAX_DURATION_MILLIS
