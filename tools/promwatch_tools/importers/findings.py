"""What an import changed or could not carry over: one :class:`Finding` per setting."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promwatch.errors import PromwatchError


@dataclass(frozen=True)
class Finding:
    """One setting an import changed, left out, or wants the user to look at.

    Attributes
    ----------
    path
        Where the setting is in the imported file (``exporters.awsemf.region``).
    message
        What happened to it and why.
    """

    path: str
    message: str

    def line(self) -> str:
        """The finding as the one line the CLI prints on stderr."""
        return f"{self.path}: {self.message}"


@dataclass
class ImportResult:
    """A promwatch scrape config (plain data, ready for YAML) and the findings of its import."""

    config: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)


class ImportInputError(PromwatchError):
    """The file cannot be imported at all (not YAML, not a mapping, nothing to import); the
    message says what was expected."""
