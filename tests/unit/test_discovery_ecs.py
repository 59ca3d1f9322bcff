"""aws_sd_configs role ecs: ECS tasks -> Prometheus' __meta_ecs_* labels; the container-port extension."""
from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from promwatch.discovery import DiscoveryEnv, DiscoveryError
from promwatch.discovery.ecscontainers import EcsServiceDiscovery, container_targets
from promwatch.discovery.ecstasks import ClusterState, task_targets
from promwatch.scrape import ConfigError, build_targets, parse_config

from tests.unit.ecs_shapes import (
    API_DEFINITION,
    API_DEFINITION_ARN,
    BRIDGE_TASK,
    BRIDGE_TASK_ARN,
    CLUSTER,
    CLUSTER_ARN,
    CONTAINER_INSTANCE_ARN,
    FARGATE_TASK,
    FARGATE_TASK_ARN,
    HOST_INSTANCE,
    REGION,
    SERVICE,
    SERVICE_ARN,
    WORKER_DEFINITION,
    WORKER_DEFINITION_ARN,
)

STATE = ClusterState(
    cluster=CLUSTER, tasks=[FARGATE_TASK, BRIDGE_TASK], services={"api": SERVICE},
    ec2_instance_ids={CONTAINER_INSTANCE_ARN: "i-0host"}, instances={"i-0host": HOST_INSTANCE},
    public_ips={"eni-1": "203.0.113.7"},
)
DEFINITIONS = {API_DEFINITION_ARN: API_DEFINITION, WORKER_DEFINITION_ARN: WORKER_DEFINITION}


def test_a_fargate_task_gets_every_label_prometheus_gives_it() -> None:
    # given a running Fargate task of a service, when made into targets on port 9404
    fargate, _ = task_targets([STATE], region=REGION, port=9404)
    # then it gets every __meta_ecs_ label Prometheus gives, tags included, and its awsvpc address
    assert fargate == {
        "__address__": "10.0.2.7:9404",
        "__meta_ecs_ip_address": "10.0.2.7",
        "__meta_ecs_region": REGION,
        "__meta_ecs_network_mode": "awsvpc",
        "__meta_ecs_launch_type": "FARGATE",
        "__meta_ecs_health_status": "HEALTHY",
        "__meta_ecs_cluster_arn": CLUSTER_ARN,
        "__meta_ecs_cluster": "prod",
        "__meta_ecs_task_group": "service:api",
        "__meta_ecs_task_arn": FARGATE_TASK_ARN,
        "__meta_ecs_task_definition": API_DEFINITION_ARN,
        "__meta_ecs_availability_zone": "eu-west-1b",
        "__meta_ecs_desired_status": "RUNNING",
        "__meta_ecs_last_status": "RUNNING",
        "__meta_ecs_subnet_id": "subnet-b",
        "__meta_ecs_public_ip": "203.0.113.7",
        "__meta_ecs_platform_family": "Linux",
        "__meta_ecs_platform_version": "1.4.0",
        "__meta_ecs_service": "api",
        "__meta_ecs_service_arn": SERVICE_ARN,
        "__meta_ecs_service_status": "ACTIVE",
        "__meta_ecs_tag_cluster_cost_center": "42",
        "__meta_ecs_tag_service_tier": "web",
        "__meta_ecs_tag_task_release": "2024.06",
    }


def test_a_task_on_an_ec2_instance_is_reached_on_the_instance_and_gets_its_labels() -> None:
    # given a standalone bridge-mode task on an EC2 container instance, when made into targets on port 80
    _, bridge = task_targets([STATE], region=REGION, port=80)
    # then it is reached on the instance's address
    assert bridge["__address__"] == "10.0.1.20:80"
    assert bridge["__meta_ecs_network_mode"] == "bridge"
    # and it gets the instance's labels
    assert {k: v for k, v in bridge.items() if "ec2" in k or k.endswith(("instance_arn", "subnet_id", "public_ip"))} == {
        "__meta_ecs_container_instance_arn": CONTAINER_INSTANCE_ARN,
        "__meta_ecs_ec2_instance_id": "i-0host",
        "__meta_ecs_ec2_instance_type": "c7g.xlarge",
        "__meta_ecs_ec2_instance_private_ip": "10.0.1.20",
        "__meta_ecs_ec2_instance_public_ip": "198.51.100.20",
        "__meta_ecs_subnet_id": "subnet-a",
        "__meta_ecs_public_ip": "198.51.100.20",
        "__meta_ecs_tag_ec2_aws_autoscaling_groupName": "ecs-prod",
    }
    # and no service labels
    assert not any(k.startswith("__meta_ecs_service") for k in bridge)  # a standalone task (family: group)


