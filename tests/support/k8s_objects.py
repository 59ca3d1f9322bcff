"""Kubernetes API objects shaped as the API server returns them in a list (JSON, items without
``kind``/``apiVersion``), after the API reference (core/v1 Pod, Service, Endpoints, Node,
Namespace; discovery.k8s.io/v1 EndpointSlice; networking.k8s.io/v1 Ingress; apps/v1 ReplicaSet;
batch/v1 Job): metadata with uid, resourceVersion, creationTimestamp, ownerReferences and
managedFields; Pod status with conditions, podIP(s), hostIP(s) and containerStatuses; Node status
with addresses, conditions and daemonEndpoints.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

CREATED = "2025-03-14T09:26:53Z"
_RESOURCE_VERSIONS = iter(range(48_213, 10**9))


def _uid(kind: str, namespace: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"k8s://{kind}/{namespace}/{name}"))


def metadata(kind: str, name: str, namespace: str | None = None, *, labels: Mapping[str, str] | None = None,
             annotations: Mapping[str, str] | None = None, owner: tuple[str, str, str] | None = None,
             manager: str = "kube-controller-manager") -> dict[str, Any]:
    """``ObjectMeta``; ``owner`` is ``(apiVersion, kind, name)`` of the controlling object."""
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta.update({
        "uid": _uid(kind, namespace or "", name),
        "resourceVersion": str(next(_RESOURCE_VERSIONS)),
        "creationTimestamp": CREATED,
    })
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    if owner is not None:
        api_version, owner_kind, owner_name = owner
        meta["ownerReferences"] = [{
            "apiVersion": api_version, "kind": owner_kind, "name": owner_name,
            "uid": _uid(owner_kind, namespace or "", owner_name), "controller": True, "blockOwnerDeletion": True,
        }]
    meta["managedFields"] = [{
        "manager": manager, "operation": "Update", "apiVersion": "v1", "time": CREATED,
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": {f"f:{k}": {} for k in (labels or {})}}},
    }]
    return meta


def container(name: str, image: str, ports: Iterable[tuple[str, int, str]] = ()) -> dict[str, Any]:
    """A ``Container``; ``ports`` as ``(name, containerPort, protocol)`` (an empty name: unnamed)."""
    body: dict[str, Any] = {"name": name, "image": image}
    declared = [{"containerPort": number, "protocol": protocol, **({"name": port_name} if port_name else {})}
                for port_name, number, protocol in ports]
    if declared:
        body["ports"] = declared
    body.update({
        "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "50m", "memory": "64Mi"}},
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    })
    return body


def _status(container_body: Mapping[str, Any], ready: bool, index: int) -> dict[str, Any]:
    return {
        "name": container_body["name"], "state": {"running": {"startedAt": CREATED}}, "lastState": {},
        "ready": ready, "restartCount": 0, "image": container_body["image"],
        "imageID": f"{container_body['image'].split(':')[0]}@sha256:{index:064x}",
        "containerID": f"containerd://{uuid.uuid5(uuid.NAMESPACE_OID, container_body['name'] + str(index)).hex}"
                       f"{index:032x}",
        "started": True,
    }


def pod(name: str, namespace: str, ip: str, *, node: str, containers: list[dict[str, Any]],
        init_containers: list[dict[str, Any]] | None = None, labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None, owner: tuple[str, str] | None = None,
        phase: str = "Running", ready: bool = True, host_ip: str = "10.0.1.17") -> dict[str, Any]:
    """A ``Pod`` scheduled on ``node``; ``owner`` is ``(kind, name)`` (ReplicaSet, DaemonSet, Job...)."""
    api_version = {"ReplicaSet": "apps/v1", "DaemonSet": "apps/v1", "StatefulSet": "apps/v1",
                   "Job": "batch/v1"}.get(owner[0], "v1") if owner else "v1"
    status = "True" if ready else "False"
    body: dict[str, Any] = {
        "metadata": metadata("Pod", name, namespace, labels=labels, annotations=annotations,
                             owner=(api_version, *owner) if owner else None, manager="kubelet"),
        "spec": {
            "containers": containers,
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default", "serviceAccount": "default", "nodeName": node,
            "securityContext": {}, "schedulerName": "default-scheduler",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                             "effect": "NoExecute", "tolerationSeconds": 300}],
            "priority": 0, "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
        },
        "status": {
            "phase": phase,
            "conditions": [
                {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": CREATED},
                {"type": "Ready", "status": status, "lastProbeTime": None, "lastTransitionTime": CREATED},
                {"type": "ContainersReady", "status": status, "lastProbeTime": None, "lastTransitionTime": CREATED},
                {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": CREATED},
            ],
            "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
            "startTime": CREATED,
            "containerStatuses": [_status(c, ready, i) for i, c in enumerate(containers)],
            "qosClass": "Burstable",
        },
    }
    if ip:
        body["status"]["podIP"] = ip
        body["status"]["podIPs"] = [{"ip": ip}]
    if init_containers:
        body["spec"]["initContainers"] = init_containers
        body["status"]["initContainerStatuses"] = [_status(c, True, 100 + i) for i, c in enumerate(init_containers)]
    return body


def service(name: str, namespace: str, ports: Iterable[tuple[str, int, int | str]], *, cluster_ip: str,
            kind: str = "ClusterIP", selector: Mapping[str, str] | None = None,
            labels: Mapping[str, str] | None = None, annotations: Mapping[str, str] | None = None,
            load_balancer: Iterable[str] = (), external_name: str = "",
            dual_stack: tuple[str, ...] = ()) -> dict[str, Any]:
    """A ``Service``; ``ports`` as ``(name, port, targetPort)``."""
    spec: dict[str, Any] = {
        "ports": [{"name": port_name, "protocol": "TCP", "port": port, "targetPort": target}
                  for port_name, port, target in ports],
        "type": kind, "sessionAffinity": "None", "internalTrafficPolicy": "Cluster",
    }
    if kind == "ExternalName":
        spec["externalName"] = external_name
    else:
        spec.update({"clusterIP": cluster_ip, "clusterIPs": [cluster_ip], "selector": dict(selector or {}),
                     "ipFamilies": list(dual_stack or ("IPv4",)),
                     "ipFamilyPolicy": "PreferDualStack" if dual_stack else "SingleStack"})
    status: dict[str, Any] = {"loadBalancer": {}}
    if load_balancer:
        status["loadBalancer"] = {"ingress": [{"ip": ip, "ipMode": "VIP"} for ip in load_balancer]}
    return {"metadata": metadata("Service", name, namespace, labels=labels, annotations=annotations),
            "spec": spec, "status": status}


def endpoint_slice(name: str, namespace: str, service_name: str, *,
                   endpoints: Iterable[Mapping[str, Any]], ports: Iterable[tuple[str, int]],
                   address_type: str = "IPv4") -> dict[str, Any]:
    """An ``EndpointSlice`` of ``service_name``; each endpoint ``{"ip", "pod", "node", "zone", "ready"}``."""
    return {
        "metadata": metadata("EndpointSlice", name, namespace, labels={
            "kubernetes.io/service-name": service_name,
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        }, annotations={"endpoints.kubernetes.io/last-change-trigger-time": CREATED},
            owner=("v1", "Service", service_name), manager="kube-controller-manager"),
        "addressType": address_type,
        "endpoints": [{
            "addresses": [endpoint["ip"]],
            "conditions": {"ready": endpoint.get("ready", True), "serving": endpoint.get("ready", True),
                           "terminating": False},
            "targetRef": {"kind": "Pod", "namespace": namespace, "name": endpoint["pod"],
                          "uid": _uid("Pod", namespace, endpoint["pod"])},
            "nodeName": endpoint["node"], "zone": endpoint.get("zone", "eu-west-1a"),
        } for endpoint in endpoints],
        "ports": [{"name": port_name, "protocol": "TCP", "port": port} for port_name, port in ports],
    }


def endpoints(name: str, namespace: str, *, ready: Iterable[Mapping[str, Any]],
              not_ready: Iterable[Mapping[str, Any]] = (), ports: Iterable[tuple[str, int]]) -> dict[str, Any]:
    """An ``Endpoints`` object with one subset; each address ``{"ip", "pod", "node"}``."""
    def address(entry: Mapping[str, Any]) -> dict[str, Any]:
        return {"ip": entry["ip"], "nodeName": entry["node"],
                "targetRef": {"kind": "Pod", "namespace": namespace, "name": entry["pod"],
                              "uid": _uid("Pod", namespace, entry["pod"])}}
    subset: dict[str, Any] = {"addresses": [address(e) for e in ready],
                              "ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in ports]}
    late = [address(e) for e in not_ready]
    if late:
        subset["notReadyAddresses"] = late
    return {"metadata": metadata("Endpoints", name, namespace,
                                 annotations={"endpoints.kubernetes.io/last-change-trigger-time": CREATED}),
            "subsets": [subset]}


def node(name: str, internal_ip: str, *, labels: Mapping[str, str] | None = None, kubelet_port: int = 10250,
         external_ip: str | None = None, ready: bool = True) -> dict[str, Any]:
    """A ``Node`` (an EKS managed node group's EC2 instance)."""
    addresses = [{"type": "InternalIP", "address": internal_ip}]
    if external_ip:
        addresses.append({"type": "ExternalIP", "address": external_ip})
    addresses += [{"type": "InternalDNS", "address": name}, {"type": "Hostname", "address": name}]
    conditions = [
        {"type": kind, "status": "False", "lastHeartbeatTime": CREATED, "lastTransitionTime": CREATED,
         "reason": f"KubeletHasNo{kind}", "message": f"kubelet has no {kind}"}
        for kind in ("MemoryPressure", "DiskPressure", "PIDPressure")
    ] + [{"type": "Ready", "status": "True" if ready else "Unknown", "lastHeartbeatTime": CREATED,
          "lastTransitionTime": CREATED, "reason": "KubeletReady", "message": "kubelet is posting ready status"}]
    return {
        "metadata": metadata("Node", name, labels={
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
            "topology.kubernetes.io/zone": "eu-west-1a", **(labels or {})},
            annotations={"node.alpha.kubernetes.io/ttl": "0",
                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"}, manager="kubelet"),
        "spec": {"providerID": f"aws:///eu-west-1a/i-0{uuid.uuid5(uuid.NAMESPACE_DNS, name).hex[:16]}"},
        "status": {
            "capacity": {"cpu": "2", "memory": "8012520Ki", "pods": "29"},
            "allocatable": {"cpu": "1930m", "memory": "7323368Ki", "pods": "29"},
            "conditions": conditions, "addresses": addresses,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet_port}},
            "nodeInfo": {"kubeletVersion": "v1.31.4-eks-aeac579", "containerRuntimeVersion": "containerd://1.7.25",
                         "operatingSystem": "linux", "architecture": "amd64"},
        },
    }


def namespace(name: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A ``Namespace``."""
    return {"metadata": metadata("Namespace", name, labels={"kubernetes.io/metadata.name": name, **(labels or {})}),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def replica_set(name: str, namespace_name: str, deployment: str) -> dict[str, Any]:
    """A ``ReplicaSet`` controlled by ``deployment``."""
    return {"metadata": metadata("ReplicaSet", name, namespace_name, owner=("apps/v1", "Deployment", deployment)),
            "spec": {"replicas": 2}, "status": {"replicas": 2, "readyReplicas": 2}}


def job(name: str, namespace_name: str, cronjob: str | None = None) -> dict[str, Any]:
    """A ``Job``, controlled by ``cronjob`` when given."""
    return {"metadata": metadata("Job", name, namespace_name,
                                 owner=("batch/v1", "CronJob", cronjob) if cronjob else None),
            "spec": {"completions": 1, "parallelism": 1}, "status": {"active": 1}}


def ingress(name: str, namespace_name: str, *, rules: list[dict[str, Any]], tls_hosts: Iterable[str] = (),
            class_name: str | None = "alb") -> dict[str, Any]:
    """An ``Ingress``."""
    spec: dict[str, Any] = {"rules": rules}
    if class_name is not None:
        spec["ingressClassName"] = class_name
    hosts = list(tls_hosts)
    if hosts:
        spec["tls"] = [{"hosts": hosts, "secretName": f"{name}-tls"}]
    return {"metadata": metadata("Ingress", name, namespace_name), "spec": spec, "status": {"loadBalancer": {}}}
