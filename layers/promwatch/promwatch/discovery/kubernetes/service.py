"""``role: service`` (a target per service port, at the service's DNS name) and ``role: ingress``
(a target per rule path, at the rule's host), as Prometheus builds them (pure)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

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
    objects,
    optional_text,
    port_number,
    strings,
    text,
)
from promwatch.discovery.kubernetes.pod import join_host_port
from promwatch.discovery.model import TargetGroup

SERVICE = META + "service_"
INGRESS = META + "ingress_"


def service_labels(service: Obj) -> dict[str, str]:
    """The namespace and the service's name, labels and annotations (attached to endpoints too)."""
    labels = {NAMESPACE_LABEL: namespace_of(service)}
    add_object_meta(labels, service, "service")
    return labels


def load_balancer_ips(service: Obj) -> str:
    """``status.loadBalancer.ingress`` IPs joined with commas, else the deprecated ``spec.loadBalancerIP``."""
    ips = [text(entry, "ip") for entry in objects(service, "status", "loadBalancer", "ingress")]
    ips = [ip for ip in ips if ip]
    return ",".join(ips) if ips else text(service, "spec", "loadBalancerIP")


def service_group(service: Obj, related: Related) -> TargetGroup:
    """One service's group: a target per port at ``<name>.<namespace>.svc:<port>``."""
    namespace = namespace_of(service)
    labels = service_labels(service)
    labels.update(namespace_labels(related, namespace))
    kind = text(service, "spec", "type")
    targets = []
    for port in objects(service, "spec", "ports"):
        number = port_number(port.get("port"))
        if number is None:
            continue
        target = {
            ADDRESS: join_host_port(f"{name_of(service)}.{namespace}.svc", number),
            SERVICE + "port_name": text(port, "name"),
            SERVICE + "port_number": str(number),
            SERVICE + "port_protocol": text(port, "protocol"),
            SERVICE + "type": kind,
        }
        if kind == "ExternalName":
            target[SERVICE + "external_name"] = text(service, "spec", "externalName")
        else:
            target[SERVICE + "cluster_ip"] = text(service, "spec", "clusterIP")
        if kind == "LoadBalancer":
            target[SERVICE + "loadbalancer_ip"] = load_balancer_ips(service)
        targets.append(target)
    return TargetGroup(f"svc/{namespace}/{name_of(service)}", tuple(targets), labels)


def service_groups(services: Iterable[Obj], related: Related) -> list[TargetGroup]:
    """Every service's group."""
    return [service_group(service, related) for service in services]


def matches_host_pattern(pattern: str, host: str) -> bool:
    """A TLS host ``pattern`` (``*.example.com`` or a name) covers ``host``, as Prometheus reads it."""
    if pattern == host:
        return True
    pattern_parts, host_parts = pattern.split("."), host.split(".")
    if pattern_parts[0] != "*" or len(pattern_parts) != len(host_parts):
        return False
    return pattern_parts[1:] == host_parts[1:]


def _rule_paths(rule: Obj) -> list[str]:
    http = field(rule, "http")
    if not isinstance(http, Mapping):
        return ["/"]  # no http section: the whole host
    return [text(path, "path") or "/" for path in objects(http, "paths")]


def ingress_group(ingress: Obj, related: Related) -> TargetGroup:
    """One ingress' group: a target per path of each rule, ``https`` when a TLS host covers the rule's."""
    namespace = namespace_of(ingress)
    labels = {NAMESPACE_LABEL: namespace}
    class_name = optional_text(ingress, "spec", "ingressClassName")
    if class_name is not None:
        labels[INGRESS + "class_name"] = class_name
    add_object_meta(labels, ingress, "ingress")
    labels.update(namespace_labels(related, namespace))
    tls_hosts = [host for entry in objects(ingress, "spec", "tls") for host in strings(entry, "hosts")]
    targets = []
    for rule in objects(ingress, "spec", "rules"):
        host = text(rule, "host")
        scheme = "https" if any(matches_host_pattern(pattern, host) for pattern in tls_hosts) else "http"
        for path in _rule_paths(rule):
            targets.append({ADDRESS: host, INGRESS + "scheme": scheme, INGRESS + "host": host, INGRESS + "path": path})
    return TargetGroup(f"ingress/{namespace}/{name_of(ingress)}", tuple(targets), labels)


def ingress_groups(ingresses: Iterable[Obj], related: Related) -> list[TargetGroup]:
    """Every ingress' group."""
    return [ingress_group(ingress, related) for ingress in ingresses]
