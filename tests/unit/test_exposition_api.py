"""The exposition package's surface: format choice, Accept header, errors, render, CLI."""
from __future__ import annotations

import io
import json
import math
import pickle
import sys
from pathlib import Path

import pytest
from promwatch.exposition import (
    ACCEPT_HEADER,
    ExpositionError,
    Family,
    Sample,
    detect_format,
    parse,
    parse_lenient,
    render,
)
from promwatch_tools.cli import main


@pytest.mark.parametrize(
    ("content_type", "text", "expected"),
    [
        ("application/openmetrics-text; version=1.0.0; charset=utf-8", None, "openmetrics"),
        ("Application/OpenMetrics-Text", "a 1\n", "openmetrics"),
        ("text/plain; version=0.0.4; charset=utf-8", "a 1\n# EOF\n", "prometheus"),
        (None, "a 1\n# EOF\n", "openmetrics"),
        (None, "a 1\n# EOF", "openmetrics"),
        (None, "a 1\n", "prometheus"),
        (None, "# EOF is not last\na 1\n", "prometheus"),
        (None, None, "prometheus"),
    ],
)
def test_detect_format(content_type: str | None, text: str | None, expected: str) -> None:
    # given a content type and/or page text, when the format is detected, then it is the expected one
    assert detect_format(content_type, text) == expected


def test_accept_header_prefers_openmetrics_then_text_as_prometheus_does() -> None:
    # Then OpenMetrics 1.0.0 comes first, 0.0.1 and text 0.0.4 with lower q-values
    offers = [part.split(";") for part in ACCEPT_HEADER.split(",")]
    assert offers[0] == ["application/openmetrics-text", "version=1.0.0"]
    assert offers[1] == ["application/openmetrics-text", "version=0.0.1", "q=0.75"]
    assert offers[2] == ["text/plain", "version=0.0.4", "q=0.5"]
    assert offers[3] == ["*/*", "q=0.1"]


def test_content_type_chooses_the_parser() -> None:
    # Given a page that is valid text format but not OpenMetrics (no # EOF)
    page = "a 1\n"
    assert parse(page, content_type="text/plain; version=0.0.4")[0].name == "a"
    with pytest.raises(ExpositionError, match="missing # EOF"):
        parse(page, content_type="application/openmetrics-text; version=1.0.0")
    # And an explicit format wins over the content type
    assert parse(page, "prometheus", content_type="application/openmetrics-text")[0].name == "a"


def test_unknown_format_is_an_exposition_error() -> None:
    # given a format name that is not known, when parsed strictly or leniently, then an exposition error names it
    with pytest.raises(ExpositionError, match="unknown format 'json'"):
        parse("a 1\n", "json")
    with pytest.raises(ExpositionError):
        parse_lenient("a 1\n", "json")


def test_a_huge_bad_line_gives_a_short_reason() -> None:
    # Given a 100 kB line that is not a sample
    with pytest.raises(ExpositionError) as caught:
        parse("a{x=\"" + "y" * 100_000 + "\"} oops\n")
    # Then the reason quotes only its start
    assert caught.value.line == 1
    assert len(caught.value.reason) < 400


def test_error_is_picklable_and_keeps_its_fields() -> None:
    # given an exposition error, when pickled and unpickled
    error = pickle.loads(pickle.dumps(ExpositionError(7, "bad value 'x'")))
    # then its line, reason and message are kept
    assert (error.line, error.reason, str(error)) == (7, "bad value 'x'", "line 7: bad value 'x'")


FAMILIES = [
    Family("reqs", "counter", 'Requests "served"\nnew line \\ slash', "", [
        Sample("reqs_total", {"path": '/a"b\\c\nd', "utf8.label": "✓"}, 3.0, None, None),
        Sample("reqs_created", {"path": '/a"b\\c\nd', "utf8.label": "✓"}, 1700000000.5, None, None),
    ]),
    Family("temp.celsius", "gauge", "", "", [Sample("temp.celsius", {}, -1.5, 1700000000.123, None)]),
    Family("lat_seconds", "histogram", "", "seconds", [
        Sample("lat_seconds_bucket", {"le": "1.0"}, 1.0, None, None),
        Sample("lat_seconds_bucket", {"le": "+Inf"}, 2.0, None, None),
        Sample("lat_seconds_count", {}, 2.0, None, None),
        Sample("lat_seconds_sum", {}, 1.5, None, None),
    ]),
]


@pytest.mark.parametrize("format", ["prometheus", "openmetrics"])
def test_render_then_parse_gives_the_families_back(format: str) -> None:
    # When families are rendered and parsed again
    parsed = parse(render(FAMILIES, format), format)
    # Then every name, label, value and timestamp survives (text format: the counter family is
    # named after its samples, and units are not part of the format)
    if format == "openmetrics":
        assert parsed == FAMILIES
    else:
        assert [s for f in parsed for s in f.samples] == [s for f in FAMILIES for s in f.samples]


