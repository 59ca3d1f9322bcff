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
        return {"backfill": {"chunks_done": done, "chunks_total": 3, "chunks_written": 1, "events": 10, "documents": 5,
                             "end": "2026-11-20T03:00:00Z", "next": None if done == 3 else f"chunk {done}",
                             "continuation": None if done == 3 else str(done), "documents_total": 5 * done,
                             "points_total": 9 * done, "dropped": {}, "typed_by_names": ["up"]}}


@pytest.fixture
def function(monkeypatch: pytest.MonkeyPatch) -> FakeFunction:
    fake = FakeFunction()
    monkeypatch.setattr(backfill, "remote_invoker", lambda name: fake)
    return fake


def test_job_needs_a_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGS, "--job", "api"]) == 2
    assert "--job needs --config" in capsys.readouterr().err


def test_remote_needs_the_scrape_function_name(capsys: pytest.CaptureFixture[str]) -> None:
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
    assert "15 documents, 27 data points written" in err and "no metadata for up" in err
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
