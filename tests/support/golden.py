"""Golden files: expected outputs kept under tests/golden/, compared as text.

Tests take the ``golden`` fixture (tests/conftest.py) and call ``golden.check(name, text)``
with the output serialized as the file holds it. ``pytest --update-golden`` rewrites the files
that differ instead of failing; review ``git diff tests/golden`` before committing. The switch
is a command-line option, not an environment variable, so a shell that still has it set cannot
rewrite the files of a later run (CI's included) and make a wrong output pass.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
UPDATE_OPTION = "--update-golden"


@dataclass
class Golden:
    """Compares outputs with the files under ``root``; rewrites the ones that differ when ``update``."""

    root: Path = GOLDEN_DIR
    update: bool = False
    rewritten: list[Path] = field(default_factory=list)
    owner: str = ""
    """The test checking through this object (the ``golden`` fixture gives each test its own view)."""
    owners: dict[Path, str] = field(default_factory=dict)
    """Each golden file checked in this run -> the test that checked it first (shared by the views)."""

    def for_test(self, nodeid: str) -> Golden:
        """A view of these golden files for the test ``nodeid`` (same files, switch and records)."""
        return replace(self, owner=nodeid)

    def path(self, name: str) -> Path:
        """The golden file ``name`` (relative to ``root``, e.g. ``emf/task_service.jsonl``)."""
        return self.root / name

    def check(self, name: str, actual: str) -> None:
        """Assert that ``actual`` is exactly the golden file ``name`` (with ``update``: make it so)."""
        path = self.path(name)
        # Two tests on one file: each would pass on its own, and with the update switch the last
        # writer would win; each test gets a file of its own.
        first = self.owners.setdefault(path, self.owner)
        assert first == self.owner, (f"golden file {path} is checked by {first} and by {self.owner}: "
                                     f"give each test a golden file of its own")
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
