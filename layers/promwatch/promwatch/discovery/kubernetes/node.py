"""``role: node``: one target per node, at its kubelet (pure).

The address is the node's first address of the first type present in Prometheus' order
(InternalIP, InternalDNS, ExternalIP, ExternalDNS, LegacyHostIP, Hostname) with the kubelet's
port from ``status.daemonEndpoints``; ``instance`` is the node name.
"""
from __future__ import annotations

from collections.abc import Iterable

from promwatch.discovery.kubernetes.objects import (
    ADDRESS,
    META,
    Obj,
    add_object_meta,
    field,
    name_of,
    objects,
    port_number,
    sanitize,
    text,
)
from promwatch.discovery.kubernetes.pod import join_host_port
from promwatch.discovery.model import TargetGroup

NODE = META + "node_"
ADDRESS_PRIORITY = ("InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "LegacyHostIP", "Hostname")


def node_meta_labels(node: Obj) -> dict[str, str]:
    """Provider ID, one label per condition (type and status in lower case), name, labels, annotations."""
    labels = {NODE + "provider_id": text(node, "spec", "providerID")}
    for condition in objects(node, "status", "conditions"):
        labels[NODE + "condition_" + sanitize(text(condition, "type").lower())] = text(condition, "status").lower()
    add_object_meta(labels, node, "node")
    return labels


def addresses_by_type(node: Obj) -> dict[str, list[str]]:
    """``status.addresses`` grouped by type, in their order."""
    found: dict[str, list[str]] = {}
    for entry in objects(node, "status", "addresses"):
        found.setdefault(text(entry, "type"), []).append(text(entry, "address"))
    return found


def node_group(node: Obj) -> TargetGroup:
    """One node's group; without a usable address, no target (Prometheus logs and skips it)."""
    name = name_of(node)
    labels = node_meta_labels(node)
    found = addresses_by_type(node)
    host = next((found[kind][0] for kind in ADDRESS_PRIORITY if kind in found), None)
    if host is None:
        return TargetGroup(f"node/{name}", (), labels)
    port = port_number(field(node, "status", "daemonEndpoints", "kubeletEndpoint", "Port")) or 0
    target = {ADDRESS: join_host_port(host, port), "instance": name}
    for kind, values in found.items():
        target[sanitize(NODE + "address_" + kind)] = values[0]
    return TargetGroup(f"node/{name}", (target,), labels)


def node_groups(nodes: Iterable[Obj]) -> list[TargetGroup]:
    """Every node's group."""
    return [node_group(node) for node in nodes]
