"""Pacing and retries for CloudWatch's alarm and dashboard APIs (clock and sleeper injected)."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from promwatch.limits import ALARM_CALLS_PER_SECOND

__all__ = ["THROTTLING_CODES", "Pacer", "error_code"]

T = TypeVar("T")
THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded",
                              "TooManyRequestsException", "LimitExceeded"})
"""Error codes that mean "slow down": retried with exponential backoff."""

logger = logging.getLogger("promwatch.reconcile")


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError (``""`` for any other exception)."""
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


class Pacer:
    """Keeps calls at most ``rate`` per second and retries throttled ones with backoff.

    Parameters
    ----------
    rate
        Calls per second (default :data:`promwatch.limits.ALARM_CALLS_PER_SECOND`).
    clock, sleep
        ``time.monotonic`` and ``time.sleep`` unless a test passes fakes.
    attempts
        Tries per call before the throttling error is raised.
    backoff
        First retry delay in seconds; doubled on each further retry.
    """

    def __init__(
        self,
        rate: float = ALARM_CALLS_PER_SECOND,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 6,
        backoff: float = 0.5,
    ) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self.sleep = sleep
        self.attempts = attempts
        self.backoff = backoff
        self._next = float("-inf")
        self.calls = 0
        self.retries = 0

    def wait(self) -> None:
        """Sleep until the next call is allowed, and book it."""
        now = self.clock()
        if now < self._next:
            self.sleep(self._next - now)
            now = self._next
        self._next = now + self.interval

    def call(self, function: Callable[..., T], **kwargs: Any) -> T:
        """``function(**kwargs)``, paced, retried while CloudWatch says it is throttling."""
        attempt = 1
        while True:  # the last attempt returns or raises
            self.wait()
            self.calls += 1
            try:
                return function(**kwargs)
            except Exception as exc:
                if error_code(exc) not in THROTTLING_CODES or attempt >= self.attempts:
                    raise
                delay = self.backoff * 2 ** (attempt - 1)
                self.retries += 1
                logger.warning("throttled (%s); retrying in %.1fs", error_code(exc), delay)
                self.sleep(delay)
            attempt += 1
