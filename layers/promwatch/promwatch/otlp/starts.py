"""Start times of cumulative series sent over OTLP (pure).

``start_time_unix_nano`` of a counter, histogram or summary point is the series' ``_created``
when the page exposes it. Otherwise the scrape that first saw the series is its start (that
first point's start equals its time, as the data model's "handling unknown start time" asks),
kept in the state store (:class:`promwatch.state.StartTime`) so that every later point of the
series carries the same start; a value lower than the last one is a reset, and the scrape
that sees it is the new start. A ``_created`` later than the point's time (a clock that runs
ahead on the target) would make the start follow the time, which the data model forbids: it
is ignored for the first-seen start, and counted (:attr:`StartTracker.created_after_time`).
"""
from __future__ import annotations

from collections.abc import Mapping

from promwatch.state.model import StartTime, series_key


class StartTracker:
    """The start times of one target's series during one scrape.

    Parameters
    ----------
    previous
        What the last delivered scrape stored.
    now_ms
        This scrape's time (epoch ms).
    """

    def __init__(self, previous: Mapping[str, StartTime], now_ms: int) -> None:
        self.previous = previous
        self.now_ms = now_ms
        self._seen: dict[str, StartTime] = {}
        self.created_after_time = 0
        """Points whose ``_created`` was later than their time (the first-seen start used)."""

    def start_nanos(self, name: str, attributes: Mapping[str, str], value: float, created: float | None,
                    time_nanos: int) -> int:
        """The start of the series ``name{attributes}`` whose cumulative value is ``value``.

        ``created`` is its ``_created`` (seconds) when exposed; ``time_nanos`` the point's time,
        the start of a series seen for the first time or reset. The start is never after
        ``time_nanos``.
        """
        if created is not None:
            start = round(created * 1_000_000) * 1000  # microseconds: what a float of epoch seconds holds
            if start <= time_nanos:
                return start
            self.created_after_time += 1
        key = series_key(name, attributes)
        before = self.previous.get(key)
        reset = before is None or value < before.value
        start_ms = time_nanos // 1_000_000 if reset else before.start_ms  # type: ignore[union-attr]
        self._seen[key] = StartTime(start_ms, value)
        return start_ms * 1_000_000

    def stored(self) -> dict[str, StartTime]:
        """The start times to store: this scrape's series only (one not seen starts anew
        when it comes back)."""
        return dict(self._seen)
