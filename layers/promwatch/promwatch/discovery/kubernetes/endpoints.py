"""``role: endpoints`` and ``role: endpointslice``: a target per endpoint address and port, joined
with the service and, for addresses backed by a pod, the pod's labels (pure).

As Prometheus: a pod's container ports that no endpoint port covers become targets as well
(with the pod's labels only); the Endpoints object's service is the one of the same name, an
EndpointSlice's is named by its ``kubernetes.io/service-name`` label; a dual-stack service's
slice of its secondary IP family gives no targets (they would duplicate the primary's).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from promwatch.discovery.kubernetes.objects import (
    ADDRESS,
    META,
    NAMESPACE_LABEL,
    Obj,
    Related,
    add_object_meta,
    field,
    name_of,
    namespace_labels,
    namespace_of,
    namespaced,
    node_labels,
    objects,
    optional_bool,
    optional_text,
    port_number,
    sanitize,
    string_map,
    strings,
    text,
)
from promwatch.discovery.kubernetes.pod import (
    CONTAINER_IMAGE,
    CONTAINER_INIT,
    CONTAINER_NAME,
    CONTAINER_PORT_NAME,
    CONTAINER_PORT_NUMBER,
    CONTAINER_PORT_PROTOCOL,
    container_ports,
    containers,
    join_host_port,
    pod_labels,
)
from promwatch.discovery.kubernetes.service import service_labels
from promwatch.discovery.model import TargetGroup

ENDPOINT = META + "endpoint_"
SLICE = META + "endpointslice_"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


class _PodTargets:
    """The pods endpoint addresses resolved to, and the ports their endpoints covered."""

    def __init__(self, pods: Mapping[str, Obj], related: Related) -> None:
        self._pods = pods
        self._related = related
        self._seen: dict[str, tuple[Obj, list[int | None]]] = {}

    def attach(self, target: dict[str, str], reference: Obj | None, port: int | None,
               protocol: Callable[[Obj], str]) -> None:
        """Add the labels of the pod ``reference`` points to, and of its container that declares
        ``port`` (its protocol from ``protocol(container_port)``), to ``target``."""
        if reference is None or text(reference, "kind") != "Pod":
            return
        pod = self._pods.get(namespaced(text(reference, "namespace"), text(reference, "name")))
        if pod is None:
            return
        entry = self._seen.setdefault(namespaced(namespace_of(pod), name_of(pod)), (pod, []))
        target.update(pod_labels(pod, self._related))
        for container, init in containers(pod):
            for number, container_port in container_ports(container):
                if port is not None and number == port:
                    target.update({
                        CONTAINER_NAME: text(container, "name"),
                        CONTAINER_IMAGE: text(container, "image"),
                        CONTAINER_PORT_NAME: text(container_port, "name"),
                        CONTAINER_PORT_NUMBER: str(number),
                        CONTAINER_PORT_PROTOCOL: protocol(container_port),
                        CONTAINER_INIT: "true" if init else "false",
                    })
                    break
        entry[1].append(port)

    def uncovered(self) -> list[dict[str, str]]:
        """A target per container port of the seen pods that no endpoint port covered."""
        targets = []
        for pod, covered in self._seen.values():
            pod_ip = text(pod, "status", "podIP")
            if not pod_ip:
                continue
            for container, init in containers(pod):
                for number, container_port in container_ports(container):
                    if number in covered:
                        continue
                    targets.append({
                        ADDRESS: join_host_port(pod_ip, number),
                        CONTAINER_NAME: text(container, "name"),
                        CONTAINER_IMAGE: text(container, "image"),
                        CONTAINER_PORT_NAME: text(container_port, "name"),
                        CONTAINER_PORT_NUMBER: str(number),
                        CONTAINER_PORT_PROTOCOL: text(container_port, "protocol"),
                        CONTAINER_INIT: "true" if init else "false",
                        **pod_labels(pod, self._related),
                    })
        return targets


def endpoints_group(endpoints: Obj, services: Mapping[str, Obj], pods: Mapping[str, Obj],
                    related: Related) -> TargetGroup:
    """One Endpoints object's group."""
    namespace, name = namespace_of(endpoints), name_of(endpoints)
    labels = {NAMESPACE_LABEL: namespace}
    service = services.get(namespaced(namespace, name))
    if service is not None:
        labels.update(service_labels(service))
    add_object_meta(labels, endpoints, "endpoints")
    labels.update(namespace_labels(related, namespace))
    pod_targets = _PodTargets(pods, related)
    targets: list[dict[str, str]] = []
    for subset in objects(endpoints, "subsets"):
        for port in objects(subset, "ports"):
            number = port_number(port.get("port"))
            if number is None:
                continue
            protocol = text(port, "protocol")
            for key, ready in (("addresses", "true"), ("notReadyAddresses", "false")):
                for address in objects(subset, key):
                    target = {
                        ADDRESS: join_host_port(text(address, "ip"), number),
                        ENDPOINT + "port_name": text(port, "name"),
                        ENDPOINT + "port_protocol": protocol,
                        ENDPOINT + "ready": ready,
                    }
                    reference = field(address, "targetRef")
                    reference = reference if isinstance(reference, Mapping) else None
                    if reference is not None:
                        target[ENDPOINT + "address_target_kind"] = text(reference, "kind")
                        target[ENDPOINT + "address_target_name"] = text(reference, "name")
                    node_name = optional_text(address, "nodeName")
                    if node_name is not None:
                        target[ENDPOINT + "node_name"] = node_name
                    if text(address, "hostname"):
                        target[ENDPOINT + "hostname"] = text(address, "hostname")
                    if node_name is None and reference is not None and text(reference, "kind") == "Node":
                        node_name = text(reference, "name")
                    target.update(node_labels(related, node_name))
                    pod_targets.attach(target, reference, number, _fixed(protocol))
                    targets.append(target)
    targets.extend(pod_targets.uncovered())
    return TargetGroup(f"endpoints/{namespace}/{name}", tuple(targets), labels)


