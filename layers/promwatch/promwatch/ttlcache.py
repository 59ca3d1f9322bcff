"""Values read from a source (a file, SSM, S3, Secrets Manager), each reused for a TTL, and kept
for another when reading it again fails: an AWS outage does not stop what already works.

The scrape config (:class:`promwatch.scrape.loader.ConfigLoader`) and credentials
(:class:`promwatch.httpclient.secrets.SecretResolver`) are cached this way.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["TtlCache"]

_V = TypeVar("_V")


class TtlCache(Generic[_V]):
    """Values by key, each reused for ``ttl_seconds``, kept for another TTL when a re-read fails.

    Parameters
    ----------
    ttl_seconds
        How long a value read is reused.
    clock
        Monotonic seconds.
    kept_on
        The error of a read that failed (the source throttled or down): a value in hand is kept
        for another TTL and the failure logged once; a first read raises it. Any other error
        (the source read, and found invalid) is raised and keeps nothing.
    logger, what
        Where the failure is logged, and what the key is in the message (``config`` for
        ``config ssm:/name ...``; empty: the key alone).
    """

    def __init__(self, *, ttl_seconds: float, clock: Callable[[], float], kept_on: type[Exception],
                 logger: logging.Logger, what: str = "") -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._kept_on = kept_on
        self._logger = logger
        self._prefix = f"{what} " if what else ""
        self._values: dict[str, tuple[float, _V]] = {}
        self._lock = threading.Lock()  # guards the map; reads run unlocked, the last one stored wins

    def get(self, key: str, read: Callable[[str], _V]) -> _V:
        """The value of ``key``: the one in hand while fresh, else ``read(key)``.

        Raises
        ------
        Exception
            What ``read`` raises: a ``kept_on`` error only when no value of ``key`` is in hand.
        """
        now = self._clock()
        with self._lock:
            hit = self._values.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        try:
            value = read(key)
        except self._kept_on as exc:
            if hit is None:
                raise
            self._logger.error("%s%s could not be read again, the one in hand is kept for %gs more: %s",
                               self._prefix, key, self.ttl_seconds, exc)
            value = hit[1]
        with self._lock:
            self._values[key] = (now + self.ttl_seconds, value)
        return value
