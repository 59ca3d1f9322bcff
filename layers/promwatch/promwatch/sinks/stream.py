"""Sinks that write one compact JSON line per document (stdout, a file), and one that keeps the
documents in memory (tools and tests that read what a run wrote)."""
from __future__ import annotations

import sys
from collections.abc import Hashable
from pathlib import Path
from typing import Any, TextIO

from promwatch.emf import serialize
from promwatch.sinks.base import SinkDeliveryError, SinkStats


class StdoutSink:
    """One compact JSON line per document on a text stream (stdout by default).

    In Lambda this is the default output: CloudWatch extracts the metrics from the EMF lines
    in the function's own log group, with no API call and no extra permission.

    Parameters
    ----------
    stream
        The text stream; ``sys.stdout`` at write time if None (so test capture works).
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self.stats = SinkStats()

    def _target(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def write(self, documents: list[dict[str, Any]], *, ticket: Hashable = None) -> None:
        """Write each document as one line (a failing stream raises: it is the last resort)."""
        if not documents:
            return
        # One write call per batch: Lambda forwards each line as its own log event anyway,
        # and a single call keeps lines of concurrent writers from interleaving mid-line.
        self._target().write("".join(serialize(doc) + "\n" for doc in documents))
        self.stats.written += len(documents)

    def flush(self) -> None:
        """Flush the stream."""
        self._target().flush()


class FileSink:
    """One compact JSON line per document, appended to a file (created with its parents).

    Parameters
    ----------
    path
        The file; lines are appended, so several runs accumulate.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.stats = SinkStats()
        self._failed: set[Hashable] = set()
        self._undelivered = 0
        self._problem = ""

    def write(self, documents: list[dict[str, Any]], *, ticket: Hashable = None) -> None:
        """Append each document as one line; a failed write is reported by :meth:`flush`."""
        if not documents:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write("".join(serialize(doc) + "\n" for doc in documents))
        except OSError as exc:
            self._failed.add(ticket)
            self._undelivered += len(documents)
            self._problem = exc.strerror or type(exc).__name__
            self.stats.failed += len(documents)
            return
        self.stats.written += len(documents)

    def flush(self) -> None:
        """Each write closes the file; report the writes that failed since the last flush.

        Raises
        ------
        SinkDeliveryError
            Naming the file and the problem, with the tickets of the lost documents.
        """
        if self._undelivered:
            failed, undelivered, self._failed, self._undelivered = frozenset(self._failed), self._undelivered, set(), 0
            raise SinkDeliveryError(f"{undelivered} EMF documents could not be written to {str(self.path)!r}: "
                                    f"{self._problem}", undelivered=undelivered, failed_tickets=failed)


class MemorySink:
    """Keeps every document written, in order, in :attr:`documents` (nothing is serialized)."""

    def __init__(self) -> None:
        self.stats = SinkStats()
        self.documents: list[dict[str, Any]] = []

    def write(self, documents: list[dict[str, Any]], *, ticket: Hashable = None) -> None:
        """Keep the documents."""
        self.documents.extend(documents)
        self.stats.written += len(documents)

    def flush(self) -> None:
        """Nothing is buffered."""