def test_a_task_without_an_ip_yet_is_no_target() -> None:
    # Given a task whose ENI has no address yet and one whose container instance is unknown,
    provisioning = {**FARGATE_TASK, "attachments": [{"type": "ElasticNetworkInterface", "details": [
        {"name": "subnetId", "value": "subnet-b"}]}]}
    unplaced = {**BRIDGE_TASK, "containerInstanceArn": "arn:aws:ecs:eu-west-1:1:container-instance/prod/gone"}
    state = ClusterState(cluster=CLUSTER, tasks=[provisioning, unplaced], instances={"i-0host": HOST_INSTANCE})
    # then neither is a target.
    assert task_targets([state], region=REGION, port=80) == []


def _selection(body: str) -> EcsServiceDiscovery:
    config = parse_config(f"scrape_configs: [{{job_name: n, aws_sd_configs: [{{role: ecs, ecs_service_discovery: {body}}}]}}]")
    selection = config.scrape_configs[0].aws_sd_configs[0].ecs_service_discovery
    assert selection is not None
    return selection


def test_docker_labels_select_container_ports_mapped_to_the_ports_tasks_are_reached_on() -> None:
    # Given the default docker labels (job name label: ECS_PROMETHEUS_JOB_NAME for the api),
    selection = _selection("{docker_label: {sd_job_name_label: ECS_PROMETHEUS_JOB_NAME}}")
    # when the two tasks' containers are translated,
    targets = {t["__address__"]: t for t in container_targets([STATE], DEFINITIONS, selection, region=REGION)}
    # then the awsvpc app is reached on its own port, the bridge worker on Docker's host port,
    # the log router (its port not bound) not at all,
    assert set(targets) == {"10.0.2.7:9404", "10.0.1.20:32768"}
    api, worker = targets["10.0.2.7:9404"], targets["10.0.1.20:32768"]
    # each with its container's name, port and docker labels, and the job and path its labels name.
    assert api["__meta_ecs_container_name"] == "app" and api["__meta_ecs_container_port"] == "9404"
    assert api["__meta_ecs_container_label_com_example_team"] == "payments"
    assert api["job"] == "api" and "__metrics_path__" not in api
    assert api["__meta_ecs_service"] == "api" and api["__meta_ecs_task_arn"] == FARGATE_TASK_ARN
    assert worker["__metrics_path__"] == "/stats" and "job" not in worker  # its "job" label is not the one named
    assert worker["__meta_ecs_container_label_job"] == "worker"


def test_task_definition_and_service_patterns_select_ports_and_the_first_selection_of_a_target_wins() -> None:
    # Given a service selection of the api's envoy port and app port, a task definition selection
    # of every port of worker tasks, and docker labels,
    selection = _selection("""{
        docker_label: {},
        service_name_list_for_tasks: [{sd_service_name_pattern: '^api$', sd_metrics_ports: '9901;9404',
                                       sd_job_name: api-by-service}],
        task_definition_list: [{sd_task_definition_arn_pattern: ':task-definition/worker:[0-9]+',
                                sd_container_name_pattern: '^worker$', sd_metrics_ports: [8080, 9404, 5000],
                                sd_metrics_path: /metrics}]}""")
    # when translated,
    targets = {(t["__address__"], t.get("__metrics_path__")): t
               for t in container_targets([STATE], DEFINITIONS, selection, region=REGION)}
    # then the api has its envoy port (mapped without hostPort: the same port) and its app port once,
    # named by the service selection that came first; the worker has its two bound ports by
    # definition, and its docker-label target with its own path; 5000 is bound nowhere.
    assert set(targets) == {("10.0.2.7:9901", None), ("10.0.2.7:9404", None), ("10.0.1.20:32769", "/metrics"),
                            ("10.0.1.20:32768", "/metrics"), ("10.0.1.20:32768", "/stats")}
    assert targets[("10.0.2.7:9404", None)]["job"] == "api-by-service"
    assert targets[("10.0.2.7:9901", None)]["__meta_ecs_container_name"] == "envoy"
    assert "job" not in targets[("10.0.1.20:32769", "/metrics")]


