"""Realistic performance events of a small EKS cluster (for ``make demo``, tests, benchmarks).

Deterministic for a given seed. Every minute it emits what the CloudWatch agent would for
three nodes (one with a GPU) and a handful of workloads: Cluster, ClusterNamespace,
ClusterService, Node, NodeFS, NodeNet, NodeDiskIO, NodeGPU, Pod, PodNet, Container,
ContainerFS and ContainerGPU events, in the Version "0" (CloudWatch agent) layout, the
Version "1" (ADOT, ``_aws`` block) layout, or a mix of both.
"""
from __future__ import annotations

import random
from datetime import datetime
from typing import Any, Literal

__all__ = ["sample_cluster_events"]

_NODES = (
    ("ip-10-0-1-17.ec2.internal", "i-0a1b2c3d4e5f60718", "m6i.xlarge", 4000, 16_000_000_000, False),
    ("ip-10-0-2-33.ec2.internal", "i-0b2c3d4e5f6071829", "m6i.xlarge", 4000, 16_000_000_000, False),
    ("ip-10-0-3-51.ec2.internal", "i-0c3d4e5f607182930", "g5.xlarge", 4000, 16_000_000_000, True),
)
# (namespace, owner kind, owner name, replicas, team label, cpu request m, memory request, base cpu m, base memory)
_WORKLOADS = (
    ("storefront", "Deployment", "web", 3, "storefront", 250, 512_000_000, 120.0, 300_000_000),
    ("storefront", "ReplicaSet", "worker-5f7c9d8b6b", 2, "storefront", 500, 1_024_000_000, 310.0, 640_000_000),
    ("payments", "Deployment", "api", 2, "payments", 500, 768_000_000, 220.0, 410_000_000),
    ("data", "StatefulSet", "postgres", 1, "data", 1000, 4_096_000_000, 450.0, 2_600_000_000),
    ("kube-system", "DaemonSet", "aws-node", 3, None, 25, 0, 6.0, 45_000_000),
    ("ml", "Deployment", "inference", 1, "ml", 2000, 8_000_000_000, 900.0, 5_200_000_000),
)
_SAFE = "bcdfghjklmnpqrstvwxz2456789"


def _suffix(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_SAFE) for _ in range(length))


def _wrap(event: dict[str, Any], timestamp_ms: int, version: str) -> dict[str, Any]:
    if version == "1":
        event["Version"] = "1"
        event["_aws"] = {"Timestamp": timestamp_ms, "CloudWatchMetrics": []}
    else:
        event["Version"] = "0"
        event["Timestamp"] = str(timestamp_ms)
    return event


