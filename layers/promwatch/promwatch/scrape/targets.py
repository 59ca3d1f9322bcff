"""Targets from target groups (``static_configs`` and discovery) and ``relabel_configs``, as
Prometheus builds them (pure)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from promwatch.discovery import TargetGroup
from promwatch.discovery.model import ADDRESS, METRICS_PATH
from promwatch.httpclient.errors import InvalidTargetError
from promwatch.httpclient.url import parse_authority
from promwatch.scrape.config import ScrapeJob
from promwatch.scrape.relabel import relabel
from promwatch.units import format_duration

SCHEME = "__scheme__"
PARAM_PREFIX = "__param_"
RESERVED_PREFIX = "__"


@dataclass(frozen=True, slots=True)
class Target:
    """One endpoint to scrape.

    ``labels`` are the target's final labels (``job``, ``instance``, static and relabelled
    ones); every sample scraped from it gets them. ``key`` identifies it across invocations
    (fan-out batches, counter baselines).
    """

    job_name: str
    url: str
    address: str
    labels: Mapping[str, str] = field(hash=False)

    @property
    def instance(self) -> str:
        """The ``instance`` label."""
        return self.labels.get("instance", self.address)

    @property
    def key(self) -> str:
        """``<job_name>|<url>``: stable across invocations."""
        return f"{self.job_name}|{self.url}"


@dataclass(frozen=True, slots=True)
class DroppedTarget:
    """A target that relabelling dropped or left without an address."""

    job_name: str
    labels: Mapping[str, str]
    reason: str


@dataclass(frozen=True, slots=True)
class TargetDetail:
    """One discovered target as Prometheus' targets and service-discovery pages show it."""

    discovered_labels: Mapping[str, str]
    """Its labels before ``relabel_configs`` (:func:`initial_labels`)."""
    result: Target | DroppedTarget
    """What relabelling made of it."""


def initial_labels(job: ScrapeJob, discovered: Mapping[str, str]) -> dict[str, str]:
    """A target's labels before ``relabel_configs``: what discovery gave it (``__address__``,
    ``__meta_*``, its group's labels) plus the job defaults.

    As Prometheus' ``PopulateDiscoveredLabels``, a label with an empty value is no label: it is
    left out, and a job default (``job``, ``__scheme__``, ...) takes its place.
    """
    labels = dict(discovered)
    if "" in labels.values():
        labels = {name: value for name, value in labels.items() if value}
    defaults = {
        "job": job.job_name,
        "__scrape_interval__": format_duration(job.interval),
        "__scrape_timeout__": format_duration(job.timeout),
        METRICS_PATH: job.metrics_path,
        SCHEME: job.scheme,
    }
    for name, values in job.params.items():
        if values:
            defaults[PARAM_PREFIX + name] = values[0]
    for name, value in defaults.items():
        labels.setdefault(name, value)
    return labels


def populate(
    job: ScrapeJob, labels: Mapping[str, str], external_labels: Mapping[str, str] | None = None
) -> Target | DroppedTarget:
    """Relabel one target's labels and derive its URL and final labels (Prometheus' PopulateLabels).

    ``__meta_*`` / ``__tmp*`` and every other ``__``-prefixed label are removed after
    relabelling; ``instance`` defaults to ``__address__``. ``external_labels`` (from ``global``)
    are added last where the target has no label of that name, as Prometheus adds them to
    what it sends out.
    """
    relabelled = relabel(labels, job.relabel_configs)
    if relabelled is None:
        return DroppedTarget(job.job_name, dict(labels), "dropped by relabel_configs")
    address = relabelled.get(ADDRESS, "")
    if not address:
        return DroppedTarget(job.job_name, dict(labels), "no __address__ after relabelling")
    try:
        parse_authority(address)
    except InvalidTargetError as exc:
        return DroppedTarget(job.job_name, dict(labels), f"invalid __address__: {exc}")
    scheme = relabelled.get(SCHEME, job.scheme)
    path = relabelled.get(METRICS_PATH, job.metrics_path) or "/"
    params: dict[str, list[str]] = {name: list(values) for name, values in job.params.items()}
    for name, value in relabelled.items():
        if name.startswith(PARAM_PREFIX):
            param = name[len(PARAM_PREFIX):]
            params[param] = [value, *params.get(param, [])[1:]]
    query = urlencode([(name, value) for name, values in params.items() for value in values])
    url = f"{scheme}://{address}{path if path.startswith('/') else '/' + path}"
    if query:
        url += ("&" if "?" in url else "?") + query
    final = {name: value for name, value in relabelled.items() if not name.startswith(RESERVED_PREFIX)}
    final.setdefault("instance", address)
    for name, value in (external_labels or {}).items():
        final.setdefault(name, value)
    return Target(job.job_name, url, address, final)


def static_groups(job: ScrapeJob) -> list[TargetGroup]:
    """A job's ``static_configs`` as target groups."""
    return [
        TargetGroup(f"static_configs[{index}]", tuple({ADDRESS: address} for address in group.targets), group.labels)
        for index, group in enumerate(job.static_configs)
    ]


def build_targets(
    job: ScrapeJob,
    external_labels: Mapping[str, str] | None = None,
    discovered: Sequence[TargetGroup] = (),
) -> tuple[list[Target], list[DroppedTarget]]:
    """Every target of a job's ``static_configs`` and discovered groups, after ``relabel_configs``.

    ``external_labels`` are the ``global`` ones (see :func:`populate`).

    Returns
    -------
    (targets, dropped)
        Targets to scrape (duplicates, same URL and labels, once) and those relabelling dropped.
    """
    targets: list[Target] = []
    dropped: list[DroppedTarget] = []
    for _, result in _built(job, external_labels, discovered):
        if isinstance(result, Target):
            targets.append(result)
        else:
            dropped.append(result)
    return targets, dropped


def target_details(
    job: ScrapeJob,
    external_labels: Mapping[str, str] | None = None,
    discovered: Sequence[TargetGroup] = (),
) -> list[TargetDetail]:
    """:func:`build_targets`' targets, kept and dropped, in discovery order, each with its labels
    before relabelling (a kept duplicate, same URL and labels, once)."""
    return [TargetDetail(before, result) for before, result in _built(job, external_labels, discovered)]


def _built(
    job: ScrapeJob, external_labels: Mapping[str, str] | None, discovered: Sequence[TargetGroup]
) -> Iterator[tuple[dict[str, str], Target | DroppedTarget]]:
    """Each target's labels before relabelling and its result, a kept duplicate once."""
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for group in [*static_groups(job), *discovered]:
        for labels in group.target_labels():
            before = initial_labels(job, labels)
            result = populate(job, before, external_labels)
            if isinstance(result, Target):
                identity = (result.url, tuple(sorted(result.labels.items())))
                if identity in seen:
                    continue
                seen.add(identity)
            yield before, result
