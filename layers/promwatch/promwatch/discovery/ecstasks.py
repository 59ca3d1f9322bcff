"""ECS tasks -> Prometheus' ``__meta_ecs_*`` labels (pure): what ``aws_sd_configs`` with
``role: ecs`` gives each task.

A task is reachable at its elastic network interface's private IP (``awsvpc``: Fargate, or EC2
with an ENI per task) or at the private IP of the EC2 instance it runs on (``bridge``/``host``;
Prometheus labels both ``bridge``). A task with neither is not a target.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from promwatch.discovery.awsapi import put, put_fields, put_tags
from promwatch.discovery.model import ADDRESS, join_host_port

PREFIX = "__meta_ecs_"
TAG_CLUSTER = PREFIX + "tag_cluster_"
TAG_EC2 = PREFIX + "tag_ec2_"
TAG_SERVICE = PREFIX + "tag_service_"
TAG_TASK = PREFIX + "tag_task_"
# The labels (after PREFIX) copied from a field of the API's answers, as Prometheus' ECS discovery names them.
_TASK_FIELDS = {
    "launch_type": "launchType", "health_status": "healthStatus", "task_group": "group", "task_arn": "taskArn",
    "task_definition": "taskDefinitionArn", "availability_zone": "availabilityZone", "desired_status": "desiredStatus",
    "last_status": "lastStatus", "platform_family": "platformFamily", "platform_version": "platformVersion",
}
_CLUSTER_FIELDS = {"cluster_arn": "clusterArn", "cluster": "clusterName"}
_SERVICE_FIELDS = {"service": "serviceName", "service_arn": "serviceArn", "service_status": "status"}
_INSTANCE_FIELDS = {"ec2_instance_type": "InstanceType", "ec2_instance_private_ip": "PrivateIpAddress",
                    "ec2_instance_public_ip": "PublicIpAddress"}

ENI_ATTACHMENT = "ElasticNetworkInterface"
SERVICE_GROUP_PREFIX = "service:"


@dataclass(frozen=True, slots=True)
class ClusterState:
    """What the ECS and EC2 APIs said about one cluster's tasks, as they said it.

    Attributes
    ----------
    cluster
        The ``DescribeClusters`` entry (with ``tags``).
    services
        ``DescribeServices`` entries (with ``tags``) by service name.
    tasks
        ``DescribeTasks`` entries (with ``tags``).
    ec2_instance_ids
        Container instance ARN -> EC2 instance ID (``DescribeContainerInstances``).
    instances
        EC2 instance ID -> its ``DescribeInstances`` entry.
    public_ips
        Elastic network interface ID -> its public IP (``DescribeNetworkInterfaces``).
    """

    cluster: Mapping[str, Any]
    tasks: Sequence[Mapping[str, Any]]
    services: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    ec2_instance_ids: Mapping[str, str] = field(default_factory=dict)
    instances: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    public_ips: Mapping[str, str] = field(default_factory=dict)


def task_targets(states: Sequence[ClusterState], *, region: str, port: int) -> list[dict[str, str]]:
    """One target per reachable task, ``<ip>:<port>`` (Prometheus' ``role: ecs``)."""
    targets = []
    for state in states:
        for task in state.tasks:
            placed = task_labels(state, task, region)
            if placed is not None:
                ip, labels = placed
                labels[ADDRESS] = join_host_port(ip, port)
                targets.append(labels)
    return targets


def eni_details(task: Mapping[str, Any]) -> dict[str, str] | None:
    """The name -> value details of the task's elastic network interface; None without one."""
    for attachment in task.get("attachments", []):
        if attachment.get("type") == ENI_ATTACHMENT:
            return {d["name"]: d["value"] for d in attachment.get("details", []) if d.get("name") and "value" in d}
    return None


def service_name(task: Mapping[str, Any]) -> str | None:
    """The service that started the task (its group is ``service:<name>``); None for a standalone task."""
    group = task.get("group") or ""
    return group[len(SERVICE_GROUP_PREFIX):] if group.startswith(SERVICE_GROUP_PREFIX) else None


def task_labels(state: ClusterState, task: Mapping[str, Any], region: str) -> tuple[str, dict[str, str]] | None:
    """(the task's IP, its ``__meta_ecs_*`` labels), or None when it has no IP yet.

    As Prometheus: ``awsvpc`` when the task has an ENI (its private IP and subnet, the ENI's
    public IP), else ``bridge`` with the IPs and subnet of its EC2 instance.
    """
    details = eni_details(task)
    instance_arn = task.get("containerInstanceArn") or ""
    instance_id = state.ec2_instance_ids.get(instance_arn, "") if instance_arn else ""
    instance = state.instances.get(instance_id) or {}
    if details is not None:
        mode = "awsvpc"
        ip = details.get("privateIPv4Address", "")
        subnet = details.get("subnetId", "")
        public_ip = state.public_ips.get(details.get("networkInterfaceId", ""), "")
    elif instance_arn:
        mode = "bridge"
        ip = instance.get("PrivateIpAddress", "")
        subnet = instance.get("SubnetId", "")
        public_ip = instance.get("PublicIpAddress", "")
    else:
        return None
    if not ip:
        return None
    labels = {PREFIX + "ip_address": ip, PREFIX + "region": region, PREFIX + "network_mode": mode}
    for label, value in (("subnet_id", subnet), ("container_instance_arn", instance_arn),
                         ("ec2_instance_id", instance_id), ("public_ip", public_ip)):
        put(labels, PREFIX + label, value)
    put_fields(labels, PREFIX, task, _TASK_FIELDS)
    put_fields(labels, PREFIX, state.cluster, _CLUSTER_FIELDS)
    put_fields(labels, PREFIX, instance, _INSTANCE_FIELDS)
    put_tags(labels, TAG_CLUSTER, state.cluster.get("tags", []), "key", "value")
    name = service_name(task)
    if name is not None:
        service = state.services.get(name, {})
        put_fields(labels, PREFIX, service, _SERVICE_FIELDS)
        put_tags(labels, TAG_SERVICE, service.get("tags", []), "key", "value")
    put_tags(labels, TAG_TASK, task.get("tags", []), "key", "value")
    put_tags(labels, TAG_EC2, instance.get("Tags", []))
    return ip, labels
