"""ec2_sd_configs and aws_sd_configs role ec2: DescribeInstances answers -> Prometheus' __meta_ec2_* labels."""
from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from promwatch.discovery import DiscoveryCache, DiscoveryEnv, DiscoveryError
from promwatch.discovery.ec2 import instance_targets
from promwatch.scrape import ConfigError, build_targets, parse_config

VPC_INSTANCE: dict[str, Any] = {
    "InstanceId": "i-0a1", "ImageId": "ami-1", "InstanceType": "m7g.large", "Architecture": "arm64",
    "State": {"Code": 16, "Name": "running"}, "Placement": {"AvailabilityZone": "eu-west-1a"},
    "PrivateIpAddress": "10.0.1.5", "PrivateDnsName": "ip-10-0-1-5.eu-west-1.compute.internal",
    "PublicIpAddress": "203.0.113.9", "PublicDnsName": "ec2-203-0-113-9.compute.amazonaws.com",
    "VpcId": "vpc-1", "SubnetId": "subnet-a", "InstanceLifecycle": "spot",
    "NetworkInterfaces": [
        {"SubnetId": "subnet-a", "Attachment": {"DeviceIndex": 0},
         "Ipv6Addresses": [{"Ipv6Address": "2001:db8::5", "IsPrimaryIpv6": False}]},
        {"SubnetId": "subnet-b", "Attachment": {"DeviceIndex": 2},
         "Ipv6Addresses": [{"Ipv6Address": "2001:db8::7", "IsPrimaryIpv6": True}]},
        {"SubnetId": "subnet-a", "Attachment": {"DeviceIndex": 1}, "Ipv6Addresses": []},
    ],
    "Tags": [{"Key": "Name", "Value": "web-1"}, {"Key": "aws:autoscaling:groupName", "Value": "web"},
             {"Key": "team-name", "Value": "core"}],
}


def test_an_instance_gets_every_label_prometheus_gives_it() -> None:
    # Given a VPC instance with public and IPv6 addresses, three ENIs and tags,
    reservations = [{"OwnerId": "123456789012", "Instances": [VPC_INSTANCE]}]
    # when translated with the region's zone IDs,
    [labels] = instance_targets(reservations, region="eu-west-1", port=9100, zone_ids={"eu-west-1a": "euw1-az3"})
    # then it has Prometheus' labels, lists comma-wrapped, tag names sanitized.
    assert labels == {
        "__address__": "10.0.1.5:9100",
        "__meta_ec2_instance_id": "i-0a1",
        "__meta_ec2_region": "eu-west-1",
        "__meta_ec2_owner_id": "123456789012",
        "__meta_ec2_ami": "ami-1",
        "__meta_ec2_architecture": "arm64",
        "__meta_ec2_availability_zone": "eu-west-1a",
        "__meta_ec2_availability_zone_id": "euw1-az3",
        "__meta_ec2_instance_lifecycle": "spot",
        "__meta_ec2_instance_state": "running",
        "__meta_ec2_instance_type": "m7g.large",
        "__meta_ec2_private_ip": "10.0.1.5",
        "__meta_ec2_private_dns_name": "ip-10-0-1-5.eu-west-1.compute.internal",
        "__meta_ec2_public_ip": "203.0.113.9",
        "__meta_ec2_public_dns_name": "ec2-203-0-113-9.compute.amazonaws.com",
        "__meta_ec2_default_ipv6_address": "2001:db8::7",
        "__meta_ec2_primary_ipv6_addresses": ",,,2001:db8::7,",
        "__meta_ec2_ipv6_addresses": ",2001:db8::5,2001:db8::7,",
        "__meta_ec2_vpc_id": "vpc-1",
        "__meta_ec2_primary_subnet_id": "subnet-a",
        "__meta_ec2_subnet_id": ",subnet-a,subnet-b,",
        "__meta_ec2_tag_Name": "web-1",
        "__meta_ec2_tag_aws_autoscaling_groupName": "web",
        "__meta_ec2_tag_team_name": "core",
    }


