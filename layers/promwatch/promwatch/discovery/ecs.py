"""``aws_sd_configs`` with ``role: ecs``: ECS tasks, as Prometheus lists them (3.8 and later).

The running tasks of ``clusters`` (names or ARNs; none: every cluster of the region), each one
target ``<ip>:<port>`` with Prometheus' ``__meta_ecs_*`` labels (:mod:`.ecstasks`); with
``ecs_service_discovery`` (a promwatch extension, :mod:`.ecscontainers`) one target per selected
container port instead. Calls, per cluster: ``ecs:ListTasks``, ``ecs:DescribeTasks``,
``ecs:ListServices``, ``ecs:DescribeServices``, ``ecs:DescribeContainerInstances`` and
``ec2:DescribeInstances`` (tasks on EC2 instances), ``ec2:DescribeNetworkInterfaces`` (tasks with
an ENI); ``ecs:ListClusters`` without ``clusters``, ``ecs:DescribeClusters``; and
``ecs:DescribeTaskDefinition`` with the extension (each definition once: they never change).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import Field

from promwatch.discovery.awsapi import AwsApiSettings, api_client, aws_errors, batches, client_region
from promwatch.discovery.base import TASK_DEFINITIONS, DiscoveryEnv
from promwatch.discovery.ecscontainers import EcsServiceDiscovery, container_targets
from promwatch.discovery.ecstasks import ClusterState, eni_details, task_targets
from promwatch.discovery.model import DiscoveryError, TargetGroup

DESCRIBE_BATCH = 100
"""Clusters, tasks, container instances per describe call (the API's most)."""
DESCRIBE_SERVICES_BATCH = 10
TASK_DEFINITIONS_KEPT = 2000
"""Task definitions kept per environment (the CloudWatch agent keeps as many)."""


class EcsSDConfig(AwsApiSettings):
    """ECS discovery (``aws_sd_configs`` with ``role: ecs``)."""

    clusters: list[str] = Field(default_factory=list)
    ecs_service_discovery: EcsServiceDiscovery | None = None

    def discover(self, env: DiscoveryEnv) -> list[TargetGroup]:
        """One group (named by the region) of the clusters' tasks or selected containers.

        Raises
        ------
        DiscoveryError
            Naming the call and cluster, when one fails (or the role cannot be assumed).
        """
        ecs = api_client(env, self, "ecs", endpoint=self.endpoint)
        ec2 = api_client(env, self, "ec2", endpoint=None)  # as Prometheus: the endpoint is ECS's
        region = client_region(ecs)
        names = list(self.clusters) or _cluster_arns(ecs, region)
        described = _clusters(ecs, names, region)
        states = [_cluster_state(ecs, ec2, described[name]) for name in names]
        if self.ecs_service_discovery is None:
            targets = task_targets(states, region=region, port=self.port)
        else:
            arns = {task["taskDefinitionArn"] for state in states for task in state.tasks if "taskDefinitionArn" in task}
            definitions = _task_definitions(env).get(ecs, sorted(arns))
            targets = container_targets(states, definitions, self.ecs_service_discovery, region=region)
        return [TargetGroup(source=region, targets=tuple(targets))]


class TaskDefinitions:
    """``DescribeTaskDefinition`` answers by ARN, the most recently used :data:`TASK_DEFINITIONS_KEPT`."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, Mapping[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, ecs: Any, arns: Iterable[str]) -> dict[str, Mapping[str, Any]]:
        """The definitions of ``arns``, asking the API for those not kept yet."""
        found: dict[str, Mapping[str, Any]] = {}
        for arn in arns:
            with self._lock:
                definition = self._kept.get(arn)
                if definition is not None:
                    self._kept.move_to_end(arn)
            if definition is None:
                with aws_errors(f"ecs:DescribeTaskDefinition {arn}"):
                    definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
                with self._lock:
                    self._kept[arn] = definition
                    while len(self._kept) > TASK_DEFINITIONS_KEPT:
                        self._kept.popitem(last=False)
            found[arn] = definition
        return found


def _task_definitions(env: DiscoveryEnv) -> TaskDefinitions:
    kept: TaskDefinitions = env.kept(TASK_DEFINITIONS, TaskDefinitions)
    return kept


def _cluster_arns(ecs: Any, region: str) -> list[str]:
    arns: list[str] = []
    with aws_errors(f"ecs:ListClusters in {region}"):
        for page in ecs.get_paginator("list_clusters").paginate():
            arns.extend(page.get("clusterArns", []))
    return arns


def _clusters(ecs: Any, names: list[str], region: str) -> dict[str, Mapping[str, Any]]:
    """Each cluster name or ARN -> its ``DescribeClusters`` entry."""
    described: dict[str, Mapping[str, Any]] = {}
    for batch in batches(names, DESCRIBE_BATCH):
        with aws_errors(f"ecs:DescribeClusters in {region}"):
            answer = ecs.describe_clusters(clusters=batch, include=["TAGS"])
        for cluster in answer.get("clusters", []):
            described[cluster["clusterArn"]] = described[cluster.get("clusterName", "")] = cluster
    missing = [name for name in names if name not in described]
    if missing:
        raise DiscoveryError(f"ecs:DescribeClusters in {region}: no cluster {', '.join(map(repr, missing))}")
    return described


def _cluster_state(ecs: Any, ec2: Any, cluster: Mapping[str, Any]) -> ClusterState:
    arn = cluster["clusterArn"]
    task_arns: list[str] = []
    with aws_errors(f"ecs:ListTasks in {arn}"):
        for page in ecs.get_paginator("list_tasks").paginate(cluster=arn):
            task_arns.extend(page.get("taskArns", []))
    if not task_arns:
        return ClusterState(cluster, [])
    tasks: list[Mapping[str, Any]] = []
    for batch in batches(task_arns, DESCRIBE_BATCH):
        with aws_errors(f"ecs:DescribeTasks in {arn}"):
            tasks.extend(ecs.describe_tasks(cluster=arn, tasks=batch, include=["TAGS"]).get("tasks", []))
    ec2_instance_ids = _ec2_instance_ids(ecs, arn, tasks)
    return ClusterState(
        cluster=cluster,
        tasks=tasks,
        services=_services(ecs, arn),
        ec2_instance_ids=ec2_instance_ids,
        instances=_instances(ec2, sorted(set(ec2_instance_ids.values()))),
        public_ips=_public_ips(ec2, tasks),
    )


def _services(ecs: Any, cluster_arn: str) -> dict[str, Mapping[str, Any]]:
    service_arns: list[str] = []
    with aws_errors(f"ecs:ListServices in {cluster_arn}"):
        for page in ecs.get_paginator("list_services").paginate(cluster=cluster_arn):
            service_arns.extend(page.get("serviceArns", []))
    services: dict[str, Mapping[str, Any]] = {}
    for batch in batches(service_arns, DESCRIBE_SERVICES_BATCH):
        with aws_errors(f"ecs:DescribeServices in {cluster_arn}"):
            answer = ecs.describe_services(cluster=cluster_arn, services=batch, include=["TAGS"])
        services.update((service["serviceName"], service) for service in answer.get("services", []))
    return services


def _ec2_instance_ids(ecs: Any, cluster_arn: str, tasks: list[Mapping[str, Any]]) -> dict[str, str]:
    arns = sorted({task["containerInstanceArn"] for task in tasks if task.get("containerInstanceArn")})
    found: dict[str, str] = {}
    for batch in batches(arns, DESCRIBE_BATCH):
        with aws_errors(f"ecs:DescribeContainerInstances in {cluster_arn}"):
            answer = ecs.describe_container_instances(cluster=cluster_arn, containerInstances=batch)
        found.update((ci["containerInstanceArn"], ci["ec2InstanceId"]) for ci in answer.get("containerInstances", [])
                     if ci.get("ec2InstanceId"))
    return found


def _instances(ec2: Any, instance_ids: list[str]) -> dict[str, Mapping[str, Any]]:
    # A filter, not InstanceIds: an instance gone since DescribeContainerInstances is absent
    # from the answer rather than an InvalidInstanceID.NotFound failing the whole discovery.
    found: dict[str, Mapping[str, Any]] = {}
    for batch in batches(instance_ids, DESCRIBE_BATCH):
        with aws_errors("ec2:DescribeInstances"):
            pages = ec2.get_paginator("describe_instances").paginate(Filters=[{"Name": "instance-id", "Values": batch}])
            for page in pages:
                for reservation in page.get("Reservations", []):
                    found.update((instance["InstanceId"], instance) for instance in reservation.get("Instances", []))
    return found


def _public_ips(ec2: Any, tasks: list[Mapping[str, Any]]) -> dict[str, str]:
    eni_ids = sorted({details["networkInterfaceId"] for details in map(eni_details, tasks)
                      if details is not None and details.get("networkInterfaceId")})
    found: dict[str, str] = {}
    for batch in batches(eni_ids, DESCRIBE_BATCH):
        with aws_errors("ec2:DescribeNetworkInterfaces"):
            pages = ec2.get_paginator("describe_network_interfaces").paginate(
                Filters=[{"Name": "network-interface-id", "Values": batch}])
            for page in pages:
                for eni in page.get("NetworkInterfaces", []):
                    public_ip = eni.get("Association", {}).get("PublicIp")
                    if public_ip:
                        found[eni["NetworkInterfaceId"]] = public_ip
    return found
