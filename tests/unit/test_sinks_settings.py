"""Output settings: the one-string and mapping forms, and the sinks they make."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from promwatch.emf import EmfOutput, validate, write_group
from promwatch.selfmetrics import self_metrics
from promwatch.sinks import (
    DEFAULT_LOG_GROUP,
    CloudWatchLogsSink,
    FileSink,
    LogsSession,
    OutputSettings,
    SinkError,
    StdoutSink,
    sink_from_settings,
)
from promwatch.sinks.cloudwatch_logs import new_stream_name

T0 = 1_700_000_000_000


def _documents(n: int) -> list[dict[str, object]]:
    return [
        doc
        for i in range(n)
        for doc in write_group(self_metrics({"Things": i}, dimensions={"Component": "test"}, timestamp_ms=T0 + i))
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("stdout", OutputSettings(type="stdout")),
        ("-", OutputSettings(type="stdout")),
        ("logs", OutputSettings(type="logs")),
        ("logs:/promwatch/dev", OutputSettings(type="logs", log_group_name="/promwatch/dev")),
        ("logs:/g:s-1", OutputSettings(type="logs", log_group_name="/g", log_stream_name="s-1")),
        ("file:out/emf.jsonl", OutputSettings(type="file", path="out/emf.jsonl")),
    ],
)
def test_one_string_forms(spec: str, expected: OutputSettings) -> None:
    # when a one-string output setting is parsed, then it gives the expected settings
    assert OutputSettings.parse(spec) == expected


@pytest.mark.parametrize("spec", ["", "stdout:x", "file:", "kafka:topic", "s3://bucket"])
def test_bad_one_string_form_names_the_value_and_the_allowed_forms(spec: str) -> None:
    # when an unknown form is parsed, then the error names it and what is allowed
    with pytest.raises(SinkError, match="expected 'stdout'") as info:
        OutputSettings.parse(spec)
    assert repr(spec.strip()) in str(info.value)


@pytest.mark.parametrize(("spec", "expected"), [
    ("logs:/metrics/{Foo} x", "log_group_name '/metrics/{Foo} x' is not a CloudWatch Logs group name"),
    ("logs:/g:a*b", "log_stream_name 'a*b' is not a CloudWatch Logs stream name"),
    ("logs:" + "g" * 513, "expected 1-512 characters"),
])
def test_a_log_group_or_stream_cloudwatch_would_refuse_is_refused_naming_it(spec: str, expected: str) -> None:
    # given a log group or stream name CreateLogGroup/CreateLogStream would refuse (an awsemf
    # placeholder left in it, a space, a '*', too long), then it is refused on one line, naming it
    with pytest.raises(SinkError, match=re.escape(expected)) as info:
        OutputSettings.parse(spec)
    assert "\n" not in str(info.value)
    # and the emf.output section refuses it alike
    group, _, stream = spec.removeprefix("logs:").partition(":")
    with pytest.raises(ValueError, match=re.escape(expected)):
        EmfOutput(type="logs", log_group_name=group, log_stream_name=stream or None)


def test_mapping_with_fields_of_another_kind_is_refused() -> None:
    # given a stdout output that names a log group
    # then the settings are refused with the kind that would take it
    with pytest.raises(SinkError, match="expected type 'logs'"):
        sink_from_settings({"type": "stdout", "log_group_name": "/x"})


def test_sink_from_settings_makes_each_kind(tmp_path: Path) -> None:
    # when sinks are made from each form, then each is the sink its kind names
    assert isinstance(sink_from_settings(None), StdoutSink)
    file = sink_from_settings(f"file:{tmp_path / 'x'}")
    assert isinstance(file, FileSink) and file.path == tmp_path / "x"
    logs = sink_from_settings({"type": "logs", "log_stream_name": "s"}, client=_NoCallsClient())
    assert isinstance(logs, CloudWatchLogsSink)
    assert (logs.log_group, logs.log_stream) == (DEFAULT_LOG_GROUP, "s")
    session = LogsSession(_NoCallsClient())
    unnamed = sink_from_settings("logs:/g", logs=session)
    assert isinstance(unnamed, CloudWatchLogsSink)
    assert unnamed.log_group == "/g" and unnamed.log_stream.startswith("promwatch/")
    assert unnamed.log_stream == session.stream_name
    # and sinks made later with the same session (the runtime's) share that stream and client
    again = sink_from_settings("logs:/other", logs=session)
    assert isinstance(again, CloudWatchLogsSink) and again.log_group == "/other"
    assert again.log_stream == unnamed.log_stream
    assert again.client is unnamed.client is session.client()


def test_the_stream_name_belongs_to_the_session_not_the_process() -> None:
    # Given two sessions (two runtimes of one process, as tests and tools make them)
    first, second = LogsSession(_NoCallsClient()), LogsSession(_NoCallsClient())
    # When sinks without a stream name are made from each
    one = sink_from_settings("logs:/g", logs=first)
    other = sink_from_settings("logs:/g", logs=second)
    # Then each writes to its own session's stream: no module remembers one for the process
    assert isinstance(one, CloudWatchLogsSink) and isinstance(other, CloudWatchLogsSink)
    assert one.log_stream == first.stream_name != second.stream_name == other.log_stream


def test_a_stream_name_is_made_from_the_date_and_an_id() -> None:
    # Given a moment (2026-12-05 UTC) and an id, Then the name is dated and carries the id
    assert new_stream_name(1_796_428_800.0, "abc") == "promwatch/2026/12/05/abc"


def test_emf_output_section_makes_its_sink() -> None:
    # given the emf.output section of a scrape config
    output = EmfOutput(type="logs", log_group_name="/promwatch/prod", log_stream_name="scrape")
    # when a sink is made from it, then it writes where the section says
    sink = sink_from_settings(output, client=_NoCallsClient())
    assert isinstance(sink, CloudWatchLogsSink)
    assert (sink.log_group, sink.log_stream) == ("/promwatch/prod", "scrape")


def test_stdout_sink_writes_one_valid_compact_line_per_document() -> None:
    # given three EMF documents and a stdout sink on a buffer
    out = io.StringIO()
    sink = StdoutSink(out)
    # when written and flushed
    sink.write(_documents(3))
    sink.flush()
    # then there is one compact JSON line per document, each valid EMF
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    for line in lines:
        assert ": " not in line and ", " not in line
        validate(json.loads(line))
    assert sink.stats.written == 3


def test_stdout_sink_defaults_to_the_current_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    # given a sink made without a stream
    sink = sink_from_settings("stdout")
    # when it writes, then the line lands on whatever sys.stdout is at that time
    sink.write(_documents(1))
    assert json.loads(capsys.readouterr().out)["Component"] == "test"


def test_file_sink_appends_lines_and_creates_parents(tmp_path: Path) -> None:
    # given a file sink under a missing directory
    path = tmp_path / "deep" / "emf.jsonl"
    sink = FileSink(path)
    # when it writes twice
    sink.write(_documents(2))
    sink.write(_documents(1))
    sink.flush()
    # then the file holds every document, one per line
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    assert [json.loads(line)["Things"] for line in lines] == [0, 1, 0]


class _NoCallsClient:
    """A logs client stand-in for sinks that are made but not used."""

    class meta:  # mirrors boto3's client.meta
        class events:
            @staticmethod
            def register(*_: object, **__: object) -> None:
                return None
