"""``role: pod``: one target per declared container port, one per container without ports (pure).

As Prometheus' pod role: a pod without an IP (starting, evicted) has no targets; containers come
first, then init containers; a container without ports gives a target whose ``__address__`` is
the pod IP alone (a relabel rule adds the port, e.g. from a ``prometheus.io/port`` annotation).
"""
from __future__ import annotations

from collections.abc import Iterable

from promwatch.discovery.kubernetes import objects as k8s
from promwatch.discovery.model import ADDRESS, TargetGroup, join_host_port

POD = k8s.META + "pod_"
CONTAINER_NAME = POD + "container_name"
CONTAINER_ID = POD + "container_id"
CONTAINER_IMAGE = POD + "container_image"
CONTAINER_PORT_NAME = POD + "container_port_name"
CONTAINER_PORT_NUMBER = POD + "container_port_number"
CONTAINER_PORT_PROTOCOL = POD + "container_port_protocol"
CONTAINER_INIT = POD + "container_init"


def source(pod: k8s.Obj) -> str:
    """``pod/<namespace>/<name>``, Prometheus' group source."""
    return "pod/" + k8s.key_of(pod)


def ready(pod: k8s.Obj) -> str:
    """The ``Ready`` condition's status in lower case (``true``, ``false``), ``unknown`` without one."""
    for condition in k8s.objects(pod, "status", "conditions"):
        if condition.get("type") == "Ready":
            return k8s.text(condition, "status").lower()
    return "unknown"


def pod_labels(pod: k8s.Obj, related: k8s.Related) -> dict[str, str]:
    """The pod's own labels: IP, ready, phase, node, host IP, UID, name, labels, annotations,
    controller (and deployment, job, cronjob names when attached), as Prometheus' podLabels."""
    labels = {
        POD + "ip": k8s.text(pod, "status", "podIP"),
        POD + "ready": ready(pod),
        POD + "phase": k8s.text(pod, "status", "phase"),
        POD + "node_name": k8s.text(pod, "spec", "nodeName"),
        POD + "host_ip": k8s.text(pod, "status", "hostIP"),
        POD + "uid": k8s.text(pod, "metadata", "uid"),
    }
    k8s.add_object_meta(labels, pod, "pod")
    controller = k8s.controller_of(pod)
    if controller is None:
        return labels
    kind, name = k8s.text(controller, "kind"), k8s.text(controller, "name")
    if kind:
        labels[POD + "controller_kind"] = kind
    if name:
        labels[POD + "controller_name"] = name
    namespace = k8s.namespace_of(pod)
    if kind == "ReplicaSet" and related.replicasets is not None:
        owner = _owner(related.replicasets.get(k8s.namespaced(namespace, name)))
        if owner is not None and k8s.text(owner, "kind") == "Deployment":
            labels[POD + "deployment_name"] = k8s.text(owner, "name")
    elif kind == "Job":
        if related.job_names:
            labels[POD + "job_name"] = name
        if related.jobs is not None:
            owner = _owner(related.jobs.get(k8s.namespaced(namespace, name)))
            if owner is not None and k8s.text(owner, "kind") == "CronJob":
                labels[POD + "cronjob_name"] = k8s.text(owner, "name")
    return labels


def _owner(obj: k8s.Obj | None) -> k8s.Obj | None:
    return None if obj is None else k8s.controller_of(obj)


def containers(pod: k8s.Obj) -> list[tuple[k8s.Obj, bool]]:
    """``(container, is_init)``: the containers, then the init containers."""
    return [(c, False) for c in k8s.objects(pod, "spec", "containers")] + \
        [(c, True) for c in k8s.objects(pod, "spec", "initContainers")]


def container_ports(container: k8s.Obj) -> list[tuple[int, k8s.Obj]]:
    """``(number, port)`` of each declared port with a valid number."""
    found = []
    for port in k8s.objects(container, "ports"):
        number = k8s.port_number(port.get("containerPort"))
        if number is not None:
            found.append((number, port))
    return found


def container_labels(container: k8s.Obj, init: bool) -> dict[str, str]:
    """A container's name, image and whether it is an init container."""
    return {
        CONTAINER_NAME: k8s.text(container, "name"),
        CONTAINER_IMAGE: k8s.text(container, "image"),
        CONTAINER_INIT: "true" if init else "false",
    }


def port_labels(number: int, port: k8s.Obj, protocol: str | None = None) -> dict[str, str]:
    """A declared container port's number, name and protocol (``protocol``: another's, e.g. an
    endpoint port's, instead of the container port's own)."""
    return {
        CONTAINER_PORT_NUMBER: str(number),
        CONTAINER_PORT_NAME: k8s.text(port, "name"),
        CONTAINER_PORT_PROTOCOL: k8s.text(port, "protocol") if protocol is None else protocol,
    }


def _container_ids(pod: k8s.Obj, init: bool) -> dict[str, str]:
    statuses = k8s.objects(pod, "status", "initContainerStatuses" if init else "containerStatuses")
    ids: dict[str, str] = {}
    for status in statuses:
        ids.setdefault(k8s.text(status, "name"), k8s.text(status, "containerID"))
    return ids


def pod_group(pod: k8s.Obj, related: k8s.Related) -> TargetGroup:
    """One pod's target group (no targets while it has no IP, or is on a node not listed when
    ``attach_metadata.node`` is set: such nodes were filtered out by a node selector)."""
    pod_ip = k8s.text(pod, "status", "podIP")
    node_name = k8s.text(pod, "spec", "nodeName")
    if not pod_ip or (related.nodes is not None and node_name not in related.nodes):
        return TargetGroup(source(pod), ())
    namespace = k8s.namespace_of(pod)
    labels = pod_labels(pod, related)
    labels[k8s.NAMESPACE_LABEL] = namespace
    labels.update(k8s.node_labels(related, node_name))
    labels.update(k8s.namespace_labels(related, namespace))
    ids = {False: _container_ids(pod, False), True: _container_ids(pod, True)}
    targets: list[dict[str, str]] = []
    for container, init in containers(pod):
        common = container_labels(container, init)
        common[CONTAINER_ID] = ids[init].get(common[CONTAINER_NAME], "")
        ports = container_ports(container)
        if not ports:
            targets.append({ADDRESS: pod_ip, **common})
        for number, port in ports:
            targets.append({ADDRESS: join_host_port(pod_ip, number), **common, **port_labels(number, port)})
    return TargetGroup(source(pod), tuple(targets), labels)


def pod_groups(pods: Iterable[k8s.Obj], related: k8s.Related) -> list[TargetGroup]:
    """Every pod's group."""
    return [pod_group(pod, related) for pod in pods]
