"""The CLI's user files (config, rules, event, checkpoint): hostile ones end in a message and an exit status."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from promwatch_tools.cli import main


@pytest.fixture(autouse=True)
def _cli_logging_restored() -> Iterator[None]:
    # ``promwatch scrape`` gives the promwatch logger a stderr handler for the life of the process:
    # keep it from outliving these tests (it would write to their closed captured stderr).
    log = logging.getLogger("promwatch")
    handlers, level = list(log.handlers), log.level
    yield
    log.handlers[:] = handlers
    log.setLevel(level)


def test_scrape_config_nested_too_deeply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a config of 100 000 nested '[' (a RecursionError traceback before),
    config = tmp_path / "scrape.yaml"
    config.write_text("[" * 100_000)
    # When scraped with it, Then the status is 1 and stderr says why.
    assert main(["scrape", "--config", str(config)]) == 1
    assert capsys.readouterr().err == (
        f"promwatch scrape: bad config: {config}: line 1: nested deeper than 64 levels; expected at most 64\n"
    )


def test_insights_rules_with_a_duplicate_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a rules file repeating its top-level key
    rules, events = tmp_path / "rules.yaml", tmp_path / "events.jsonl"
    rules.write_text("rules: [{name: a, types: [Pod], metrics: [x]}]\nrules: []\n")
    events.write_text("")
    # when the insights command is run with it, then it is a usage error naming the file, line and key
    assert main(["insights", str(events), "--rules", str(rules)]) == 2
    assert f"{rules}: line 2: duplicate key 'rules'" in capsys.readouterr().err


def test_invoke_event_nested_too_deeply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given an invoke event nested too deeply
    event = tmp_path / "event.json"
    event.write_text("[" * 100_000)
    # when invoked with it, then it is a usage error saying it is nested too deeply
    assert main(["invoke", "scrape", "--event", str(event)]) == 2
    assert "not valid JSON: nested too deeply" in capsys.readouterr().err


def test_backfill_checkpoint_that_is_not_an_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a checkpoint file holding a JSON list (an AttributeError traceback before),
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint.write_text("[1, 2]")
    status = main(["backfill", "insights", "--cluster", "prod", "--start", "2026-01-01T00:00:00Z",
                   "--end", "2026-01-01T01:00:00Z", "--checkpoint", str(checkpoint),
                   "--remote", "--function-name", "promwatch-insights"])
    # Then nothing is invoked and stderr names the file and what was expected.
    assert status == 1
    assert f"checkpoint file {str(checkpoint)!r} holds list; expected a JSON object" in capsys.readouterr().err


def test_scrape_state_file_that_is_no_state_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a --state-file naming a file promwatch did not write (the cycle used to run, each
    # target up published without its counters, and the status was 0),
    config, state = tmp_path / "scrape.yaml", tmp_path / "notes.txt"
    config.write_text("scrape_configs: [{job_name: j, static_configs: [{targets: ['127.0.0.1:1']}]}]")
    state.write_text("my notes\n")
    # When scraped with it, Then the status is 1 before anything is scraped, stderr names the
    # file and what was expected, and the file is left alone.
    assert main(["scrape", "--config", str(config), "--state-file", str(state)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"promwatch scrape: state file {str(state)!r} is neither a promwatch state database")
    assert state.read_text() == "my notes\n"
