"""``promwatch backfill prometheus``: arguments, the invoke loop's events, checkpoint and --max-chunks
(the deployed function stood in for by a fake invoker)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from promwatch_tools.cli import main
from promwatch_tools.commands import backfill

ARGS = ["backfill", "prometheus", "--url", "http://prometheus:9090", "--match", '{job="api"}', "up",
        "--start", "2026-11-20T00:00:00Z", "--end", "2026-11-20T03:00:00Z"]


class FakeFunction:
    """A deployed scrape function doing one chunk of three per invocation."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        done = int(event["backfill"]["prometheus"]["continuation"] or 0) + 1
        return {"backfill": {"chunks_done": done, "chunks_total": 3, "chunks_written": 1, "events": 10, "documents": 5, "points": 9,
                             "end": "2026-11-20T03:00:00Z", "next": None if done == 3 else f"chunk {done}",
                             "continuation": None if done == 3 else str(done), "documents_total": 5 * done,
                             "points_total": 9 * done, "dropped": {}, "typed_by_names": ["up"]}}


@pytest.fixture
def function(monkeypatch: pytest.MonkeyPatch) -> FakeFunction:
    fake = FakeFunction()
    monkeypatch.setattr(backfill, "remote_invoker", lambda name: fake)
    return fake


def test_job_needs_a_config(capsys: pytest.CaptureFixture[str]) -> None:
    # given --job without --config, when run, then it is a usage error saying so
    assert main([*ARGS, "--job", "api"]) == 2
    assert "--job needs --config" in capsys.readouterr().err


def test_remote_needs_the_scrape_function_name(capsys: pytest.CaptureFixture[str]) -> None:
    # given --remote without a function name, when run, then it is a usage error naming the stack output
    assert main([*ARGS, "--remote"]) == 2
    assert "stack output ScrapeFunctionName" in capsys.readouterr().err


