"""What service discovery produces: target groups, as Prometheus' discovery hands them out."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from promwatch.errors import PromwatchError, PromwatchValueError

ADDRESS = "__address__"
"""The label a target's ``host:port`` is in."""
METRICS_PATH = "__metrics_path__"
"""The label a target's metrics path is in (the job's ``metrics_path`` unless discovery or relabelling sets it)."""
_INVALID_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def sanitize_label_name(name: str) -> str:
    """Every character a label name cannot hold as ``_`` (Prometheus' ``strutil.SanitizeLabelName``)."""
    return _INVALID_LABEL_CHARS.sub("_", name)


def join_host_port(host: str, port: int | str) -> str:
    """``host:port``, an IPv6 host in brackets (Go's ``net.JoinHostPort``)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class DiscoveryError(PromwatchError):
    """A discovery could not list its targets (API error, bad answer); its job keeps the last list.

    Parameters
    ----------
    message
        What failed, naming it.
    partial
        The groups the discovery did list before or besides the failure, when its groups are
        independent (one per DNS name): these replace their sources' last groups while the
        sources that failed keep theirs, as Prometheus' discovery manager keeps a group until
        its source sends a new one.
    """

    def __init__(self, message: str, *, partial: Sequence[TargetGroup] = ()) -> None:
        super().__init__(message)
        self.partial: tuple[TargetGroup, ...] = tuple(partial)


class DiscoveryConfigError(DiscoveryError, PromwatchValueError):
    """A value of a discovery config (``*_sd_configs``) refused by its validator; also a
    ``ValueError``, which pydantic reports under the value's key path."""


@dataclass(frozen=True, slots=True)
class TargetGroup:
    """Targets found together, with the labels they share.

    Attributes
    ----------
    source
        Names the group within its discovery (an instance ID, a file and index, a DNS name):
        a target's labels are its group's ``labels`` overlaid with its own.
    targets
        One label set per target, each with ``__address__`` and the target's ``__meta_*`` labels.
    labels
        Labels every target of the group gets (its own win).
    """

    source: str
    targets: tuple[Mapping[str, str], ...]
    labels: Mapping[str, str] = field(default_factory=dict)

    def target_labels(self) -> list[dict[str, str]]:
        """Each target's labels: the group's overlaid with its own."""
        return [{**self.labels, **target} for target in self.targets]
