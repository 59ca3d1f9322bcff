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

from promwatch.discovery.awsapi import put, put_tags
from promwatch.discovery.model import ADDRESS, join_host_port

PREFIX = "__meta_ecs_"
AVAILABILITY_ZONE = PREFIX + "availability_zone"
CLUSTER = PREFIX + "cluster"
CLUSTER_ARN = PREFIX + "cluster_arn"
CONTAINER_INSTANCE_ARN = PREFIX + "container_instance_arn"
DESIRED_STATUS = PREFIX + "desired_status"
EC2_INSTANCE_ID = PREFIX + "ec2_instance_id"
EC2_INSTANCE_PRIVATE_IP = PREFIX + "ec2_instance_private_ip"
EC2_INSTANCE_PUBLIC_IP = PREFIX + "ec2_instance_public_ip"
EC2_INSTANCE_TYPE = PREFIX + "ec2_instance_type"
HEALTH_STATUS = PREFIX + "health_status"
IP_ADDRESS = PREFIX + "ip_address"
LAST_STATUS = PREFIX + "last_status"
LAUNCH_TYPE = PREFIX + "launch_type"
NETWORK_MODE = PREFIX + "network_mode"
PLATFORM_FAMILY = PREFIX + "platform_family"
PLATFORM_VERSION = PREFIX + "platform_version"
PUBLIC_IP = PREFIX + "public_ip"
REGION = PREFIX + "region"
SERVICE = PREFIX + "service"
SERVICE_ARN = PREFIX + "service_arn"
SERVICE_STATUS = PREFIX + "service_status"
SUBNET_ID = PREFIX + "subnet_id"
TAG_CLUSTER = PREFIX + "tag_cluster_"
TAG_EC2 = PREFIX + "tag_ec2_"
TAG_SERVICE = PREFIX + "tag_service_"
TAG_TASK = PREFIX + "tag_task_"
TASK_ARN = PREFIX + "task_arn"
TASK_DEFINITION = PREFIX + "task_definition"
TASK_GROUP = PREFIX + "task_group"

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
    labels = {IP_ADDRESS: ip, REGION: region, NETWORK_MODE: mode}
    put(labels, LAUNCH_TYPE, task.get("launchType"))
    put(labels, HEALTH_STATUS, task.get("healthStatus"))
    put(labels, CLUSTER_ARN, state.cluster.get("clusterArn"))
    put(labels, CLUSTER, state.cluster.get("clusterName"))
    put(labels, TASK_GROUP, task.get("group"))
    put(labels, TASK_ARN, task.get("taskArn"))
    put(labels, TASK_DEFINITION, task.get("taskDefinitionArn"))
    put(labels, AVAILABILITY_ZONE, task.get("availabilityZone"))
    put(labels, DESIRED_STATUS, task.get("desiredStatus"))
    put(labels, LAST_STATUS, task.get("lastStatus"))
    put(labels, SUBNET_ID, subnet)
    put(labels, CONTAINER_INSTANCE_ARN, instance_arn)
    put(labels, EC2_INSTANCE_ID, instance_id)
    put(labels, EC2_INSTANCE_TYPE, instance.get("InstanceType"))
    put(labels, EC2_INSTANCE_PRIVATE_IP, instance.get("PrivateIpAddress"))
    put(labels, EC2_INSTANCE_PUBLIC_IP, instance.get("PublicIpAddress"))
    put(labels, PUBLIC_IP, public_ip)
    put(labels, PLATFORM_FAMILY, task.get("platformFamily"))
    put(labels, PLATFORM_VERSION, task.get("platformVersion"))
    put_tags(labels, TAG_CLUSTER, state.cluster.get("tags", []), "key", "value")
    name = service_name(task)
    if name is not None:
        service = state.services.get(name, {})
        put(labels, SERVICE, service.get("serviceName"))
        put(labels, SERVICE_ARN, service.get("serviceArn"))
        put(labels, SERVICE_STATUS, service.get("status"))
        put_tags(labels, TAG_SERVICE, service.get("tags", []), "key", "value")
    put_tags(labels, TAG_TASK, task.get("tags", []), "key", "value")
    put_tags(labels, TAG_EC2, instance.get("Tags", []))
    return ip, labels