def test_a_task_without_network_or_without_a_known_definition_has_no_container_targets() -> None:
    # given a task definition with network mode none
    selection = _selection("{docker_label: {}}")
    no_network = {**API_DEFINITION, "networkMode": "none"}
    # when container targets are asked for, then there are none
    assert container_targets([STATE], {API_DEFINITION_ARN: no_network}, selection, region=REGION) == []


@pytest.mark.parametrize(("body", "message"), [
    ("{}", "selects no container"),
    ("{docker_label: {}, sd_frequency: 30s}", "sd_frequency: a CloudWatch agent key; in promwatch use refresh_interval"),
    ("{task_definition_list: [{sd_task_definition_arn_pattern: x, sd_metrics_ports: '9404,9406'}]}",
     "is not a list of ports"),
    ("{task_definition_list: [{sd_task_definition_arn_pattern: x, sd_metrics_ports: [0]}]}",
     "greater than or equal to 1"),
    ("{task_definition_list: [{sd_metrics_ports: '9404'}]}", "sd_task_definition_arn_pattern: required key"),
    ("{service_name_list_for_tasks: [{sd_service_name_pattern: '(?!x)', sd_metrics_ports: '1'}]}",
     "sd_service_name_pattern: invalid regular expression"),
    ("{service_name_list_for_tasks: [{sd_service_name_pattern: a, sd_metrics_ports: '1', sd_metrics_path: m}]}",
     "is not an absolute path"),
])
def test_a_bad_ecs_service_discovery_names_the_key(body: str, message: str) -> None:
    # given an ECS service discovery block that is bad, when parsed, then the error names the key
    with pytest.raises(ConfigError, match=message):
        _selection(body)


