"""``role: service`` (a target per service port, at the service's DNS name) and ``role: ingress``
(a target per rule path, at the rule's host), as Prometheus builds them (pure)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from promwatch.discovery.kubernetes import objects as k8s
from promwatch.discovery.model import ADDRESS, TargetGroup, join_host_port

SERVICE = k8s.META + "service_"
INGRESS = k8s.META + "ingress_"


def load_balancer_ips(service: k8s.Obj) -> str:
    """``status.loadBalancer.ingress`` IPs joined with commas, else the deprecated ``spec.loadBalancerIP``."""
    ips = [k8s.text(entry, "ip") for entry in k8s.objects(service, "status", "loadBalancer", "ingress")]
    ips = [ip for ip in ips if ip]
    return ",".join(ips) if ips else k8s.text(service, "spec", "loadBalancerIP")


def service_group(service: k8s.Obj, related: k8s.Related) -> TargetGroup:
    """One service's group: a target per port at ``<name>.<namespace>.svc:<port>``."""
    namespace = k8s.namespace_of(service)
    labels = k8s.group_labels(service, "service", related)
    kind = k8s.text(service, "spec", "type")
    targets = []
    for port in k8s.objects(service, "spec", "ports"):
        number = k8s.port_number(port.get("port"))
        if number is None:
            continue
        target = {
            ADDRESS: join_host_port(f"{k8s.name_of(service)}.{namespace}.svc", number),
            SERVICE + "port_name": k8s.text(port, "name"),
            SERVICE + "port_number": str(number),
            SERVICE + "port_protocol": k8s.text(port, "protocol"),
            SERVICE + "type": kind,
        }
        if kind == "ExternalName":
            target[SERVICE + "external_name"] = k8s.text(service, "spec", "externalName")
        else:
            target[SERVICE + "cluster_ip"] = k8s.text(service, "spec", "clusterIP")
        if kind == "LoadBalancer":
            target[SERVICE + "loadbalancer_ip"] = load_balancer_ips(service)
        targets.append(target)
    return TargetGroup(f"svc/{namespace}/{k8s.name_of(service)}", tuple(targets), labels)


def service_groups(services: Iterable[k8s.Obj], related: k8s.Related) -> list[TargetGroup]:
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


def _rule_paths(rule: k8s.Obj) -> list[str]:
    http = k8s.field(rule, "http")
    if not isinstance(http, Mapping):
        return ["/"]  # no http section: the whole host
    return [k8s.text(path, "path") or "/" for path in k8s.objects(http, "paths")]


def ingress_group(ingress: k8s.Obj, related: k8s.Related) -> TargetGroup:
    """One ingress' group: a target per path of each rule, ``https`` when a TLS host covers the rule's."""
    namespace = k8s.namespace_of(ingress)
    labels = k8s.group_labels(ingress, "ingress", related)
    class_name = k8s.optional_text(ingress, "spec", "ingressClassName")
    if class_name is not None:
        labels[INGRESS + "class_name"] = class_name
    tls_hosts = [host for entry in k8s.objects(ingress, "spec", "tls") for host in k8s.strings(entry, "hosts")]
    targets = []
    for rule in k8s.objects(ingress, "spec", "rules"):
        host = k8s.text(rule, "host")
        scheme = "https" if any(matches_host_pattern(pattern, host) for pattern in tls_hosts) else "http"
        for path in _rule_paths(rule):
            targets.append({ADDRESS: host, INGRESS + "scheme": scheme, INGRESS + "host": host, INGRESS + "path": path})
    return TargetGroup(f"ingress/{namespace}/{k8s.name_of(ingress)}", tuple(targets), labels)


def ingress_groups(ingresses: Iterable[k8s.Obj], related: k8s.Related) -> list[TargetGroup]:
    """Every ingress' group."""
    return [ingress_group(ingress, related) for ingress in ingresses]
