"""``role: endpoints`` and ``role: endpointslice``: a target per endpoint address and port, joined
with the service and, for addresses backed by a pod, the pod's labels (pure).

As Prometheus: a pod's container ports that no endpoint port covers become targets as well
(with the pod's labels only); the Endpoints object's service is the one of the same name, an
EndpointSlice's is named by its ``kubernetes.io/service-name`` label; a dual-stack service's
slice of its secondary IP family gives no targets (they would duplicate the primary's).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from promwatch.discovery.kubernetes import objects as k8s
from promwatch.discovery.kubernetes.pod import (
    container_labels,
    container_ports,
    containers,
    pod_labels,
    port_labels,
)
from promwatch.discovery.model import ADDRESS, TargetGroup, join_host_port, sanitize_label_name

ENDPOINT = k8s.META + "endpoint_"
SLICE = k8s.META + "endpointslice_"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


class _PodTargets:
    """The pods endpoint addresses resolved to, and the ports their endpoints covered."""

    def __init__(self, pods: Mapping[str, k8s.Obj], related: k8s.Related) -> None:
        self._pods = pods
        self._related = related
        self._seen: dict[str, tuple[k8s.Obj, list[int | None]]] = {}

    def attach(self, target: dict[str, str], reference: k8s.Obj | None, port: int | None, protocol: str | None) -> None:
        """Add the labels of the pod ``reference`` points to, and of its container that declares
        ``port`` (with ``protocol``, None: the container port's own), to ``target``."""
        if reference is None or k8s.text(reference, "kind") != "Pod":
            return
        pod = self._pods.get(k8s.namespaced(k8s.text(reference, "namespace"), k8s.text(reference, "name")))
        if pod is None:
            return
        entry = self._seen.setdefault(k8s.key_of(pod), (pod, []))
        target.update(pod_labels(pod, self._related))
        for container, init in containers(pod):
            for number, container_port in container_ports(container):
                if port is not None and number == port:
                    target.update(container_labels(container, init))
                    target.update(port_labels(number, container_port, protocol))
                    break
        entry[1].append(port)

    def uncovered(self) -> list[dict[str, str]]:
        """A target per container port of the seen pods that no endpoint port covered."""
        targets = []
        for pod, covered in self._seen.values():
            pod_ip = k8s.text(pod, "status", "podIP")
            if not pod_ip:
                continue
            for container, init in containers(pod):
                for number, container_port in container_ports(container):
                    if number in covered:
                        continue
                    targets.append({
                        ADDRESS: join_host_port(pod_ip, number),
                        **container_labels(container, init),
                        **port_labels(number, container_port),
                        **pod_labels(pod, self._related),
                    })
        return targets


def endpoints_group(endpoints: k8s.Obj, services: Mapping[str, k8s.Obj], pods: Mapping[str, k8s.Obj],
                    related: k8s.Related) -> TargetGroup:
    """One Endpoints object's group."""
    namespace, name = k8s.namespace_of(endpoints), k8s.name_of(endpoints)
    labels = k8s.group_labels(endpoints, "endpoints", related)
    service = services.get(k8s.namespaced(namespace, name))
    if service is not None:
        labels.update(k8s.object_labels(service, "service"))
    pod_targets = _PodTargets(pods, related)
    targets: list[dict[str, str]] = []
    for subset in k8s.objects(endpoints, "subsets"):
        for port in k8s.objects(subset, "ports"):
            number = k8s.port_number(port.get("port"))
            if number is None:
                continue
            protocol = k8s.text(port, "protocol")
            for key, ready in (("addresses", "true"), ("notReadyAddresses", "false")):
                for address in k8s.objects(subset, key):
                    target = {
                        ADDRESS: join_host_port(k8s.text(address, "ip"), number),
                        ENDPOINT + "port_name": k8s.text(port, "name"),
                        ENDPOINT + "port_protocol": protocol,
                        ENDPOINT + "ready": ready,
                    }
                    reference = k8s.field(address, "targetRef")
                    reference = reference if isinstance(reference, Mapping) else None
                    if reference is not None:
                        target[ENDPOINT + "address_target_kind"] = k8s.text(reference, "kind")
                        target[ENDPOINT + "address_target_name"] = k8s.text(reference, "name")
                    node_name = k8s.optional_text(address, "nodeName")
                    if node_name is not None:
                        target[ENDPOINT + "node_name"] = node_name
                    if k8s.text(address, "hostname"):
                        target[ENDPOINT + "hostname"] = k8s.text(address, "hostname")
                    if node_name is None and reference is not None and k8s.text(reference, "kind") == "Node":
                        node_name = k8s.text(reference, "name")
                    target.update(k8s.node_labels(related, node_name))
                    pod_targets.attach(target, reference, number, protocol)
                    targets.append(target)
    targets.extend(pod_targets.uncovered())
    return TargetGroup(f"endpoints/{namespace}/{name}", tuple(targets), labels)


def secondary_family_slice(service: k8s.Obj | None, endpoint_slice: k8s.Obj) -> bool:
    """True for the slice of a dual-stack service's secondary IP family."""
    if service is None:
        return False
    if k8s.text(service, "spec", "ipFamilyPolicy") not in ("PreferDualStack", "RequireDualStack"):
        return False
    families = k8s.strings(service, "spec", "ipFamilies")
    return bool(families) and k8s.text(endpoint_slice, "addressType") != families[0]


def _slice_target(address: str, endpoint: k8s.Obj, port: k8s.Obj, number: int | None) -> dict[str, str]:
    target = {ADDRESS: address if number is None else join_host_port(address, number)}
    for key, label in (("name", "port_name"), ("protocol", "port_protocol"), ("appProtocol", "port_app_protocol")):
        value = k8s.optional_text(port, key)
        if value is not None:
            target[SLICE + label] = value
    if number is not None:
        target[SLICE + "port"] = str(number)
    for condition in ("ready", "serving", "terminating"):
        state = k8s.optional_bool(endpoint, "conditions", condition)
        if state is not None:
            target[f"{SLICE}endpoint_conditions_{condition}"] = "true" if state else "false"
    hostname = k8s.optional_text(endpoint, "hostname")
    if hostname is not None:
        target[SLICE + "endpoint_hostname"] = hostname
    reference = k8s.field(endpoint, "targetRef")
    if isinstance(reference, Mapping):
        target[SLICE + "address_target_kind"] = k8s.text(reference, "kind")
        target[SLICE + "address_target_name"] = k8s.text(reference, "name")
    for key, label in (("nodeName", "endpoint_node_name"), ("zone", "endpoint_zone")):
        value = k8s.optional_text(endpoint, key)
        if value is not None:
            target[SLICE + label] = value
    for name, value in k8s.string_map(endpoint, "deprecatedTopology").items():
        target[SLICE + "endpoint_topology_" + sanitize_label_name(name)] = value
        target[SLICE + "endpoint_topology_present_" + sanitize_label_name(name)] = "true"
    return target


def endpointslice_group(endpoint_slice: k8s.Obj, services: Mapping[str, k8s.Obj], pods: Mapping[str, k8s.Obj],
                        related: k8s.Related) -> TargetGroup:
    """One EndpointSlice's group."""
    namespace, name = k8s.namespace_of(endpoint_slice), k8s.name_of(endpoint_slice)
    labels = k8s.group_labels(endpoint_slice, "endpointslice", related)
    labels[SLICE + "address_type"] = k8s.text(endpoint_slice, "addressType")
    service_name = k8s.string_map(endpoint_slice, "metadata", "labels").get(SERVICE_NAME_LABEL)
    service = services.get(k8s.namespaced(namespace, service_name)) if service_name is not None else None
    if service is not None:
        labels.update(k8s.object_labels(service, "service"))
    source = f"endpointslice/{namespace}/{name}"
    if secondary_family_slice(service, endpoint_slice):
        return TargetGroup(source, (), labels)
    pod_targets = _PodTargets(pods, related)
    targets: list[dict[str, str]] = []
    for endpoint in k8s.objects(endpoint_slice, "endpoints"):
        reference = k8s.field(endpoint, "targetRef")
        reference = reference if isinstance(reference, Mapping) else None
        if reference is not None and k8s.text(reference, "kind") == "Node":
            node_name: str | None = k8s.text(reference, "name")
        else:
            node_name = k8s.optional_text(endpoint, "nodeName")
        for port in k8s.objects(endpoint_slice, "ports"):
            number = k8s.port_number(port.get("port"))
            for address in k8s.strings(endpoint, "addresses"):
                target = _slice_target(address, endpoint, port, number)
                target.update(k8s.node_labels(related, node_name))
                pod_targets.attach(target, reference, number, None)
                targets.append(target)
    targets.extend(pod_targets.uncovered())
    return TargetGroup(source, tuple(targets), labels)


def endpoints_groups(items: Iterable[k8s.Obj], services: Iterable[k8s.Obj], pods: Iterable[k8s.Obj],
                     related: k8s.Related) -> list[TargetGroup]:
    """Every Endpoints object's group."""
    by_service, by_pod = k8s.by_key(services), k8s.by_key(pods)
    return [endpoints_group(item, by_service, by_pod, related) for item in items]


def endpointslice_groups(items: Iterable[k8s.Obj], services: Iterable[k8s.Obj], pods: Iterable[k8s.Obj],
                         related: k8s.Related) -> list[TargetGroup]:
    """Every EndpointSlice's group."""
    by_service, by_pod = k8s.by_key(services), k8s.by_key(pods)
    return [endpointslice_group(item, by_service, by_pod, related) for item in items]
