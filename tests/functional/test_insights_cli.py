"""``promwatch insights FILE|-``: events in, EMF out, malformed lines reported."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from promwatch_tools.cli import main

from tests.support.golden import Golden

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "insights"


def test_file_with_malformed_lines_prints_the_golden_emf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], golden: Golden
) -> None:
    # Given both layouts with the malformed lines in between (and a blank line)
    path = tmp_path / "events.jsonl"
    path.write_text("".join((FIXTURES / name).read_text() for name in
                            ("v0_events.jsonl", "malformed_events.jsonl", "v1_events.jsonl")) + "\n")
    # When rolled up with the builtin rules
    status = main(["insights", str(path)])
    # Then the EMF is the golden roll-up of the good events, and the bad ones are reported
    out, err = capsys.readouterr()
    assert status == 0
    golden.check("insights/cli_fixtures_builtin_rules.jsonl", out)
    assert "30 events" not in err and "38 events, 8 malformed" in err
    assert err.count("skipped") == 8


def test_stdin_and_explicit_rules(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the v0 events on stdin, the repository's rules named explicitly and self-metrics on
    monkeypatch.setattr("sys.stdin", io.StringIO((FIXTURES / "v0_events.jsonl").read_text()))
    # When rolled up from '-'
    status = main(["insights", "-", "--rules", str(ROOT / "config" / "insights.yaml"), "--self-metrics"])
    # Then it succeeds, the insights self-metrics come last and all 23 events are counted
    out, err = capsys.readouterr()
    assert status == 0
    assert '"Component":"insights"' in out.splitlines()[-1]
    assert "23 events, 0 malformed" in err


def test_bad_rules_and_missing_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a rules file whose metric is neither an event field nor a derive name
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules: [{name: x, types: [Pod], metrics: [a ** 2]}]")
    # When rolled up with it, Then the exit is 2 and the bad metric is named
    assert main(["insights", str(FIXTURES / "v0_events.jsonl"), "--rules", str(rules)]) == 2
    assert "metric 'a ** 2'" in capsys.readouterr().err
    # When the events file does not exist, Then the exit is 2 and its path is named
    assert main(["insights", str(tmp_path / "absent.jsonl")]) == 2
    assert "absent.jsonl" in capsys.readouterr().err
