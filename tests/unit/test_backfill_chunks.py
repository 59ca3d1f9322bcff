"""Backfill's pure pieces: the Type filter pattern and continuation tokens."""
from __future__ import annotations

import base64

import pytest
from promwatch.insights import compile_rules, load_rules, parse_rules
from promwatch.insights.backfill import BackfillError, Continuation
from promwatch.insights.backfill.chunks import MAX_PATTERN_TYPES, type_filter_pattern


def test_pattern_keeps_only_the_types_rules_read() -> None:
    # given the builtin rules, when the filter pattern is made, then it selects only the Node and Pod events they read
    assert type_filter_pattern(compile_rules(load_rules("builtin"))) == '{ $.Type = "Node" || $.Type = "Pod" }'


def test_too_many_types_read_everything() -> None:
    # given rules reading more event types than a pattern may name
    types = ", ".join(f"T{i}" for i in range(MAX_PATTERN_TYPES + 1))
    # when the filter pattern is made
    rules = compile_rules(parse_rules(f"rules: [{{name: r, types: [{types}], metrics: [x]}}]"))
    # then there is none: every event is read
    assert type_filter_pattern(rules) is None


def test_continuation_round_trip_and_garbage() -> None:
    # given a continuation token
    token = Continuation("prod", 0, 7_200_000, 3_600_000, "abc")
    # when encoded and decoded, then it comes back the same
    assert Continuation.decode(token.encode()) == token
    # and text that is no token is refused
    for garbage in ("", "x", "eyJ2IjoyfQ", "W10"):  # empty, not base64, version 2, a JSON list
        with pytest.raises(BackfillError, match="not a backfill continuation token"):
            Continuation.decode(garbage)


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"v": ' + b"1" * 5000 + b"}"], ids=["deep", "huge-int"])
def test_hostile_continuation_tokens_are_refused(body: bytes) -> None:
    # Given a token (from an invoke event) whose JSON made json raise RecursionError / ValueError,
    # Then it is refused as not a continuation token.
    with pytest.raises(BackfillError, match="not a backfill continuation token"):
        Continuation.decode(base64.urlsafe_b64encode(body).decode())
