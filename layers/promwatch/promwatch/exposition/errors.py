"""The exposition parser's one error type."""
from __future__ import annotations

from promwatch.errors import PromwatchError


class ExpositionError(PromwatchError):
    """A line of an exposition that breaks the format.

    Parameters
    ----------
    line
        1-based number of the offending line (0 when the error is not tied to a line, e.g.
        while parsing a fragment outside of a page).
    reason
        What is wrong, naming the bad value and what was expected.
    """

    MAX_REASON_CHARS = 300
    """Longer reasons (they quote the bad text) are cut, so one huge bad line cannot flood logs."""

    def __init__(self, line: int, reason: str) -> None:
        if len(reason) > self.MAX_REASON_CHARS:
            reason = f"{reason[:self.MAX_REASON_CHARS]}... ({len(reason)} characters)"
        super().__init__(line, reason)
        self.line = line
        self.reason = reason

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"

    def __reduce__(self) -> tuple[type[ExpositionError], tuple[int, str]]:
        return (type(self), (self.line, self.reason))

    def at(self, line: int) -> ExpositionError:
        """The same error placed on ``line`` (fragment parsers raise with line 0)."""
        return ExpositionError(line, self.reason)
