"""What every sink is: ``write(documents)`` then ``flush()``; and the errors they raise."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from promwatch.errors import PromwatchError


class SinkError(PromwatchError):
    """Invalid output settings, or documents a sink could not deliver."""


class SinkDeliveryError(SinkError):
    """Some documents could not be delivered after every retry (the others were)."""

    def __init__(self, message: str, *, undelivered: int) -> None:
        super().__init__(message)
        self.undelivered = undelivered


@dataclass(slots=True)
class SinkStats:
    """What a sink did with the documents it was given, for the caller's self-metrics."""

    written: int = 0
    """Documents delivered."""
    rejected: int = 0
    """Documents the destination refused for good (too old, too new, expired, too large)."""
    failed: int = 0
    """Documents not delivered after every retry."""


@runtime_checkable
class Sink(Protocol):
    """Where EMF documents go."""

    stats: SinkStats

    def write(self, documents: list[dict[str, Any]]) -> None:
        """Deliver (or buffer) EMF documents."""

    def flush(self) -> None:
        """Deliver whatever is buffered."""
