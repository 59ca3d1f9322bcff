"""What service discovery produces: target groups, as Prometheus' discovery hands them out."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from promwatch.errors import PromwatchError


class DiscoveryError(PromwatchError):
    """A discovery could not list its targets (API error, bad answer); its job keeps the last list."""


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
