"""Discovered target groups kept in the warm environment, refreshed after ``refresh_interval``.

As Prometheus does, a discovery that fails keeps the last list it produced (a job's targets do
not vanish because an API call failed) and the failure is reported; a configuration that
changed is discovered anew.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from promwatch.discovery.base import DiscoveryEnv, SDConfig
from promwatch.discovery.model import DiscoveryError, TargetGroup

logger = logging.getLogger("promwatch.discovery")


@dataclass(frozen=True, slots=True)
class DiscoveryFailure:
    """One discovery that failed this time, and whether an older list was used instead."""

    job: str
    source: str
    """``ec2_sd_configs[0]`` and the like."""
    error: str
    stale: bool


@dataclass(slots=True)
class _Entry:
    groups: list[TargetGroup]
    refreshed: float


class DiscoveryCache:
    """Last good target groups of each discovery, by job and config.

    Parameters
    ----------
    monotonic
        Seconds, for ``refresh_interval``.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._entries: dict[tuple[str, str, str], _Entry] = {}
        self._lock = threading.Lock()

    def groups(
        self, job: str, configs: Sequence[tuple[str, SDConfig]], env: DiscoveryEnv
    ) -> tuple[list[TargetGroup], list[DiscoveryFailure]]:
        """Every group of ``job``'s discoveries, each fresh or at most ``refresh_interval`` old.

        Parameters
        ----------
        job
            The job name.
        configs
            ``(source, config)`` pairs: ``("ec2_sd_configs[0]", Ec2SDConfig(...))``.
        env
            Where discovery reaches through.

        Returns
        -------
        (groups, failures)
            Failed discoveries contribute their last good groups (``stale``) or none.
        """
        groups: list[TargetGroup] = []
        failures: list[DiscoveryFailure] = []
        now = self._monotonic()
        for source, config in configs:
            key = (job, source, config.model_dump_json())
            with self._lock:
                entry = self._entries.get(key)
            if entry is not None and now - entry.refreshed < config.refresh_interval:
                groups.extend(entry.groups)
                continue
            try:
                found = config.discover(env)
            except DiscoveryError as exc:
                failures.append(DiscoveryFailure(job, source, str(exc), stale=entry is not None))
                logger.error("job %s %s: discovery failed, %s: %s", job, source,
                             "keeping its last list" if entry is not None else "no targets from it yet", exc)
                if entry is not None:
                    groups.extend(entry.groups)
                continue
            with self._lock:
                self._entries[key] = _Entry(found, now)
            groups.extend(found)
        return groups, failures

    def forget(self) -> None:
        """Drop every kept list (the next call discovers everything)."""
        with self._lock:
            self._entries.clear()
