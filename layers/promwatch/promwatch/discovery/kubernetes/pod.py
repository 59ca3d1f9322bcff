"""``role: pod``: one target per declared container port, one per container without ports (pure).

As Prometheus' pod role: a pod without an IP (starting, evicted) has no targets; containers come
first, then init containers; a container without ports gives a target whose ``__address__`` is
the pod IP alone (a relabel rule adds the port, e.g. from a ``prometheus.io/port`` annotation).
"""
from __future__ import annotations

from collections.abc import Iterable

from promwatch.discovery.kubernetes.objects import (
    ADDRESS,
    META,
    NAMESPACE_LABEL,
    Obj,
    Related,
    add_object_meta,
    controller_of,
    namespace_labels,
    namespace_of,
    namespaced,
    node_labels,
    objects,
    port_number,
    text,
)
from promwatch.discovery.model import TargetGroup

POD = META + "pod_"
CONTAINER_NAME = POD + "container_name"
CONTAINER_ID = POD + "container_id"
CONTAINER_IMAGE = POD + "container_image"
CONTAINER_PORT_NAME = POD + "container_port_name"
CONTAINER_PORT_NUMBER = POD + "container_port_number"
CONTAINER_PORT_PROTOCOL = POD + "container_port_protocol"
CONTAINER_INIT = POD + "container_init"


def source(pod: Obj) -> str:
    """``pod/<namespace>/<name>``, Prometheus' group source."""
    return "pod/" + namespaced(namespace_of(pod), text(pod, "metadata", "name"))


def ready(pod: Obj) -> str:
    """The ``Ready`` condition's status in lower case (``true``, ``false``), ``unknown`` without one."""
    for condition in objects(pod, "status", "conditions"):
        if condition.get("type") == "Ready":
            return text(condition, "status").lower()
    return "unknown"


def pod_labels(pod: Obj, related: Related) -> dict[str, str]:
    """The pod's own labels: IP, ready, phase, node, host IP, UID, name, labels, annotations,
    controller (and deployment, job, cronjob names when attached), as Prometheus' podLabels."""
    labels = {
        POD + "ip": text(pod, "status", "podIP"),
        POD + "ready": ready(pod),
        POD + "phase": text(pod, "status", "phase"),
        POD + "node_name": text(pod, "spec", "nodeName"),
        POD + "host_ip": text(pod, "status", "hostIP"),
        POD + "uid": text(pod, "metadata", "uid"),
    }
    add_object_meta(labels, pod, "pod")
    controller = controller_of(pod)
    if controller is None:
        return labels
    kind, name = text(controller, "kind"), text(controller, "name")
    if kind:
        labels[POD + "controller_kind"] = kind
    if name:
        labels[POD + "controller_name"] = name
    namespace = namespace_of(pod)
    if kind == "ReplicaSet" and related.replicasets is not None:
        owner = _owner(related.replicasets.get(namespaced(namespace, name)))
        if owner is not None and text(owner, "kind") == "Deployment":
            labels[POD + "deployment_name"] = text(owner, "name")
    elif kind == "Job":
        if related.job_names:
            labels[POD + "job_name"] = name
        if related.jobs is not None:
            owner = _owner(related.jobs.get(namespaced(namespace, name)))
            if owner is not None and text(owner, "kind") == "CronJob":
                labels[POD + "cronjob_name"] = text(owner, "name")
    return labels


def _owner(obj: Obj | None) -> Obj | None:
    return None if obj is None else controller_of(obj)


def containers(pod: Obj) -> list[tuple[Obj, bool]]:
    """``(container, is_init)``: the containers, then the init containers."""
    return [(c, False) for c in objects(pod, "spec", "containers")] + \
        [(c, True) for c in objects(pod, "spec", "initContainers")]


def container_ports(container: Obj) -> list[tuple[int, Obj]]:
    """``(number, port)`` of each declared port with a valid number."""
    found = []
    for port in objects(container, "ports"):
        number = port_number(port.get("containerPort"))
        if number is not None:
            found.append((number, port))
    return found


def join_host_port(host: str, port: int) -> str:
    """Go's ``net.JoinHostPort``: an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _container_ids(pod: Obj, init: bool) -> dict[str, str]:
    statuses = objects(pod, "status", "initContainerStatuses" if init else "containerStatuses")
    ids: dict[str, str] = {}
    for status in statuses:
        ids.setdefault(text(status, "name"), text(status, "containerID"))
    return ids


def pod_group(pod: Obj, related: Related) -> TargetGroup:
    """One pod's target group (no targets while it has no IP, or is on a node not listed when
    ``attach_metadata.node`` is set: such nodes were filtered out by a node selector)."""
    pod_ip = text(pod, "status", "podIP")
    node_name = text(pod, "spec", "nodeName")
    if not pod_ip or (related.nodes is not None and node_name not in related.nodes):
        return TargetGroup(source(pod), ())
    namespace = namespace_of(pod)
    labels = pod_labels(pod, related)
    labels[NAMESPACE_LABEL] = namespace
    labels.update(node_labels(related, node_name))
    labels.update(namespace_labels(related, namespace))
    ids = {False: _container_ids(pod, False), True: _container_ids(pod, True)}
    targets: list[dict[str, str]] = []
    for container, init in containers(pod):
        name = text(container, "name")
        common = {
            CONTAINER_NAME: name,
            CONTAINER_ID: ids[init].get(name, ""),
            CONTAINER_IMAGE: text(container, "image"),
            CONTAINER_INIT: "true" if init else "false",
        }
        ports = container_ports(container)
        if not ports:
            targets.append({ADDRESS: pod_ip, **common})
            continue
        for number, port in ports:
            targets.append({
                ADDRESS: join_host_port(pod_ip, number),
                **common,
                CONTAINER_PORT_NUMBER: str(number),
                CONTAINER_PORT_NAME: text(port, "name"),
                CONTAINER_PORT_PROTOCOL: text(port, "protocol"),
            })
    return TargetGroup(source(pod), tuple(targets), labels)


def pod_groups(pods: Iterable[Obj], related: Related) -> list[TargetGroup]:
    """Every pod's group."""
    return [pod_group(pod, related) for pod in pods]
