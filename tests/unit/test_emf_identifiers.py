"""Dimension values, names, metric names and namespaces: the escaping and the rules CloudWatch sets."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from promwatch.emf import (
    EmfSettings,
    EmfValidationError,
    Metric,
    MetricGroup,
    serialize,
    validate,
    write_group,
)
from promwatch.emf.identifiers import (
    EscapeError,
    dimension_name_problem,
    dimension_value_problem,
    escape_value,
    metric_name_problem,
    namespace_problem,
    unescape_value,
)
from promwatch.emf.naming import namespace_for
from promwatch.limits import EMF_MAX_DIMENSION_VALUE_CHARS
from promwatch.selfmetrics import self_metrics
from pydantic import ValidationError

CONTROL_CHARACTERS = [chr(c) for c in range(0x20)] + ["\x7f"]
ANY_TEXT = st.text(st.characters(exclude_categories=()))  # every code point, lone surrogates included


@pytest.mark.parametrize(
    ("value", "published"),
    [
        ("line\nbreak", "line\\nbreak"),
        ("tab\there", "tab\\there"),
        ("cr\rhere", "cr\\rhere"),
        ("nul\x00x", "nul\\x00x"),
        ("del\x7fx", "del\\x7fx"),
        ("bell\x07", "bell\\x07"),
        ("café", "caf\\xe9"),
        ("€", "\\u20ac"),
        ("\U0001f600", "\\U0001f600"),
        ("C:\\logs", "C:\\\\logs"),
        ("caf\\xe9", "caf\\\\xe9"),
        ("plain/ascii-value:1 with spaces", "plain/ascii-value:1 with spaces"),
        ("quotes \"'", "quotes \"'"),
    ],
)
def test_escape_value_writes_python_backslash_escapes(value: str, published: str) -> None:
    # Given a label value, When escaped, Then it reads as Python's unicode_escape writes it
    assert escape_value(value) == published
    # and it is printable ASCII a dimension can hold, which unescapes to the value
    assert dimension_value_problem(published) is None
    assert unescape_value(published) == value


def test_a_value_and_its_escaped_spelling_stay_two_dimension_values() -> None:
    # Given café and the literal text caf\xe9 (and \ with its escape), When escaped
    # Then they no longer collide (both were "caf\xe9" before the backslash was escaped)
    assert escape_value("café") != escape_value("caf\\xe9")
    assert escape_value("a\nb") != escape_value("a\\nb")


def test_plain_values_are_published_as_they_are() -> None:
    # Given the usual value (printable ASCII, no backslash), Then the very object comes back
    value = "/api/v1/resource 12"
    assert escape_value(value) is value


@given(ANY_TEXT, ANY_TEXT)
def test_escaping_is_injective_and_unescape_inverts_it(a: str, b: str) -> None:
    # Given any two label values (any code points, surrogates included)
    # Then each escapes to a valid dimension value text that unescapes to it, and distinct
    # values stay distinct
    for value in (a, b):
        escaped = escape_value(value)
        assert escaped.isascii() and escaped.isprintable()
        assert unescape_value(escaped) == value
    assert (escape_value(a) == escape_value(b)) == (a == b)


@pytest.mark.parametrize(
    "text", ["a\\", "a\\q", "\\x4", "\\x41", "\\u00e9", "caf\\xE9", "café", "a\nb", "\\\\\\"],
)
def test_unescape_refuses_text_escape_value_never_writes(text: str) -> None:
    # Given text no value escapes to (lone or unknown escape, escaped plain character,
    # uppercase hex, a character that would have been escaped), Then it is refused by name
    with pytest.raises(EscapeError, match="not an escaped dimension value"):
        unescape_value(text)


@pytest.mark.parametrize("control", CONTROL_CHARACTERS)
def test_no_control_character_passes_as_a_dimension_name_value_or_metric_name(control: str) -> None:
    # Given text with an ASCII control character, Then CloudWatch's rules refuse it
    assert dimension_value_problem(f"a{control}b") is not None
    assert dimension_name_problem(f"a{control}b") is not None
    assert metric_name_problem(f"a{control}b") is not None
    assert namespace_problem(f"a{control}b") is not None
    # and escaped, the value is a dimension value
    assert dimension_value_problem(escape_value(f"a{control}b")) is None


@pytest.mark.parametrize(
    ("check", "text"),
    [
        (dimension_name_problem, " "),
        (dimension_name_problem, ":colon"),
        (dimension_name_problem, "x" * 251),
        (dimension_name_problem, "café"),
        (dimension_name_problem, ""),
        (dimension_value_problem, "   "),
        (dimension_value_problem, ""),
        (dimension_value_problem, "x" * (EMF_MAX_DIMENSION_VALUE_CHARS + 1)),
        (dimension_value_problem, "café"),
        (metric_name_problem, ""),
        (metric_name_problem, "  "),
        (metric_name_problem, "x" * 1025),
        (namespace_problem, "ns\n"),
        (namespace_problem, "  "),
        (namespace_problem, ":ns"),
        (namespace_problem, "bad*ns"),
    ],
)
def test_each_rule_names_what_it_refuses(check: object, text: str) -> None:
    # given a name, value or namespace CloudWatch refuses, when checked by its rule
    problem = check(text)  # type: ignore[operator]
    # then the problem says what was expected
    assert problem is not None and "expected" in problem


def test_utf8_metric_names_stay_allowed() -> None:
    # Given a Prometheus 3 UTF-8 metric name without control characters, Then it is a metric name
    assert metric_name_problem("http.server.durée") is None


def _document(dimensions: dict[str, str], metric: str = "a", namespace: str = "ns") -> dict[str, object]:
    [document] = write_group(MetricGroup(namespace, 1_700_000_000_000, dimensions, [list(dimensions)],
                                         [Metric(metric, 1.0)]))
    return json.loads(serialize(document))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("dimensions", "metric", "namespace", "expected"),
    [
        ({"job": "line\nbreak"}, "a", "ns", "control character"),
        ({"job": "nul\x00"}, "a", "ns", "control character"),
        ({"job": "tab\t"}, "a", "ns", "control character"),
        ({"job": "del\x7f"}, "a", "ns", "control character"),
        ({"jo\nb": "v"}, "a", "ns", "dimension name"),
        ({" ": "v"}, "a", "ns", "dimension name"),
        ({"job": "v"}, "met\nric", "ns", "metric name"),
        ({"job": "v"}, " ", "ns", "metric name"),
        ({"job": "v"}, "a", "ns\n", "Namespace"),
        ({"job": "v"}, "a", ":ns", "Namespace"),
    ],
)
def test_validate_refuses_what_cloudwatch_refuses(
    dimensions: dict[str, str], metric: str, namespace: str, expected: str
) -> None:
    # Given a document whose dimension, metric name or namespace CloudWatch refuses
    document = _document(dimensions, metric, namespace)
    # Then the validator names the breach
    with pytest.raises(EmfValidationError, match=expected):
        validate(document)


def test_validate_takes_escaped_values() -> None:
    # Given the escaped spelling of hostile and non-ASCII values, Then the document is valid
    validate(_document({"job": escape_value("a\nb\x00c\\d é")}))


def test_configured_namespaces_are_held_to_the_same_rule() -> None:
    # Given a namespace with a trailing newline (the old pattern's $ let it through)
    with pytest.raises(ValidationError, match="namespace"):
        EmfSettings(namespace="prod/app\n")
    # and a job name that makes no namespace, Then the derived one is still valid
    for job in (":job", " ", ""):
        assert namespace_problem(namespace_for(EmfSettings(), job)) is None


def test_self_metrics_publish_escaped_values_like_the_series_do() -> None:
    # Given a job name with a non-ASCII character and a backslash
    group = self_metrics({"DroppedSamples": 1}, dimensions={"job": "café\\x"}, timestamp_ms=0)
    # Then its dimension is the escaped value, as the job's series have it, and valid
    assert group.dimensions["job"] == "caf\\xe9\\\\x"
    for document in write_group(group):
        validate(document)