def _ecs_env(ecs_answers: Any, ec2_answers: Any) -> tuple[DiscoveryEnv, list[Stubber]]:
    clients = {name: boto3.client(name, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
               for name in ("ecs", "ec2")}
    stubbers = []
    for name, answers in (("ecs", ecs_answers), ("ec2", ec2_answers)):
        stubber = Stubber(clients[name])
        answers(stubber)
        stubber.activate()
        stubbers.append(stubber)
    return DiscoveryEnv(aws_client=lambda service, region: clients[service]), stubbers


def _cluster_calls(stubber: Stubber, *, with_definitions: bool) -> None:
    stubber.add_response("describe_clusters", {"clusters": [CLUSTER]}, {"clusters": ["prod"], "include": ["TAGS"]})
    stubber.add_response("list_tasks", {"taskArns": [FARGATE_TASK_ARN, BRIDGE_TASK_ARN]}, {"cluster": CLUSTER_ARN})
    stubber.add_response("describe_tasks", {"tasks": [FARGATE_TASK, BRIDGE_TASK]},
                         {"cluster": CLUSTER_ARN, "tasks": [FARGATE_TASK_ARN, BRIDGE_TASK_ARN], "include": ["TAGS"]})
    stubber.add_response("describe_container_instances", {"containerInstances": [
        {"containerInstanceArn": CONTAINER_INSTANCE_ARN, "ec2InstanceId": "i-0host"}]},
        {"cluster": CLUSTER_ARN, "containerInstances": [CONTAINER_INSTANCE_ARN]})
    stubber.add_response("list_services", {"serviceArns": [SERVICE_ARN]}, {"cluster": CLUSTER_ARN})
    stubber.add_response("describe_services", {"services": [SERVICE]},
                         {"cluster": CLUSTER_ARN, "services": [SERVICE_ARN], "include": ["TAGS"]})
    if with_definitions:
        stubber.add_response("describe_task_definition", {"taskDefinition": API_DEFINITION},
                             {"taskDefinition": API_DEFINITION_ARN})
        stubber.add_response("describe_task_definition", {"taskDefinition": WORKER_DEFINITION},
                             {"taskDefinition": WORKER_DEFINITION_ARN})


def _host_calls(stubber: Stubber) -> None:
    stubber.add_response("describe_instances", {"Reservations": [{"Instances": [HOST_INSTANCE]}]},
                         {"Filters": [{"Name": "instance-id", "Values": ["i-0host"]}]})
    stubber.add_response("describe_network_interfaces", {"NetworkInterfaces": [
        {"NetworkInterfaceId": "eni-1", "Association": {"PublicIp": "203.0.113.7"}}]},
        {"Filters": [{"Name": "network-interface-id", "Values": ["eni-1"]}]})


def test_discovery_reads_the_cluster_through_the_apis_and_keeps_task_definitions_it_has_read() -> None:
    # Given a cluster with a Fargate service task and a bridge task, discovered twice with the extension,
    def ecs_answers(stubber: Stubber) -> None:
        _cluster_calls(stubber, with_definitions=True)
        _cluster_calls(stubber, with_definitions=False)  # the second time: definitions already read

    def ec2_answers(stubber: Stubber) -> None:
        _host_calls(stubber)
        _host_calls(stubber)

    env, stubbers = _ecs_env(ecs_answers, ec2_answers)
    config = parse_config("""
scrape_configs:
  - job_name: ecs
    aws_sd_configs: [{role: ecs, region: eu-west-1, clusters: [prod], ecs_service_discovery: {docker_label: {}}}]
    relabel_configs:
      - {source_labels: [__meta_ecs_cluster], target_label: cluster}
      - {regex: __meta_ecs_container_label_(com_example_.+), action: labelmap}
""")
    job = config.scrape_configs[0]
    [(_, sd)] = job.sd_configs()
    # when discovered twice and built,
    first = sd.discover(env)
    second = sd.discover(env)
    targets, _ = build_targets(job, discovered=second)
    # then every call was made as expected (no DescribeTaskDefinition the second time),
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
    assert first == second
    # and the targets carry the labels the relabelling chose.
    assert sorted((t.url, dict(t.labels)) for t in targets) == [
        ("http://10.0.1.20:32768/stats", {"job": "worker", "instance": "10.0.1.20:32768", "cluster": "prod"}),
        ("http://10.0.2.7:9404/metrics", {"job": "ecs", "instance": "10.0.2.7:9404", "cluster": "prod",
                                          "com_example_team": "payments"}),
    ]


def test_a_cluster_that_does_not_exist_is_a_discovery_error_naming_it() -> None:
    # given ECS answering that the cluster is missing
    def ecs_answers(stubber: Stubber) -> None:
        stubber.add_response("describe_clusters", {"clusters": [], "failures": [
            {"arn": f"arn:aws:ecs:{REGION}:1:cluster/gone", "reason": "MISSING"}]},
            {"clusters": ["gone"], "include": ["TAGS"]})

    # and a config naming that cluster
    env, _ = _ecs_env(ecs_answers, lambda stubber: None)
    config = parse_config("scrape_configs: [{job_name: n, aws_sd_configs: [{role: ecs, region: eu-west-1, clusters: [gone]}]}]")
    [(_, sd)] = config.scrape_configs[0].sd_configs()
    # when discovered, then the discovery error names the call, region and cluster
    with pytest.raises(DiscoveryError, match="ecs:DescribeClusters in eu-west-1: no cluster 'gone'"):
        sd.discover(env)


def test_without_clusters_every_cluster_is_listed_and_an_empty_one_costs_no_further_call() -> None:
    # given ECS listing one cluster that has no tasks
    def ecs_answers(stubber: Stubber) -> None:
        stubber.add_response("list_clusters", {"clusterArns": [CLUSTER_ARN]}, {})
        stubber.add_response("describe_clusters", {"clusters": [CLUSTER]}, {"clusters": [CLUSTER_ARN], "include": ["TAGS"]})
        stubber.add_response("list_tasks", {"taskArns": []}, {"cluster": CLUSTER_ARN})

    # and a config naming no clusters
    env, stubbers = _ecs_env(ecs_answers, lambda stubber: None)
    config = parse_config("scrape_configs: [{job_name: n, aws_sd_configs: [{role: ecs, region: eu-west-1}]}]")
    [(_, sd)] = config.scrape_configs[0].sd_configs()
    # when discovered
    [group] = sd.discover(env)
    # then the group is empty and no further call was made
    assert group.targets == () and group.source == REGION
    stubbers[0].assert_no_pending_responses()