@pytest.mark.parametrize("help_text", ["Total seconds.", ""])
def test_help_for_a_name_whose_samples_another_family_took_renders_back(help_text: str) -> None:
    # Given a valid text page giving HELP for foo_total after counter foo took its samples
    # (found by fuzzing: the rendered page had "# TYPE foo_total untyped" after them, an error)
    families = parse(f"# TYPE foo counter\nfoo_total 1\n# HELP foo_total {help_text}\n", "prometheus")
    assert [(f.name, len(f.samples)) for f in families] == [("foo", 1), ("foo_total", 0)]
    # When rendered and parsed again, Then the same families come back
    assert parse(render(families, "prometheus"), "prometheus") == families


@pytest.mark.parametrize("millis", ["139501395066363000", "-139501395066363000", "9007199254740993000"])
def test_timestamps_past_2_53_milliseconds_render_back(millis: str) -> None:
    # Given a text page whose timestamp is past what a float holds in whole milliseconds
    # (found by fuzzing: the rendered timestamp parsed to another float)
    families = parse(f"a 1 {millis}\n", "prometheus")
    # When rendered and parsed again, Then the timestamp is the same float
    assert parse(render(families, "prometheus"), "prometheus") == families


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["parse", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_prints_families_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a text-format page with special values
    page = tmp_path / "page.prom"
    page.write_text('# HELP g A gauge.\n# TYPE g gauge\ng{a="1"} NaN 1700000000000\ng{a="2"} +Inf\ng{a="3"} -Inf\n')
    # When the CLI parses it
    status, out, err = run_cli([str(page)], capsys)
    # Then it exits 0 and prints strict JSON, the special values as strings
    assert (status, err) == (0, "")
    assert json.loads(out) == [{
        "name": "g", "type": "gauge", "help": "A gauge.", "unit": "", "samples": [
            {"name": "g", "labels": {"a": "1"}, "value": "NaN", "timestamp": 1700000000.0},
            {"name": "g", "labels": {"a": "2"}, "value": "+Inf", "timestamp": None},
            {"name": "g", "labels": {"a": "3"}, "value": "-Inf", "timestamp": None},
        ],
    }]
    assert "NaN," not in out and "Infinity" not in out


def test_cli_reports_the_bad_line_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a page whose second line has an unquoted label value
    page = tmp_path / "bad.prom"
    page.write_text("a 1\nb{x=1} 2\n")
    # when the CLI parses it
    status, out, err = run_cli([str(page)], capsys)
    # then it prints nothing, exits 1 and names line 2
    assert (status, out) == (1, "")
    assert err.startswith("line 2: ")


def test_cli_detects_openmetrics_and_honours_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an OpenMetrics page (ends with # EOF) with a counter
    page = tmp_path / "om.txt"
    page.write_text('# TYPE c counter\nc_total 1 # {t="x"} 0.5\n# EOF\n')
    status, out, _ = run_cli([str(page)], capsys)
    [family] = json.loads(out)
    assert (status, family["name"], family["type"]) == (0, "c", "counter")
    assert family["samples"][0]["exemplar"] == {"labels": {"t": "x"}, "value": 0.5, "timestamp": None}
    # And forcing the text format reads the same page differently (an exemplar is not text format)
    status, _, err = run_cli(["--format", "prometheus", str(page)], capsys)
    assert status == 1
    assert err.startswith("line 2: ")


def test_cli_reads_stdin_and_rejects_bad_utf8(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # given a stdin carrying bytes
    class Stdin:
        def __init__(self, data: bytes) -> None:
            self.buffer = io.BytesIO(data)

    # when the CLI reads a valid page from stdin, then it prints it parsed
    monkeypatch.setattr(sys, "stdin", Stdin(b"a 1\n"))
    status, out, _ = run_cli(["-"], capsys)
    assert (status, json.loads(out)[0]["samples"][0]["value"]) == (0, 1.0)
    # when the page on stdin has bad UTF-8, then it exits 1 naming the line
    monkeypatch.setattr(sys, "stdin", Stdin(b"a 1\nb{x=\"\xff\"} 2\n"))
    status, _, err = run_cli(["-"], capsys)
    assert (status, err.startswith("line 2: invalid UTF-8")) == (1, True)


def test_cli_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a file that does not exist, when the CLI is run on it
    status, _, err = run_cli([str(tmp_path / "nope.prom")], capsys)
    # then it exits 1 and names the file
    assert status == 1
    assert "nope.prom" in err


def test_nan_values_compare_by_identity_in_round_trip() -> None:
    # NaN != NaN, so the JSON form is how a NaN round trip is checked
    # given a NaN gauge sample, when rendered and parsed back
    [family] = parse(render([Family("n", "gauge", "", "", [Sample("n", {}, math.nan)])]))
    # then the value is still NaN
    assert math.isnan(family.samples[0].value)
