"""What every sink is: ``write(documents, ticket=...)`` then ``flush()``; and the errors they raise.

A *ticket* names the documents of one unit of work (a scraped target): when delivery fails,
:class:`SinkDeliveryError` says which tickets lost documents, so the caller commits state only
for what was delivered.
"""
from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from promwatch.errors import PromwatchError

logger = logging.getLogger("promwatch.sinks")


class SinkError(PromwatchError):
    """Invalid output settings, or documents a sink could not deliver."""


class SinkDeliveryError(SinkError):
    """Some documents could not be delivered after every retry (the others were).

    Attributes
    ----------
    undelivered
        Documents not delivered.
    failed_tickets
        The tickets (see :meth:`Sink.write`) of those documents.
    """

    def __init__(self, message: str, *, undelivered: int, failed_tickets: frozenset[Hashable] = frozenset()) -> None:
        super().__init__(message)
        self.undelivered = undelivered
        self.failed_tickets = failed_tickets


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

    def write(self, documents: list[dict[str, Any]], *, ticket: Hashable = None) -> None:
        """Deliver (or buffer) EMF documents, remembering ``ticket`` for :class:`SinkDeliveryError`.

        Never raises for a failed delivery: that is reported by :meth:`flush`.
        """

    def flush(self) -> None:
        """Deliver whatever is buffered.

        Raises
        ------
        SinkDeliveryError
            When documents written since the last flush could not be delivered.
        """


class Flushable(Protocol):
    """Anything delivered by ``flush()`` that reports what it lost as :class:`SinkDeliveryError`."""

    def flush(self) -> None: ...


def flush_into(sink: Flushable, failed: set[Hashable], failure: str) -> int:
    """Flush ``sink``, adding the tickets it did not deliver to ``failed`` and logging ``failure``
    with the error; how many documents or requests it did not deliver."""
    try:
        sink.flush()
    except SinkDeliveryError as exc:
        failed.update(exc.failed_tickets)
        logger.error("%s: %s", failure, exc)
        return exc.undelivered
    return 0
