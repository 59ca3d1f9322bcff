"""What Lambda does with a function's stdout: each line becomes a log event in its log group.

In-process invocations print to this process's stdout; :class:`FunctionLogs` stands in
for Lambda's log shipping, so the EMF a handler prints (its StdoutSink output, Powertools'
metrics) lands in the function's log group in the emulator, where the extraction reads it.
"""
from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from typing import Any

from promwatch.limits import LOGS_EVENT_OVERHEAD_BYTES, LOGS_MAX_BATCH_BYTES, LOGS_MAX_BATCH_EVENTS


class FunctionLogs(io.TextIOBase):
    """A text stream whose lines are shipped to a log group with PutLogEvents.

    One object serves one execution environment (one log stream), so a logger that bound
    ``sys.stdout`` during the first (cold) invocation keeps writing here afterwards.

    Parameters
    ----------
    log_group
        The function's log group (must exist).
    client
        A CloudWatch Logs client.
    clock_ms
        Epoch milliseconds, the timestamp of each line.
    """

    def __init__(self, log_group: str, *, client: Any, clock_ms: Callable[[], int] | None = None) -> None:
        super().__init__()
        self.log_group = log_group
        self.log_stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self._client = client
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self._partial = ""
        self._pending: list[dict[str, Any]] = []
        self._stream_created = False
        self.shipped = 0

    def writable(self) -> bool:
        """A write-only stream."""
        return True

    def write(self, text: str) -> int:
        """Buffer ``text``; each complete line becomes one pending log event."""
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        now = self._clock_ms()
        self._pending.extend({"timestamp": now, "message": line} for line in lines if line.strip())
        return len(text)

    def ship(self) -> int:
        """Send the pending lines (and any unterminated last line); returns how many were sent."""
        if self._partial.strip():
            self._pending.append({"timestamp": self._clock_ms(), "message": self._partial})
        self._partial = ""
        events, self._pending = self._pending, []
        if not events:
            return 0
        if not self._stream_created:
            self._client.create_log_stream(logGroupName=self.log_group, logStreamName=self.log_stream)
            self._stream_created = True
        batch: list[dict[str, Any]] = []
        size = 0
        for event in events:
            event_size = len(event["message"].encode()) + LOGS_EVENT_OVERHEAD_BYTES
            if batch and (len(batch) >= LOGS_MAX_BATCH_EVENTS or size + event_size > LOGS_MAX_BATCH_BYTES):
                self._put(batch)
                batch, size = [], 0
            batch.append(event)
            size += event_size
        self._put(batch)
        self.shipped += len(events)
        return len(events)

    def _put(self, batch: list[dict[str, Any]]) -> None:
        self._client.put_log_events(logGroupName=self.log_group, logStreamName=self.log_stream, logEvents=batch)

    @contextmanager
    def capturing(self) -> Iterator[FunctionLogs]:
        """Send this process's stdout here for the block, then ship what was written."""
        try:
            with redirect_stdout(self):
                yield self
        finally:
            self.ship()
