"""Golden files: expected outputs kept under tests/golden/, compared as text.

Tests take the ``golden`` fixture (tests/conftest.py) and call ``golden.check(name, text)``
with the output serialized as the file holds it. ``pytest --update-golden`` rewrites the files
that differ instead of failing; review ``git diff tests/golden`` before committing. The switch
is a command-line option, not an environment variable, so a shell that still has it set cannot
rewrite the files of a later run (CI's included) and make a wrong output pass.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
UPDATE_OPTION = "--update-golden"


@dataclass
class Golden:
    """Compares outputs with the files under ``root``; rewrites the ones that differ when ``update``."""

    root: Path = GOLDEN_DIR
    update: bool = False
    rewritten: list[Path] = field(default_factory=list)

    def path(self, name: str) -> Path:
        """The golden file ``name`` (relative to ``root``, e.g. ``emf/task_service.jsonl``)."""
        return self.root / name

    def check(self, name: str, actual: str) -> None:
        """Assert that ``actual`` is exactly the golden file ``name`` (with ``update``: make it so)."""
        path = self.path(name)
        expected = path.read_text(encoding="utf-8") if path.exists() else None
        if self.update and actual != expected:
            path.write_text(actual, encoding="utf-8")
            self.rewritten.append(path)
            return
        assert expected is not None, f"golden file {path} is missing; run `pytest {UPDATE_OPTION}` to write it"
        assert actual == expected, (
            f"output differs from the golden file {path}; if the change is intended, "
            f"run `pytest {UPDATE_OPTION}` and review `git diff tests/golden`"
        )