def test_an_ipv6_only_instance_is_reached_on_its_ipv6_address_and_one_without_address_is_left_out() -> None:
    # Given an instance with only a non-primary IPv6 address and a terminated one without any address,
    ipv6_only = {"InstanceId": "i-6", "ImageId": "ami-1", "InstanceType": "t3.micro", "State": {"Name": "running"},
                 "Placement": {"AvailabilityZone": "eu-west-1b"}, "VpcId": "vpc-1", "SubnetId": "subnet-a",
                 "NetworkInterfaces": [{"SubnetId": "subnet-a", "Attachment": {"DeviceIndex": 0},
                                        "Ipv6Addresses": [{"Ipv6Address": "2001:db8::6"}]}]}
    gone = {"InstanceId": "i-7", "ImageId": "ami-1", "InstanceType": "t3.micro", "State": {"Name": "terminated"},
            "Placement": {"AvailabilityZone": "eu-west-1b"}}
    # when translated (no zone IDs known),
    targets = instance_targets([{"Instances": [ipv6_only, gone]}], region="eu-west-1", port=80, zone_ids={})
    # then the first is one target in brackets, without primary addresses or zone ID; the second none.
    assert len(targets) == 1
    assert targets[0]["__address__"] == "[2001:db8::6]:80"
    assert targets[0]["__meta_ec2_default_ipv6_address"] == "2001:db8::6"
    assert "__meta_ec2_primary_ipv6_addresses" not in targets[0]
    assert "__meta_ec2_availability_zone_id" not in targets[0] and "__meta_ec2_private_ip" not in targets[0]


def test_an_instance_outside_a_vpc_has_no_vpc_or_ipv6_labels_and_a_stopped_one_is_listed() -> None:
    # Given a stopped EC2-Classic-style instance (no VPC) that still has a private IP,
    classic = {"InstanceId": "i-c", "ImageId": "ami-1", "InstanceType": "m1.small", "State": {"Name": "stopped"},
               "Placement": {"AvailabilityZone": "us-east-1a"}, "PrivateIpAddress": "10.1.1.1", "Platform": "windows"}
    # then, as in Prometheus, it is a target and its state and platform say what it is.
    [labels] = instance_targets([{"Instances": [classic]}], region="us-east-1", port=80, zone_ids={})
    assert labels["__meta_ec2_instance_state"] == "stopped" and labels["__meta_ec2_platform"] == "windows"
    assert not {"__meta_ec2_vpc_id", "__meta_ec2_subnet_id", "__meta_ec2_ipv6_addresses"} & set(labels)


