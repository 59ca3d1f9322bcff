"""Which targets a cycle scrapes: the config's jobs, their static and discovered target groups,
or the targets a fan-out message carries."""
from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from promwatch.discovery import DiscoveryCache, DiscoveryEnv, DiscoveryFailure, TargetGroup
from promwatch.scrape.config import ScrapeConfig, ScrapeJob
from promwatch.scrape.errors import ConfigError
from promwatch.scrape.targets import Target, build_targets

logger = logging.getLogger("promwatch.scrape")

Discover = Callable[[ScrapeJob], tuple[list[TargetGroup], list[DiscoveryFailure]]]
"""A job -> its discovered target groups and the discoveries that failed."""


@dataclass(slots=True)
class Selection:
    """The (job, target) pairs to scrape and what was left out on the way.

    Attributes
    ----------
    selected
        In config order.
    dropped
        Targets ``relabel_configs`` dropped (or left without an address), per job.
    unknown
        Keys of requested targets the config (or its discovery) no longer has.
    discovery_failures
        Discoveries that failed (their last good list was used, if any).
    """

    selected: list[tuple[ScrapeJob, Target]] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    discovery_failures: list[DiscoveryFailure] = field(default_factory=list)


def discoverer(cache: DiscoveryCache, env: DiscoveryEnv | Callable[[], DiscoveryEnv]) -> Discover:
    """The :data:`Discover` of a warm environment: lists kept in ``cache``; ``env`` made on first use."""
    made: list[DiscoveryEnv] = []

    def discover(job: ScrapeJob) -> tuple[list[TargetGroup], list[DiscoveryFailure]]:
        configs = job.sd_configs()
        if not configs:
            return [], []
        if not made:
            made.append(env() if callable(env) else env)
        return cache.groups(job.job_name, configs, made[0])

    return discover


def select_targets(
    config: ScrapeConfig,
    jobs: Collection[str] | None = None,
    targets: Collection[str | Target] | None = None,
    *,
    discover: Discover | None = None,
) -> Selection:
    """The (job, target) pairs to scrape.

    Parameters
    ----------
    jobs
        Job names to restrict to (None: every job).
    targets
        Restrict to these: :class:`Target` objects a fan-out message carried (scraped as they
        are when their job is still configured), or target keys (``job|url``) rebuilt from the
        config. None: every target of the selected jobs.
    discover
        Lists a job's discovered groups; None: static targets only.

    Raises
    ------
    ConfigError
        When ``jobs`` names a job the config does not have.
    """
    names = [job.job_name for job in config.scrape_configs]
    if jobs is not None:
        unknown_jobs = [name for name in jobs if name not in names]
        if unknown_jobs:
            raise ConfigError(f"unknown job(s) {', '.join(map(repr, unknown_jobs))}; "
                              f"expected one of {', '.join(map(repr, names))}")
    selection = Selection()
    carried = [t for t in targets or () if isinstance(t, Target)]
    wanted = {t for t in targets if isinstance(t, str)} if targets is not None else None
    by_name = {job.job_name: job for job in config.scrape_configs}
    for target in carried:
        job = by_name.get(target.job_name)
        if job is None or (jobs is not None and target.job_name not in jobs):
            selection.unknown.append(target.key)
        else:
            selection.selected.append((job, target))
    if wanted is not None and not wanted:
        return selection
    for job in config.scrape_configs:
        if jobs is not None and job.job_name not in jobs:
            continue
        if wanted is not None and not any(key.startswith(job.job_name + "|") for key in wanted):
            continue
        groups: list[TargetGroup] = []
        if discover is not None:
            groups, failures = discover(job)
            selection.discovery_failures.extend(failures)
        built, relabel_dropped = build_targets(job, config.global_.external_labels, groups)
        if relabel_dropped:
            selection.dropped[job.job_name] = len(relabel_dropped)
        selection.selected.extend((job, t) for t in built if wanted is None or t.key in wanted)
    if wanted is not None:
        found = {t.key for _, t in selection.selected}
        selection.unknown.extend(sorted(wanted - found))
    return selection