def sample_cluster_events(
    cluster: str = "demo",
    start: datetime | int = 1_700_000_000_000,
    minutes: int = 10,
    seed: int = 0,
    *,
    layout: Literal["0", "1", "mixed"] = "mixed",
    scale: int = 1,
) -> list[dict[str, Any]]:
    """Performance events of a small cluster, minute by minute.

    Parameters
    ----------
    cluster
        ClusterName of every event.
    start
        First minute (a datetime, or epoch milliseconds).
    minutes
        How many minutes of events.
    seed
        Seed of the deterministic noise.
    layout
        ``"0"`` (CloudWatch agent), ``"1"`` (ADOT) or ``"mixed"`` (nodes alternate).
    scale
        Multiplies every workload's replicas (1: 12 pods; 10: 120 pods on the same nodes).

    Returns
    -------
    list of dict
        JSON-ready events in timestamp order (about 70 per minute at scale 1).
    """
    rng = random.Random(seed)
    start_ms = int(start.timestamp() * 1000) if isinstance(start, datetime) else int(start)
    pods: list[dict[str, Any]] = []
    for namespace, kind, owner, replicas, team, cpu_request, memory_request, cpu, memory in _WORKLOADS:
        template_hash = owner.rsplit("-", 1)[1] if kind == "ReplicaSet" else _suffix(rng, 10)
        workload_name = owner.rsplit("-", 1)[0] if kind == "ReplicaSet" else owner
        for index in range(replicas * scale):
            node = _NODES[index % len(_NODES)] if kind != "Deployment" or owner != "inference" else _NODES[2]
            labels = {"app": workload_name}
            if kind in ("Deployment", "ReplicaSet"):
                labels["pod-template-hash"] = template_hash
            if team:
                labels["team"] = team
            pod_name = (
                f"{workload_name}-{index}" if kind == "StatefulSet"
                else f"{workload_name}-{template_hash}-{_suffix(rng, 5)}" if kind in ("Deployment", "ReplicaSet")
                else f"{workload_name}-{_suffix(rng, 5)}"
            )
            pods.append({
                "namespace": namespace, "kind": kind, "owner": owner, "workload": workload_name, "labels": labels,
                "pod_name": pod_name, "pod_id": f"{rng.getrandbits(128):032x}", "node": node,
                "cpu_request": cpu_request, "memory_request": memory_request, "cpu": cpu, "memory": memory,
                "gpu": owner == "inference",
            })
    events: list[dict[str, Any]] = []
    for minute in range(minutes):
        at = start_ms + minute * 60_000 + rng.randrange(0, 5000)
        for position, (node_name, instance, instance_type, cpu_limit, memory_limit, gpu) in enumerate(_NODES):
            version = str(position % 2) if layout == "mixed" else layout
            on_node = [pod for pod in pods if pod["node"][0] == node_name]
            usage = {id(pod): (pod["cpu"] * rng.uniform(0.6, 1.6), pod["memory"] * rng.uniform(0.9, 1.1)) for pod in on_node}
            node_cpu = sum(cpu for cpu, _ in usage.values()) + rng.uniform(80, 160)
            node_memory = sum(memory for _, memory in usage.values()) + rng.uniform(6e8, 9e8)
            host = {
                "ClusterName": cluster, "NodeName": node_name, "InstanceId": instance, "InstanceType": instance_type,
                "AutoScalingGroupName": f"eks-{cluster}-nodes", "kubernetes": {"host": node_name},
            }
            events.append(_wrap({
                **host, "Type": "Node", "Sources": ["cadvisor", "/proc", "pod", "calculated"],
                "node_cpu_limit": cpu_limit, "node_cpu_usage_total": round(node_cpu, 3),
                "node_cpu_utilization": round(node_cpu / cpu_limit * 100, 4),
                "node_cpu_request": sum(pod["cpu_request"] for pod in on_node),
                "node_memory_limit": memory_limit, "node_memory_working_set": int(node_memory),
                "node_memory_utilization": round(node_memory / memory_limit * 100, 4),
                "node_number_of_running_pods": len(on_node), "node_number_of_running_containers": len(on_node),
                "node_network_total_bytes": round(rng.uniform(2e4, 9e4), 2),
            }, at, version))
            events.append(_wrap({
                **host, "Type": "NodeFS", "device": "/dev/nvme0n1p1", "fstype": "xfs",
                "node_filesystem_capacity": 85_886_742_528, "node_filesystem_utilization": round(rng.uniform(20, 45), 3),
            }, at, version))
            events.append(_wrap({
                **host, "Type": "NodeNet", "interface": "eth0",
                "node_interface_network_rx_bytes": round(rng.uniform(1e4, 5e4), 2),
                "node_interface_network_tx_bytes": round(rng.uniform(1e4, 5e4), 2),
            }, at, version))
            events.append(_wrap({
                **host, "Type": "NodeDiskIO", "device": "/dev/nvme0n1",
                "node_diskio_io_service_bytes_total": round(rng.uniform(5e3, 2e4), 2),
            }, at, version))
            if gpu:
                events.append(_wrap({
                    **host, "Type": "NodeGPU", "GpuDevice": "nvidia0",
                    "node_gpu_utilization": round(rng.uniform(30, 90), 2), "node_gpu_memory_utilization": round(rng.uniform(40, 70), 2),
                }, at, version))
            for pod in on_node:
                cpu, memory = usage[id(pod)]
                kube = {
                    "host": node_name, "namespace_name": pod["namespace"], "pod_name": pod["pod_name"],
                    "pod_id": pod["pod_id"], "labels": dict(pod["labels"]),
                    "pod_owners": [{"owner_kind": pod["kind"], "owner_name": pod["owner"]}],
                }
                common = {**host, "Namespace": pod["namespace"], "PodName": pod["workload"], "kubernetes": kube}
                pod_event: dict[str, Any] = {
                    **common, "Type": "Pod", "Sources": ["cadvisor", "pod", "calculated"],
                    "pod_cpu_usage_total": round(cpu, 3), "pod_cpu_utilization": round(cpu / cpu_limit * 100, 4),
                    "pod_memory_working_set": int(memory), "pod_memory_utilization": round(memory / memory_limit * 100, 4),
                    "pod_network_rx_bytes": round(rng.uniform(100, 9000), 2), "pod_network_tx_bytes": round(rng.uniform(100, 9000), 2),
                    "pod_number_of_container_restarts": 0, "pod_status": "Running",
                }
                if pod["cpu_request"]:
                    pod_event["pod_cpu_request"] = pod["cpu_request"]
                if pod["memory_request"]:
                    pod_event["pod_memory_request"] = pod["memory_request"]
                events.append(_wrap(pod_event, at, version))
                events.append(_wrap({
                    **common, "Type": "PodNet", "interface": "eth0",
                    "pod_interface_network_rx_bytes": pod_event["pod_network_rx_bytes"],
                }, at, version))
                container_kube = {**kube, "container_name": pod["workload"]}
                events.append(_wrap({
                    **common, "kubernetes": container_kube, "Type": "Container",
                    "container_cpu_usage_total": round(cpu * 0.97, 3), "container_memory_working_set": int(memory * 0.98),
                    "container_cpu_request": pod["cpu_request"], "number_of_container_restarts": 0,
                }, at, version))
                events.append(_wrap({
                    **common, "kubernetes": container_kube, "Type": "ContainerFS", "device": "/dev/nvme0n1p1",
                    "container_filesystem_usage": rng.randrange(10_000, 900_000),
                }, at, version))
                if pod["gpu"]:
                    events.append(_wrap({
                        **common, "kubernetes": container_kube, "Type": "ContainerGPU", "GpuDevice": "nvidia0",
                        "container_gpu_utilization": round(rng.uniform(30, 90), 2),
                    }, at, version))
        cluster_at = at + 1000
        events.append(_wrap({"ClusterName": cluster, "Type": "Cluster", "cluster_node_count": len(_NODES),
                             "cluster_failed_node_count": 0}, cluster_at, "0"))
        for namespace in sorted({pod["namespace"] for pod in pods}):
            events.append(_wrap({
                "ClusterName": cluster, "Type": "ClusterNamespace", "Namespace": namespace,
                "kubernetes": {"namespace_name": namespace},
                "namespace_number_of_running_pods": sum(1 for pod in pods if pod["namespace"] == namespace),
            }, cluster_at, "0"))
        events.append(_wrap({
            "ClusterName": cluster, "Type": "ClusterService", "Namespace": "storefront", "Service": "web",
            "kubernetes": {"namespace_name": "storefront", "service_name": "web"}, "service_number_of_running_pods": 3,
        }, cluster_at, "0"))
    events.sort(key=lambda event: int(event.get("Timestamp") or event["_aws"]["Timestamp"]))
    return events