def _stubbed_env(stubber_setup: Any) -> tuple[DiscoveryEnv, Stubber]:
    client = boto3.client("ec2", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber_setup(stubber)
    stubber.activate()

    def aws_client(service: str, region: str | None) -> Any:
        assert (service, region) == ("ec2", "eu-west-1")
        return client

    return DiscoveryEnv(aws_client=aws_client), stubber


def test_discovery_pages_through_instances_1000_at_a_time_with_the_filters_and_relabelling_uses_the_tags() -> None:
    # Given two pages of instances for a tag filter, and a job keeping env=prod,
    config = parse_config("""
scrape_configs:
  - job_name: node
    ec2_sd_configs: [{region: eu-west-1, port: 9100, filters: [{name: "tag:team", values: [core]}]}]
    relabel_configs:
      - {source_labels: [__meta_ec2_tag_env], regex: prod, action: keep}
      - {source_labels: [__meta_ec2_tag_Name], target_label: name}
""")
    job = config.scrape_configs[0]
    filters = [{"Name": "tag:team", "Values": ["core"]}]

    def answers(stubber: Stubber) -> None:
        stubber.add_response("describe_instances", {"NextToken": "p2", "Reservations": [{"Instances": [
            {**VPC_INSTANCE, "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "Name", "Value": "a"}]}]}]},
            {"Filters": filters, "MaxResults": 1000})
        stubber.add_response("describe_instances", {"Reservations": [{"Instances": [
            {**VPC_INSTANCE, "InstanceId": "i-2", "PrivateIpAddress": "10.0.1.6",
             "Tags": [{"Key": "env", "Value": "dev"}]}]}]}, {"Filters": filters, "NextToken": "p2", "MaxResults": 1000})
        stubber.add_response("describe_availability_zones", {"AvailabilityZones": [
            {"ZoneName": "eu-west-1a", "ZoneId": "euw1-az3"}]}, {})

    env, stubber = _stubbed_env(answers)
    # when discovered and built,
    groups, failures = DiscoveryCache().groups(job.job_name, job.sd_configs(), env)
    targets, dropped = build_targets(job, discovered=groups)
    # then both pages were read, each asked for at most 1,000 instances (EC2's largest page: an
    # unpaginated call over a large fleet may time out), and only the prod instance is a target,
    # with its tag as a label.
    stubber.assert_no_pending_responses()
    assert failures == [] and len(dropped) == 1
    assert [(t.url, dict(t.labels)) for t in targets] == [
        ("http://10.0.1.5:9100/metrics", {"job": "node", "instance": "10.0.1.5:9100", "name": "a"})]
    assert groups[0].source == "eu-west-1"


def test_an_api_error_is_a_discovery_error_and_a_zone_id_error_only_loses_that_label() -> None:
    # Given DescribeInstances refused (no permission),
    def refused(stubber: Stubber) -> None:
        stubber.add_client_error("describe_instances", "UnauthorizedOperation", "not allowed")

    env, _ = _stubbed_env(refused)
    config = parse_config("scrape_configs: [{job_name: n, aws_sd_configs: [{role: ec2, region: eu-west-1}]}]")
    [(_, sd)] = config.scrape_configs[0].sd_configs()
    # then discovery fails naming the call and the region.
    with pytest.raises(DiscoveryError, match=r"ec2:DescribeInstances in eu-west-1: .*UnauthorizedOperation"):
        sd.discover(env)

    # Given instances listed but DescribeAvailabilityZones refused,
    def no_zones(stubber: Stubber) -> None:
        stubber.add_response("describe_instances", {"Reservations": [{"Instances": [VPC_INSTANCE]}]},
                             {"Filters": [], "MaxResults": 1000})
        stubber.add_client_error("describe_availability_zones", "UnauthorizedOperation", "not allowed")

    env, _ = _stubbed_env(no_zones)
    # then the instance is discovered without a zone ID.
    [group] = sd.discover(env)
    assert "__meta_ec2_availability_zone_id" not in group.targets[0]
    assert group.targets[0]["__meta_ec2_availability_zone"] == "eu-west-1a"


@pytest.mark.parametrize(("entry", "message"), [
    ("{filters: [{name: 'tag:env', values: []}]}", "values: List should have at least 1 item"),
    ("{access_key: AKIAEXAMPLE, secret_key: hunter2}", "access_key & secret_key: static AWS keys are not read"),
    ("{profile: ops}", "profile: named profiles are not read from the scrape config"),
    ("{role_arn: 'arn:aws:iam::1:role/x'}", "is not an IAM role ARN"),
    ("{external_id: abc}", "external_id goes with role_arn"),
    ("{port: 70000}", "port: Input should be less than or equal to 65535"),
    # a zone or a partial name is not a region (the rule eks_region follows too)
    ("{region: eu-west-1a}", "region: .*'eu-west-1a' is not an AWS region"),
    ("{region: eu-west}", "region: .*'eu-west' is not an AWS region"),
    ("{tls_config: {insecure_skip_verify: true}}", "unknown key 'tls_config'"),
])
def test_a_bad_ec2_sd_config_names_the_key(entry: str, message: str) -> None:
    # Given an ec2_sd_configs entry Prometheus would read differently or not at all, then the config is refused.
    with pytest.raises(ConfigError, match=message) as raised:
        parse_config(f"scrape_configs: [{{job_name: n, ec2_sd_configs: [{entry}]}}]")
    assert "hunter2" not in str(raised.value)