def _fixed(protocol: str) -> Callable[[Obj], str]:
    """The endpoint port's protocol, whatever the container port says (as Prometheus' endpoints role)."""
    return lambda _container_port: protocol


def _container_protocol(container_port: Obj) -> str:
    return text(container_port, "protocol")


def secondary_family_slice(service: Obj | None, endpoint_slice: Obj) -> bool:
    """True for the slice of a dual-stack service's secondary IP family."""
    if service is None:
        return False
    if text(service, "spec", "ipFamilyPolicy") not in ("PreferDualStack", "RequireDualStack"):
        return False
    families = strings(service, "spec", "ipFamilies")
    return bool(families) and text(endpoint_slice, "addressType") != families[0]


def _slice_target(address: str, endpoint: Obj, port: Obj, number: int | None) -> dict[str, str]:
    target = {ADDRESS: address if number is None else join_host_port(address, number)}
    for key, label in (("name", "port_name"), ("protocol", "port_protocol"), ("appProtocol", "port_app_protocol")):
        value = optional_text(port, key)
        if value is not None:
            target[SLICE + label] = value
    if number is not None:
        target[SLICE + "port"] = str(number)
    for condition in ("ready", "serving", "terminating"):
        state = optional_bool(endpoint, "conditions", condition)
        if state is not None:
            target[f"{SLICE}endpoint_conditions_{condition}"] = "true" if state else "false"
    hostname = optional_text(endpoint, "hostname")
    if hostname is not None:
        target[SLICE + "endpoint_hostname"] = hostname
    reference = field(endpoint, "targetRef")
    if isinstance(reference, Mapping):
        target[SLICE + "address_target_kind"] = text(reference, "kind")
        target[SLICE + "address_target_name"] = text(reference, "name")
    for key, label in (("nodeName", "endpoint_node_name"), ("zone", "endpoint_zone")):
        value = optional_text(endpoint, key)
        if value is not None:
            target[SLICE + label] = value
    for name, value in string_map(endpoint, "deprecatedTopology").items():
        target[SLICE + "endpoint_topology_" + sanitize(name)] = value
        target[SLICE + "endpoint_topology_present_" + sanitize(name)] = "true"
    return target


def endpointslice_group(endpoint_slice: Obj, services: Mapping[str, Obj], pods: Mapping[str, Obj],
                        related: Related) -> TargetGroup:
    """One EndpointSlice's group."""
    namespace, name = namespace_of(endpoint_slice), name_of(endpoint_slice)
    labels = {NAMESPACE_LABEL: namespace, SLICE + "address_type": text(endpoint_slice, "addressType")}
    add_object_meta(labels, endpoint_slice, "endpointslice")
    service_name = string_map(endpoint_slice, "metadata", "labels").get(SERVICE_NAME_LABEL)
    service = services.get(namespaced(namespace, service_name)) if service_name is not None else None
    if service is not None:
        labels.update(service_labels(service))
    labels.update(namespace_labels(related, namespace))
    source = f"endpointslice/{namespace}/{name}"
    if secondary_family_slice(service, endpoint_slice):
        return TargetGroup(source, (), labels)
    pod_targets = _PodTargets(pods, related)
    targets: list[dict[str, str]] = []
    for endpoint in objects(endpoint_slice, "endpoints"):
        reference = field(endpoint, "targetRef")
        reference = reference if isinstance(reference, Mapping) else None
        if reference is not None and text(reference, "kind") == "Node":
            node_name: str | None = text(reference, "name")
        else:
            node_name = optional_text(endpoint, "nodeName")
        for port in objects(endpoint_slice, "ports"):
            number = port_number(port.get("port"))
            for address in strings(endpoint, "addresses"):
                target = _slice_target(address, endpoint, port, number)
                target.update(node_labels(related, node_name))
                pod_targets.attach(target, reference, number, _container_protocol)
                targets.append(target)
    targets.extend(pod_targets.uncovered())
    return TargetGroup(source, tuple(targets), labels)


def endpoints_groups(items: Iterable[Obj], services: Iterable[Obj], pods: Iterable[Obj],
                     related: Related) -> list[TargetGroup]:
    """Every Endpoints object's group."""
    by_service, by_pod = _index(services), _index(pods)
    return [endpoints_group(item, by_service, by_pod, related) for item in items]


def endpointslice_groups(items: Iterable[Obj], services: Iterable[Obj], pods: Iterable[Obj],
                         related: Related) -> list[TargetGroup]:
    """Every EndpointSlice's group."""
    by_service, by_pod = _index(services), _index(pods)
    return [endpointslice_group(item, by_service, by_pod, related) for item in items]


def _index(items: Iterable[Obj]) -> dict[str, Obj]:
    return {namespaced(namespace_of(item), name_of(item)): item for item in items}
