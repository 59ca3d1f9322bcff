"""EC2 and ECS discovery against the moto server, end to end: moto gives instances addresses from
their subnet, so a VPC of 127.0.0.0/16 puts them at 127.0.x.y, where an exporter bound to that
very address answers; discovered targets are relabelled, really fetched and parsed."""
from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from promwatch.discovery import DiscoveryCache, TargetGroup, default_env
from promwatch.exposition import ACCEPT_HEADER, parse
from promwatch.httpclient import ConnectionPool, FetchRequest, fetch
from promwatch.scrape import Target, build_targets, parse_config
from promwatch.scrape.config import ScrapeJob

REGION = "us-east-1"


class Exporter:
    """An exporter on one address and port, answering only on its metrics path."""

    def __init__(self, address: str, port: int, path: str, marker: str) -> None:
        page = f"# TYPE promwatch_test_up gauge\npromwatch_test_up{{marker=\"{marker}\"}} 1\n".encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = 200 if self.path == path else 404
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(page) if status == 200 else 0))
                self.end_headers()
                if status == 200:
                    self.wfile.write(page)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((address, port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def exporters() -> Iterator[list[Exporter]]:
    running: list[Exporter] = []
    yield running
    for exporter in running:
        exporter.close()


def _port_free_on(addresses: list[str]) -> int:
    """A port no server listens on at any of ``addresses``."""
    while True:
        with socket.socket() as probe:
            probe.bind((addresses[0], 0))
            port = int(probe.getsockname()[1])
        try:
            for address in addresses[1:]:
                with socket.socket() as other:
                    other.bind((address, port))
        except OSError:
            continue
        return port


def _subnet(ec2: Any, cidr: str) -> str:
    vpc = ec2.create_vpc(CidrBlock="127.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's awsvpc tasks need it
    return str(ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"])


def _instances(ec2: Any, subnet: str, tags: dict[str, str], count: int = 1) -> list[dict[str, Any]]:
    answer = ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=count, MaxCount=count, SubnetId=subnet, InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}])
    return list(answer["Instances"])


def _discovered(job: ScrapeJob) -> tuple[list[TargetGroup], list[Target]]:
    groups, failures = DiscoveryCache().groups(job.job_name, job.sd_configs(), default_env())
    assert failures == []
    targets, _ = build_targets(job, discovered=groups)
    return groups, targets


def _scraped_markers(targets: list[Target]) -> dict[str, str]:
    """URL -> the marker label of the page each target answered with."""
    pool = ConnectionPool()
    markers = {}
    for target in targets:
        response = fetch(FetchRequest(url=target.url, timeout=5, accept=ACCEPT_HEADER), pool=pool)
        [family] = parse(response.text, content_type=response.content_type)
        markers[target.url] = dict(family.samples[0].labels)["marker"]
    return markers


def test_ec2_instances_in_a_loopback_vpc_are_discovered_relabelled_and_scraped(
        aws: str, exporters: list[Exporter]) -> None:
    # Given three instances in a 127.0.0.0/16 VPC, two of them env=prod, with exporters on their addresses,
    ec2 = boto3.client("ec2", region_name=REGION)
    subnet = _subnet(ec2, "127.0.5.0/24")
    prod = _instances(ec2, subnet, {"env": "prod", "team": "core", "Name": "web"}, count=2)
    dev = _instances(ec2, subnet, {"env": "dev", "team": "core", "Name": "dev"})
    addresses = [instance["PrivateIpAddress"] for instance in [*prod, *dev]]
    assert all(address.startswith("127.0.5.") for address in addresses)
    port = _port_free_on(addresses)
    exporters.extend(Exporter(address, port, "/metrics", instance["InstanceId"])
                     for address, instance in zip(addresses, [*prod, *dev], strict=True))
    # and a job discovering team=core instances that keeps env=prod and names them,
    job = parse_config(f"""
scrape_configs:
  - job_name: node
    ec2_sd_configs: [{{region: {REGION}, port: {port}, filters: [{{name: "tag:team", values: [core]}}]}}]
    relabel_configs:
      - {{source_labels: [__meta_ec2_tag_env], regex: prod, action: keep}}
      - {{source_labels: [__meta_ec2_tag_Name, __meta_ec2_instance_id], separator: '-', target_label: name}}
      - {{source_labels: [__meta_ec2_availability_zone_id], target_label: zone_id}}
""").scrape_configs[0]
    # when discovered, built and scraped,
    groups, targets = _discovered(job)
    markers = _scraped_markers(targets)
    # then every instance was discovered with its tags, the prod ones kept and labelled,
    assert sorted(t["__meta_ec2_tag_env"] for t in groups[0].targets) == ["dev", "prod", "prod"]
    assert {t.address for t in targets} == {f"{i['PrivateIpAddress']}:{port}" for i in prod}
    zone_id = ec2.describe_availability_zones(ZoneNames=["us-east-1a"])["AvailabilityZones"][0]["ZoneId"]
    for target in targets:
        instance_id = markers[target.url]
        assert dict(target.labels) == {"job": "node", "instance": target.address, "name": f"web-{instance_id}",
                                       "zone_id": zone_id}
    # and each target answered from its own instance's address.
    assert sorted(markers.values()) == sorted(i["InstanceId"] for i in prod)


def test_aws_sd_configs_role_ec2_assumes_its_role_and_ec2_sd_configs_honours_its_endpoint(
        aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given one instance,
    ec2 = boto3.client("ec2", region_name=REGION)
    [instance] = _instances(ec2, _subnet(ec2, "127.0.7.0/24"), {"env": "prod"})
    # when discovered through an assumed role (moto's STS),
    role = "arn:aws:iam::123456789012:role/promwatch-discovery"
    job = parse_config(f"scrape_configs: [{{job_name: a, aws_sd_configs: [{{role: ec2, role_arn: '{role}', "
                       "external_id: e-1, port: 9100}]}]").scrape_configs[0]
    groups, _ = _discovered(job)
    # and, with AWS_ENDPOINT_URL unset, through the endpoint written in the config,
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    by_endpoint = parse_config(f"scrape_configs: [{{job_name: b, ec2_sd_configs: [{{endpoint: '{aws}', "
                               "port: 9100}]}]").scrape_configs[0]
    endpoint_groups, _ = _discovered(by_endpoint)
    # then both found it, with the environment's region.
    for found in (groups, endpoint_groups):
        [labels] = found[0].targets
        assert labels["__address__"] == f"{instance['PrivateIpAddress']}:9100"
        assert labels["__meta_ec2_region"] == REGION and labels["__meta_ec2_tag_env"] == "prod"


def _ecs_cluster(ec2: Any, ecs: Any, subnet: str) -> dict[str, Any]:
    [host] = _instances(ec2, subnet, {"role": "ecs-host"})
    ecs.create_cluster(clusterName="prod", tags=[{"key": "team", "value": "core"}])
    document = json.dumps({"instanceId": host["InstanceId"], "region": REGION})
    ecs.register_container_instance(cluster="prod", instanceIdentityDocument=document)
    return host


def test_ecs_tasks_are_discovered_with_prometheus_labels_and_container_ports_by_docker_label(
        aws: str, exporters: list[Exporter]) -> None:
    # Given an ECS cluster on an EC2 host in a 127.0.0.0/16 VPC, running a service's host-mode task
    # whose container names its metrics port and path in docker labels, and a Fargate task,
    ec2, ecs = boto3.client("ec2", region_name=REGION), boto3.client("ecs", region_name=REGION)
    subnet = _subnet(ec2, "127.0.6.0/24")
    host = _ecs_cluster(ec2, ecs, subnet)
    port = _port_free_on([host["PrivateIpAddress"]])
    exporters.append(Exporter(host["PrivateIpAddress"], port, "/custom", "api"))
    ecs.register_task_definition(family="api", networkMode="host", containerDefinitions=[{
        "name": "app", "image": "api", "memory": 128, "portMappings": [{"containerPort": port, "hostPort": port}],
        "dockerLabels": {"ECS_PROMETHEUS_EXPORTER_PORT": str(port), "ECS_PROMETHEUS_METRICS_PATH": "/custom",
                         "job": "api-exporter", "com.example.team": "payments"}}])
    ecs.create_service(cluster="prod", serviceName="api", taskDefinition="api", desiredCount=1,
                       tags=[{"key": "tier", "value": "web"}])
    ecs.run_task(cluster="prod", taskDefinition="api", launchType="EC2", group="service:api",
                 tags=[{"key": "release", "value": "7"}])
    ecs.register_task_definition(family="batch", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                 cpu="256", memory="512", containerDefinitions=[{"name": "job", "image": "batch", "memory": 128}])
    ecs.run_task(cluster="prod", taskDefinition="batch", launchType="FARGATE", networkConfiguration={
        "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": []}})
    # when discovered as Prometheus does (one target per task) and with the extension,
    config = parse_config(f"""
scrape_configs:
  - job_name: tasks
    aws_sd_configs: [{{role: ecs, port: {port}}}]
  - job_name: containers
    aws_sd_configs: [{{role: ecs, clusters: [prod], ecs_service_discovery: {{docker_label: {{}}}}}}]
    relabel_configs:
      - {{source_labels: [__meta_ecs_service], target_label: service}}
      - {{regex: __meta_ecs_container_label_com_example_(.+), action: labelmap}}
""")
    task_groups, _ = _discovered(config.job("tasks"))
    container_groups, containers = _discovered(config.job("containers"))
    # then each task is a target with Prometheus' labels: the service task on its host,
    by_mode = {t["__meta_ecs_network_mode"]: t for t in task_groups[0].targets}
    service_task = by_mode["bridge"]  # Prometheus names every non-awsvpc task bridge
    assert service_task["__address__"] == f"{host['PrivateIpAddress']}:{port}"
    assert {k: service_task[k] for k in ("__meta_ecs_cluster", "__meta_ecs_service", "__meta_ecs_service_status",
                                         "__meta_ecs_launch_type", "__meta_ecs_ec2_instance_id",
                                         "__meta_ecs_tag_cluster_team", "__meta_ecs_tag_service_tier",
                                         "__meta_ecs_tag_task_release", "__meta_ecs_tag_ec2_role")} == {
        "__meta_ecs_cluster": "prod", "__meta_ecs_service": "api", "__meta_ecs_service_status": "ACTIVE",
        "__meta_ecs_launch_type": "EC2", "__meta_ecs_ec2_instance_id": host["InstanceId"],
        "__meta_ecs_tag_cluster_team": "core", "__meta_ecs_tag_service_tier": "web",
        "__meta_ecs_tag_task_release": "7", "__meta_ecs_tag_ec2_role": "ecs-host"}
    # the Fargate task on its ENI, in its subnet,
    assert by_mode["awsvpc"]["__meta_ecs_subnet_id"] == subnet
    assert by_mode["awsvpc"]["__address__"] == f"{by_mode['awsvpc']['__meta_ecs_ip_address']}:{port}"
    # and with the extension only the labelled container port is a target, with its path and job,
    assert [dict(t.labels) for t in containers] == [
        {"job": "api-exporter", "instance": f"{host['PrivateIpAddress']}:{port}", "service": "api", "team": "payments"}]
    assert container_groups[0].targets[0]["__meta_ecs_container_name"] == "app"
    # which answers on that path.
    assert _scraped_markers(containers) == {f"http://{host['PrivateIpAddress']}:{port}/custom": "api"}


def test_promwatch_scrape_discovers_ec2_instances_and_scrapes_them(
        aws: str, exporters: list[Exporter], tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given two tagged instances in a loopback VPC with exporters on their addresses, and a config file,
    from promwatch_tools.cli import main

    ec2 = boto3.client("ec2", region_name=REGION)
    subnet = _subnet(ec2, "127.0.7.0/24")
    instances = _instances(ec2, subnet, {"team": "core", "Name": "web"}, count=2)
    addresses = [instance["PrivateIpAddress"] for instance in instances]
    port = _port_free_on(addresses)
    exporters.extend(Exporter(a, port, "/metrics", i["InstanceId"]) for a, i in zip(addresses, instances, strict=True))
    config = tmp_path / "scrape.yaml"
    config.write_text(f"""
scrape_configs:
  - job_name: node
    ec2_sd_configs: [{{region: {REGION}, port: {port}}}]
    relabel_configs:
      - {{source_labels: [__meta_ec2_instance_id], target_label: instance_id}}
""")
    # when `promwatch scrape --config` runs, then both instances are scraped, up, with their labels.
    assert main(["scrape", "--config", str(config)]) == 0
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    up = {(d["instance"], d["instance_id"]): d["up"] for d in documents if "up" in d}
    assert up == {(f"{i['PrivateIpAddress']}:{port}", i["InstanceId"]): 1 for i in instances}


def test_promwatch_targets_lists_ec2_instances_with_their_tags_and_what_relabelling_keeps(
        aws: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given three tagged instances in the emulator, one of them env=dev, and a job keeping env=prod,
    from promwatch_tools.cli import main

    ec2 = boto3.client("ec2", region_name=REGION)
    subnet = _subnet(ec2, "127.0.8.0/24")
    prod = _instances(ec2, subnet, {"env": "prod", "Name": "web"}, count=2)
    dev = _instances(ec2, subnet, {"env": "dev", "Name": "dev"})
    config = tmp_path / "scrape.yaml"
    config.write_text(f"""
scrape_configs:
  - job_name: node
    ec2_sd_configs: [{{region: {REGION}, port: 9100}}]
    relabel_configs:
      - {{source_labels: [__meta_ec2_tag_env], regex: prod, action: keep}}
      - {{source_labels: [__meta_ec2_tag_Name], target_label: name}}
""")
    # when `promwatch targets --output json` runs,
    assert main(["targets", "--config", str(config), "--output", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    # then every instance is listed with its __meta_ec2_tag_* labels, the prod ones kept with
    # their scrape URL and labels, the dev one dropped with the reason.
    by_id = {row["discovered_labels"]["__meta_ec2_instance_id"]: row for row in rows}
    assert set(by_id) == {i["InstanceId"] for i in [*prod, *dev]}
    for instance in prod:
        row = by_id[instance["InstanceId"]]
        assert row["discovered_labels"]["__meta_ec2_tag_env"] == "prod"
        assert row["labels"] == {"instance": f"{instance['PrivateIpAddress']}:9100", "job": "node", "name": "web"}
        assert row["scrape_url"] == f"http://{instance['PrivateIpAddress']}:9100/metrics"
        assert row["dropped_reason"] is None
    dropped = by_id[dev[0]["InstanceId"]]
    assert dropped["labels"] is None and dropped["scrape_url"] is None and "relabel" in dropped["dropped_reason"]
