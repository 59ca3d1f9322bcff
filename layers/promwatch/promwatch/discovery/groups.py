"""The target-group list file_sd and http_sd read: ``[{"targets": [...], "labels": {...}}, ...]``
(pure), held to Prometheus' rules for it (unknown keys refused, as its JSON decoder does)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promwatch.discovery.model import ADDRESS, DiscoveryError, TargetGroup
from promwatch.labelnames import LABEL_NAME_PATTERN, is_label_name


def parse_target_groups(data: Any, *, where: str, origin: str, meta: Mapping[str, str]) -> list[TargetGroup]:
    """Target groups from a decoded document.

    Parameters
    ----------
    data
        The decoded JSON or YAML (None: no groups).
    where
        Names the document in messages (``file_sd: '/opt/targets.json'``).
    origin
        The file or URL: group ``i`` is ``<origin>:<i>``, as in Prometheus.
    meta
        Labels every group gets (``__meta_filepath``, ``__meta_url``).

    Raises
    ------
    DiscoveryError
        Naming the document, the group and what is wrong with it.
    """
    if data is None:
        return []
    if not isinstance(data, list):
        raise DiscoveryError(f"{where}: expected a list of target groups, got {type(data).__name__}")
    groups = []
    for index, entry in enumerate(data):
        at = f"{where}[{index}]"
        if not isinstance(entry, Mapping):
            raise DiscoveryError(f"{at}: expected a mapping with 'targets' and 'labels'")
        unknown = set(entry) - {"targets", "labels"}
        if unknown:
            raise DiscoveryError(f"{at}: unknown key(s) {', '.join(map(repr, sorted(unknown)))}; "
                                 "expected 'targets' and 'labels'")
        targets = entry.get("targets") or []
        labels: Any = entry.get("labels") or {}
        if not isinstance(targets, list) or not all(isinstance(t, str) and t for t in targets):
            raise DiscoveryError(f"{at}.targets: expected a list of 'host:port' strings")
        if not isinstance(labels, Mapping) or not all(
            is_label_name(k) and isinstance(v, str) for k, v in labels.items()
        ):
            raise DiscoveryError(f"{at}.labels: expected label names ({LABEL_NAME_PATTERN}) with string values")
        groups.append(TargetGroup(
            source=f"{origin}:{index}",
            targets=tuple({ADDRESS: target} for target in targets),
            labels={**labels, **meta},
        ))
    return groups
