"""The store interface, the in-memory store, and the optimistic-retry helper.

Every store keeps one record per target (job, instance) with a version number that grows by
one on each save. :meth:`StateStore.save` succeeds only if the record is still at the version
that was loaded (optimistic concurrency); otherwise it raises :class:`StateConflictError` and
:func:`update_with_retry` reloads, recomputes and tries again.

A scrape publishes before it saves (state is committed only for output that was delivered),
so two invocations scraping one target at once must not both publish from the same
baselines: each first *claims* the target (:meth:`StateStore.claim`, a lease that expires on
its own if the claimant dies), loads, publishes, saves, then releases. One wins; the other
leaves the target to it.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import NamedTuple, Protocol, TypeVar

from promwatch.state.errors import StateConflictError
from promwatch.state.model import TargetBaselines

log = logging.getLogger("promwatch.state")
T = TypeVar("T")


class Loaded(NamedTuple):
    """A target's baselines as loaded, with the version to pass back to ``save``.

    ``version`` is 0 when nothing was stored; ``baselines`` is None then (and when the stored
    record has expired).
    """

    baselines: TargetBaselines | None
    version: int


class StateStore(Protocol):
    """Where baselines live between invocations."""

    def load(self, job: str, instance: str) -> Loaded:
        """The target's baselines and their version."""
        ...

    def save(self, job: str, instance: str, baselines: TargetBaselines, *, expected_version: int) -> int:
        """Store ``baselines`` if the record is still at ``expected_version``; return the new version.

        Raises
        ------
        StateConflictError
            When someone else saved since (the record is not at ``expected_version``).
        """
        ...

    def claim(self, job: str, instance: str, *, owner: str, until_ms: int, now_ms: int) -> bool:
        """Take the target until ``until_ms`` (epoch ms); False when another owner holds an
        unexpired claim. Claiming again as the same owner extends the claim."""
        ...

    def release(self, job: str, instance: str, *, owner: str) -> None:
        """Give back ``owner``'s claim (nothing happens when it is not ``owner``'s any more)."""
        ...


class MemoryStateStore:
    """Baselines in a dict: for tests and one-process runs (thread-safe)."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], tuple[int, str]] = {}
        self._claims: dict[tuple[str, str], tuple[str, int]] = {}
        self._lock = threading.Lock()

    def load(self, job: str, instance: str) -> Loaded:
        """See :meth:`StateStore.load`."""
        with self._lock:
            record = self._records.get((job, instance))
        if record is None:
            return Loaded(None, 0)
        # Stored serialized so callers can never alias (and mutate) what is stored.
        return Loaded(TargetBaselines.from_json(record[1]), record[0])

    def save(self, job: str, instance: str, baselines: TargetBaselines, *, expected_version: int) -> int:
        """See :meth:`StateStore.save`."""
        text = baselines.to_json()
        with self._lock:
            current = self._records.get((job, instance), (0, ""))[0]
            if current != expected_version:
                raise StateConflictError(
                    f"baselines of {job!r}/{instance!r} are at version {current}; expected {expected_version}"
                )
            self._records[(job, instance)] = (current + 1, text)
            return current + 1

    def claim(self, job: str, instance: str, *, owner: str, until_ms: int, now_ms: int) -> bool:
        """See :meth:`StateStore.claim`."""
        with self._lock:
            holder = self._claims.get((job, instance))
            if holder is not None and holder[0] != owner and holder[1] >= now_ms:
                return False
            self._claims[(job, instance)] = (owner, until_ms)
            return True

    def release(self, job: str, instance: str, *, owner: str) -> None:
        """See :meth:`StateStore.release`."""
        with self._lock:
            holder = self._claims.get((job, instance))
            if holder is not None and holder[0] == owner:
                del self._claims[(job, instance)]


def update_with_retry(
    store: StateStore,
    job: str,
    instance: str,
    compute: Callable[[TargetBaselines | None], tuple[T, TargetBaselines | None]],
    *,
    attempts: int = 3,
) -> T:
    """Load, compute, save; on a lost race reload and recompute (at most ``attempts`` times).

    Parameters
    ----------
    store
        Any :class:`StateStore`.
    job, instance
        The target.
    compute
        Given the stored baselines (None if none), returns ``(result, baselines to store)``;
        returning None (or the same object it was given) stores nothing. For a scrape:
        ``lambda prev: (t := translate(..., previous=prev), t.baselines)``. It is called
        again after a conflict, so it must be pure.
    attempts
        How many times to try.

    Returns
    -------
    The ``result`` of the computation that was stored.

    Raises
    ------
    StateConflictError
        When every attempt lost its race.
    """
    for attempt in range(1, attempts + 1):
        loaded = store.load(job, instance)
        result, baselines = compute(loaded.baselines)
        if baselines is None or baselines is loaded.baselines:
            return result
        try:
            store.save(job, instance, baselines, expected_version=loaded.version)
            return result
        except StateConflictError as exc:
            if attempt == attempts:
                raise
            log.info("state conflict for %s/%s (attempt %d of %d), retrying: %s", job, instance, attempt, attempts, exc)
    raise StateConflictError(f"attempts must be at least 1; got {attempts}")