def test_remote_loop_sends_prometheus_events_and_keeps_the_checkpoint(
    function: FakeFunction, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a checkpoint file, When the remote backfill runs to the end
    checkpoint = tmp_path / "checkpoint.json"
    assert main([*ARGS, "--remote", "--function-name", "promwatch-scrape", "--checkpoint", str(checkpoint)]) == 0
    # Then every invocation carried the request and the previous continuation
    first = function.events[0]["backfill"]["prometheus"]
    assert first["match"] == ['{job="api"}', "up"] and first["url"] == "http://prometheus:9090"
    assert [e["backfill"]["prometheus"]["continuation"] for e in function.events] == [None, "1", "2"]
    # And the checkpoint says complete, the summary names the totals and the families typed by names
    assert list(json.loads(checkpoint.read_text()).values()) == ["complete"]
    err = capsys.readouterr().err
    assert "this run wrote 15 documents, 27 data points;" in err and "no metadata for up" in err
    # And running it again invokes nothing
    assert main([*ARGS, "--remote", "--function-name", "promwatch-scrape", "--checkpoint", str(checkpoint)]) == 1
    assert len(function.events) == 3 and "already complete" in capsys.readouterr().err


def test_max_chunks_stops_and_the_checkpoint_resumes(
    function: FakeFunction, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = tmp_path / "checkpoint.json"
    remote = ["--remote", "--function-name", "promwatch-scrape", "--checkpoint", str(checkpoint)]
    # When stopped after one chunk
    assert main([*ARGS, *remote, "--max-chunks", "1"]) == 0
    assert function.events[0]["backfill"]["prometheus"]["max_chunks"] == 1
    assert "stopped after --max-chunks 1 at chunk 1" in capsys.readouterr().err
    # Then the same command without the cap resumes from the checkpoint's token
    assert main([*ARGS, *remote]) == 0
    assert [e["backfill"]["prometheus"]["continuation"] for e in function.events] == [None, "1", "2"]


def test_the_summary_gives_this_runs_figures_and_the_whole_backfills(
    function: FakeFunction, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a backfill stopped after one chunk
    remote = ["--remote", "--function-name", "promwatch-scrape", "--checkpoint", str(tmp_path / "c.json")]
    assert main([*ARGS, *remote, "--max-chunks", "1"]) == 0
    capsys.readouterr()
    # When it is resumed
    assert main([*ARGS, *remote]) == 0
    # Then the summary counts what this run wrote, and the whole backfill's total apart
    assert ("this run wrote 10 documents, 18 data points (15 documents, 27 data points in the whole backfill)"
            in capsys.readouterr().err)


@pytest.mark.parametrize("start, end", [
    ("2026-11-20T00:00:00+00:00", "2026-11-20T03:00:00+00:00"),  # the same range, spelled otherwise
    ("1795132800", "1795143600"),  # as unix seconds
    ("2026-11-20T01:00:00+01:00", "2026-11-20T04:00:00+01:00"),  # in another zone
])
def test_a_complete_range_is_not_written_again_however_spelled(
    start: str, end: str, function: FakeFunction, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a complete backfill
    remote = ["--remote", "--function-name", "promwatch-scrape", "--checkpoint", str(tmp_path / "c.json")]
    assert main([*ARGS, *remote]) == 0
    # When the same request comes with the range spelled otherwise (and the URL with a trailing /)
    args = [*ARGS[:2], "--url", "http://prometheus:9090/", "--match", "up", '{job="api"}', "--start", start, "--end", end]
    # Then nothing is invoked again
    assert main([*args, *remote]) == 1
    assert len(function.events) == 3 and "already complete" in capsys.readouterr().err


@pytest.mark.parametrize("start, end, match", [
    ("2026-11-20T01:00:00Z", "2026-11-20T02:00:00Z", "up"),  # a sub-range
    ("2026-11-19T23:00:00Z", "2026-11-20T01:00:00Z", "up"),  # straddling the start
    ("2026-11-20T01:00:00Z", "2026-11-20T02:00:00Z", "up process_cpu_seconds_total"),  # a selector in common
])
def test_a_request_overlapping_a_recorded_one_is_refused_naming_it(
    start: str, end: str, match: str, function: FakeFunction, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a backfill in progress (stopped after a chunk)
    remote = ["--remote", "--function-name", "promwatch-scrape", "--checkpoint", str(tmp_path / "c.json")]
    assert main([*ARGS, *remote, "--max-chunks", "1"]) == 0
    capsys.readouterr()
    # When a request writing some of the same points comes
    args = [*ARGS[:4], "--match", *match.split(), "--start", start, "--end", end]
    # Then it is refused, naming the recorded request and its state, and nothing is invoked
    assert main([*args, *remote]) == 1
    err = capsys.readouterr().err
    assert 'overlaps prometheus url=http://prometheus:9090 match=up {job="api"}' in err
    assert "2026-11-20T00:00:00Z .. 2026-11-20T03:00:00Z (in progress" in err and len(function.events) == 1


def test_a_range_outside_the_recorded_one_runs(function: FakeFunction, tmp_path: Path) -> None:
    # given a remote backfill that ran and left a checkpoint
    remote = ["--remote", "--function-name", "promwatch-scrape", "--checkpoint", str(tmp_path / "c.json")]
    assert main([*ARGS, *remote]) == 0
    # when a later range is asked with the same checkpoint, then it runs too, not skipped as done
    later = [*ARGS[:-4], "--start", "2026-11-20T03:00:00Z", "--end", "2026-11-20T04:00:00Z"]
    assert main([*later, *remote]) == 0 and len(function.events) == 6


@pytest.mark.parametrize("option, value, message", [
    ("--start", "yesterday", "argument --start: 'yesterday' is not a time; expected RFC 3339 (2026-11-20T00:00:00Z) or unix seconds"),
    ("--end", "2026-13-01", "argument --end: '2026-13-01' is not a time"),
    ("--step", "0", "argument --step: '0' is not a positive whole number of seconds"),
    ("--chunk-seconds", "-60", "argument --chunk-seconds: '-60' is not a positive"),
])
def test_bad_arguments_are_quoted_with_what_was_expected(
    option: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a bad time, step or chunk size, when parsed
    with pytest.raises(SystemExit) as stopped:
        main([*ARGS, option, value])
    # then it is a usage error quoting the value and what was expected
    assert stopped.value.code == 2 and message in capsys.readouterr().err
