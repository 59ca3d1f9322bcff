"""``role: node``: one target per node, at its kubelet (pure).

The address is the node's first address of the first type present in Prometheus' order
(InternalIP, InternalDNS, ExternalIP, ExternalDNS, LegacyHostIP, Hostname) with the kubelet's
port from ``status.daemonEndpoints``; ``instance`` is the node name.
"""
from __future__ import annotations

from collections.abc import Iterable

from promwatch.discovery.kubernetes import objects as k8s
from promwatch.discovery.model import ADDRESS, TargetGroup, join_host_port, sanitize_label_name

NODE = k8s.META + "node_"
ADDRESS_PRIORITY = ("InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "LegacyHostIP", "Hostname")


def node_meta_labels(node: k8s.Obj) -> dict[str, str]:
    """Provider ID, one label per condition (type and status in lower case), name, labels, annotations."""
    labels = {NODE + "provider_id": k8s.text(node, "spec", "providerID")}
    for condition in k8s.objects(node, "status", "conditions"):
        labels[NODE + "condition_" + sanitize_label_name(k8s.text(condition, "type").lower())] = k8s.text(condition, "status").lower()
    k8s.add_object_meta(labels, node, "node")
    return labels


def addresses_by_type(node: k8s.Obj) -> dict[str, list[str]]:
    """``status.addresses`` grouped by type, in their order."""
    found: dict[str, list[str]] = {}
    for entry in k8s.objects(node, "status", "addresses"):
        found.setdefault(k8s.text(entry, "type"), []).append(k8s.text(entry, "address"))
    return found


def node_group(node: k8s.Obj) -> TargetGroup:
    """One node's group; without a usable address, no target (Prometheus logs and skips it)."""
    name = k8s.name_of(node)
    labels = node_meta_labels(node)
    found = addresses_by_type(node)
    host = next((found[kind][0] for kind in ADDRESS_PRIORITY if kind in found), None)
    if host is None:
        return TargetGroup(f"node/{name}", (), labels)
    port = k8s.port_number(k8s.field(node, "status", "daemonEndpoints", "kubeletEndpoint", "Port")) or 0
    target = {ADDRESS: join_host_port(host, port), "instance": name}
    for kind, values in found.items():
        target[sanitize_label_name(NODE + "address_" + kind)] = values[0]
    return TargetGroup(f"node/{name}", (target,), labels)


def node_groups(nodes: Iterable[k8s.Obj]) -> list[TargetGroup]:
    """Every node's group."""
    return [node_group(node) for node in nodes]
