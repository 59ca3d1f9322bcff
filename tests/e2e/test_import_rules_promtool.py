"""``promwatch import rules`` agrees with Debian's ``promtool check rules`` on which rule files
are valid: the fixtures (node_exporter-mixin style and an app's rules) and a corpus of files
promtool accepts and refuses (tests/support/rule_files.py), each written to disk and judged by
both."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from promwatch_tools.cli import main

from tests.support.rule_files import FIXTURES, INVALID, VALID
from tests.support.system_deps import require_binary


def _verdicts(document: Any, directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[bool, bool]:
    """(promtool accepts, promwatch imports) for ``document`` written as a rule file."""
    promtool = require_binary("promtool", package="prometheus")
    path = directory / "rules.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    checked = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    status = main(["import", "rules", str(path), "--target", "both", "--namespace", "ns"])
    capsys.readouterr()
    return checked.returncode == 0, status == 0


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.yml")), ids=lambda p: p.name)
def test_the_fixtures_are_valid_for_both_as_written(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a fixture file as it is on disk
    promtool = require_binary("promtool", package="prometheus")
    checked = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    # when both judge it / then both accept it
    status = main(["import", "rules", str(path), "--namespace", "ns"])
    capsys.readouterr()
    assert (checked.returncode, status) == (0, 0), checked.stdout + checked.stderr


@pytest.mark.parametrize("name", sorted(VALID))
def test_a_file_promtool_accepts_imports(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a rule file promtool accepts, when checked by promtool and imported, then both accept it
    assert _verdicts(VALID[name], tmp_path, capsys) == (True, True)


@pytest.mark.parametrize("name", sorted(INVALID))
def test_a_file_promtool_refuses_is_refused(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a rule file promtool refuses
    document, _ = INVALID[name]
    # when checked by promtool and imported, then both refuse it
    assert _verdicts(document, tmp_path, capsys) == (False, False)
