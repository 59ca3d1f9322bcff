"""The bounded YAML/JSON loader every user document goes through (promwatch.safeload)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from promwatch import safeload
from promwatch.safeload import (
    MAX_DEPTH,
    MAX_DOCUMENT_CHARS,
    MAX_SCALAR_CHARS,
    DocumentError,
    load_json,
    load_yaml,
    read_text,
)


def alias_bomb(levels: int = 9) -> str:
    """A "billion laughs": each level lists the previous one nine times (9**levels strings)."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.fixture(params=["libyaml", "python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # Every rule must hold with libyaml and with PyYAML's pure-Python parser (no libyaml).
    if request.param == "python":
        monkeypatch.setattr(safeload, "_Loader", safeload._PyLoader)
    yield request.param


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 100_000, "line 1: nested deeper than 64 levels"),
        ("{a: " * 100_000, "line 1: nested deeper than 64 levels"),
        ("- " * 100_000 + "x", "line 1: nested deeper than 64 levels"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nested deeper than 64 levels"),
        (alias_bomb(), "l6: holds more than 1,000,000 values once its aliases are expanded"),
        ("".join(f"a{i}: &a{i} [{f'*a{i - 1}' if i else 'x'}]\n" for i in range(MAX_DEPTH + 2)),
         "a63: nested deeper than 64 levels"),
        ("a: &a [1, *a]", "a[1]: an alias refers to a node that contains it"),
        ("a: &a {b: *a}", "a.b: an alias refers to a node that contains it"),
        ("job: a\nrules: []\njob: b\n", "line 3: duplicate key 'job'"),
        ("x: [{a: 1, 'a': 2}]", "x[0]: duplicate key 'a'"),
        ("limit: " + "9" * 5000, "limit: an integer of 5,000 characters; expected at most 4,300"),
        ("day: 2024-13-45", "line 1: the value cannot be read as timestamp: month must be in 1..12"),
        ("count: !!int twelve", "line 1: the value cannot be read as int"),
        ("a:\n  b: ['" + "x" * (MAX_SCALAR_CHARS + 1) + "']", "a.b[0]: a value of 131,073 characters"),
        ("a:\n\t- b", "line 2: not valid YAML"),
        ("a: 1\n---\nb: 2", "line 2: not valid YAML: expected a single document in the stream but found another"),
        ("!!python/object/apply:os.system [ls]", "not valid YAML: could not determine a constructor"),
        ("a: \x00", "not valid YAML: unacceptable character #x0000"),
        ("x: " + "y" * MAX_DOCUMENT_CHARS, "the document is larger than 4,194,304 characters"),
    ],
    ids=["flow-list", "flow-map", "block-list", "just-over", "alias-bomb", "alias-chain", "cycle-list",
         "cycle-map", "duplicate", "duplicate-quoted", "huge-int", "no-such-date", "bad-int-tag", "long-value",
         "tab", "two-documents", "python-tag", "nul", "too-large"],
)
def test_hostile_documents_are_refused_with_where_and_why(parser: str, text: str, expected: str) -> None:
    # Given a document that would crash, hang or exhaust a parser (or silently lose data),
    # When it is loaded, Then a DocumentError says where and what was expected.
    with pytest.raises(DocumentError) as raised:
        load_yaml(text)
    assert expected in str(raised.value)


def test_a_lone_surrogate_is_refused(parser: str) -> None:
    # libyaml refuses the escape itself; PyYAML decodes it and the value check refuses it.
    # Given a lone surrogate escape, When loaded, Then it is refused with either parser
    with pytest.raises(DocumentError, match=r"not valid YAML|lone surrogate"):
        load_yaml('name: "\\ud800"')


def test_conversion_errors_never_echo_the_value(parser: str) -> None:
    # Given a credential-like value PyYAML cannot convert, Then the message gives its line, not it.
    with pytest.raises(DocumentError) as raised:
        load_yaml("user: u\npassword: !!int s3cr3t\n")
    assert "line 2" in str(raised.value) and "s3cr3t" not in str(raised.value)


def test_ordinary_yaml_still_loads(parser: str) -> None:
    # Given anchors, merge keys (a key overriding a merged one is not a duplicate), nesting at the
    # limit and an empty document, Then they load as PyYAML's safe schema reads them.
    text = """
defaults: &defaults {scheme: https, metrics_path: /metrics}
jobs:
  - {<<: *defaults, job_name: a, scheme: http}
  - *defaults
"""
    assert load_yaml(text)["jobs"] == [
        {"scheme": "http", "metrics_path": "/metrics", "job_name": "a"},
        {"scheme": "https", "metrics_path": "/metrics"},
    ]
    nested: list[Any] = []
    for _ in range(MAX_DEPTH - 2):
        nested = [nested]
    assert load_yaml("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)) == nested
    assert load_yaml("") is None and load_yaml("# only a comment\n") is None
    levels: dict[str, Any] = {"l0": ["lol"] * 9}
    for i in range(1, 6):
        levels[f"l{i}"] = [levels[f"l{i - 1}"]] * 9
    assert load_yaml(alias_bomb(levels=6)) == levels  # 9**6 = 531,441 values: within the limit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 100_000, "nested too deeply"),
        ('{"n": ' + "9" * 5000 + "}", "not valid JSON"),
        (b'{"a": "\xff"}', "byte 7 is not UTF-8"),
        ('{"a": 1,}', "line 1 column 9: not valid JSON"),
    ],
    ids=["deep", "huge-int", "not-utf8", "syntax"],
)
def test_bad_json_is_a_document_error(text: str | bytes, expected: str) -> None:
    # Given JSON nested too deeply, with a 5000-digit number, not UTF-8 or malformed, When loaded, Then a DocumentError says which
    with pytest.raises(DocumentError, match=expected):
        load_json(text)


def test_read_text_stops_at_the_limit_and_wants_utf8(tmp_path: Path) -> None:
    # Given a file over the limit and one that is not UTF-8, Then neither is read whole or decoded.
    large, binary = tmp_path / "large.yaml", tmp_path / "binary.yaml"
    large.write_bytes(b"x" * 101)
    binary.write_bytes(b"a: \xff\xfe\n")
    assert read_text(large, limit=101) == "x" * 101
    with pytest.raises(DocumentError, match="larger than 100 bytes"):
        read_text(large, limit=100)
    with pytest.raises(DocumentError, match="byte 3 is not UTF-8"):
        read_text(binary)
