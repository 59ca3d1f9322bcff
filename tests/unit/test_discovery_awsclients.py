"""AWS discovery clients: role_arn assumed once and again before expiry, endpoint honoured, aws_sd_configs roles."""
from __future__ import annotations

import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, NoRegionError
from promwatch.discovery import AwsClients, AwsClientSpec, DiscoveryEnv, DiscoveryError
from promwatch.discovery.awsapi import api_client
from promwatch.discovery.awsclients import ROLE_REFRESH_MARGIN_SECONDS, RoleCredentials
from promwatch.discovery.ec2 import Ec2SDConfig
from promwatch.discovery.ecs import EcsSDConfig
from promwatch.scrape import ConfigError, parse_config

ROLE = "arn:aws:iam::210987654321:role/promwatch-discovery"


class FakeSts:
    def __init__(self, lifetime: float, now: list[float], error: bool = False) -> None:
        self.calls: list[dict[str, str]] = []
        self._lifetime, self._now, self._error = lifetime, now, error

    def assume_role(self, **arguments: str) -> dict[str, Any]:
        self.calls.append(arguments)
        if self._error:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not trusted"}}, "AssumeRole")
        expires = datetime.datetime.fromtimestamp(self._now[0] + self._lifetime, tz=datetime.UTC)
        n = len(self.calls)
        return {"Credentials": {"AccessKeyId": f"ASIA{n}", "SecretAccessKey": f"secret{n}",
                                "SessionToken": f"token{n}", "Expiration": expires}}


class Made:
    def __init__(self, sts: FakeSts) -> None:
        self.sts = sts
        self.clients: list[tuple[str, str | None, str | None, RoleCredentials | None]] = []

    def __call__(self, service: str, region: str | None, endpoint: str | None,
                 credentials: RoleCredentials | None) -> Any:
        if service == "sts":
            assert credentials is None  # the role is assumed with the environment's own credentials
            return self.sts
        self.clients.append((service, region, endpoint, credentials))
        return object()


def test_a_role_is_assumed_once_and_again_shortly_before_its_credentials_expire() -> None:
    # Given a role whose credentials last an hour,
    now = [1_000_000.0]
    made = Made(FakeSts(3600, now))
    clients = AwsClients(made, clock=lambda: now[0])
    spec = AwsClientSpec("ec2", "eu-west-1", None, ROLE, "ext-1")
    # when a client is asked for three times: at once, within the hour, and near its end,
    first = clients(spec)
    now[0] += 3600 - ROLE_REFRESH_MARGIN_SECONDS - 1
    second = clients(spec)
    now[0] += 2
    third = clients(spec)
    # then the role was assumed twice, with the external ID, and the client made anew with the new keys.
    assert made.sts.calls == [{"RoleArn": ROLE, "RoleSessionName": "promwatch-discovery", "ExternalId": "ext-1"}] * 2
    assert first is second and third is not first
    assert [c[3].access_key_id if c[3] else None for c in made.clients] == ["ASIA1", "ASIA2"]
    assert "secret" not in repr(made.clients[0][3])


def test_a_role_that_cannot_be_assumed_is_a_discovery_error_naming_it() -> None:
    # given STS refusing the role
    now = [0.0]
    clients = AwsClients(Made(FakeSts(3600, now, error=True)), clock=lambda: now[0])
    # when a client is asked for under the role, then the discovery error names the role and the refusal
    with pytest.raises(DiscoveryError, match=r"sts:AssumeRole of '.*promwatch-discovery' failed: .*AccessDenied"):
        clients(AwsClientSpec("ecs", "eu-west-1", None, ROLE))


def test_plain_settings_use_the_environments_client_and_an_endpoint_or_role_a_client_for_them() -> None:
    # Given an environment recording which edge is asked,
    asked: list[object] = []
    env = DiscoveryEnv(aws_client=lambda service, region: asked.append((service, region)),
                       aws_client_for=lambda spec: asked.append(spec))
    # when clients are asked for plain, endpoint and role settings,
    api_client(env, Ec2SDConfig(region="eu-west-1"), "ec2", endpoint=None)
    api_client(env, Ec2SDConfig(endpoint="https://vpce-1.ec2.eu-west-1.vpce.amazonaws.com"), "ec2",
               endpoint="https://vpce-1.ec2.eu-west-1.vpce.amazonaws.com")
    api_client(env, EcsSDConfig(role_arn=ROLE, external_id="x"), "ec2", endpoint=None)
    # then the plain one is the environment's shared client, the others made for their spec.
    assert asked == [
        ("ec2", "eu-west-1"),
        AwsClientSpec("ec2", None, "https://vpce-1.ec2.eu-west-1.vpce.amazonaws.com"),
        AwsClientSpec("ec2", None, None, ROLE, "x"),
    ]


def test_aws_sd_configs_roles_become_their_mechanism_with_the_shared_keys() -> None:
    # given aws_sd_configs with an ec2 and an ecs role
    config = parse_config(f"""
scrape_configs:
  - job_name: n
    aws_sd_configs:
      - {{role: ec2, region: eu-west-1, port: 9100, role_arn: "{ROLE}", refresh_interval: 2m,
         filters: [{{name: instance-state-name, values: [running]}}]}}
      - {{role: ecs, clusters: [prod], ecs_service_discovery: {{docker_label: }}}}
""")
    # when their mechanisms are made
    ec2, ecs = (sd.mechanism() for _, sd in config.scrape_configs[0].sd_configs())  # type: ignore[attr-defined]
    # then each role is its mechanism with the shared keys read, and the ecs defaults applied
    assert isinstance(ec2, Ec2SDConfig) and isinstance(ecs, EcsSDConfig)
    assert (ec2.region, ec2.port, ec2.role_arn, ec2.refresh_interval) == ("eu-west-1", 9100, ROLE, 120.0)
    assert ec2.filters[0].values == ["running"]
    assert ecs.clusters == ["prod"] and ecs.port == 80
    assert ecs.ecs_service_discovery is not None and ecs.ecs_service_discovery.docker_label is not None
    assert ecs.ecs_service_discovery.docker_label.sd_port_label == "ECS_PROMETHEUS_EXPORTER_PORT"


@pytest.mark.parametrize(("entry", "message"), [
    ("{role: rds}", "role 'rds' is a Prometheus role promwatch does not discover; expected 'ec2' or 'ecs'"),
    ("{role: s3}", "role: Input should be 'ec2' or 'ecs'"),
    ("{region: eu-west-1}", "role: required key is missing"),
    ("{role: ecs, filters: [{name: a, values: [b]}]}", "filters is a key of role ec2, not of role ecs"),
    ("{role: ec2, clusters: [prod]}", "clusters is a key of role ecs, not of role ec2"),
    ("{role: ec2, ecs_service_discovery: {docker_label: {}}}", "ecs_service_discovery is a key of role ecs"),
    ("{role: ecs, endpoint: 'ecs.eu-west-1.amazonaws.com'}", "is not an endpoint URL"),
    ("{role: ecs, port: 9100, ecs_service_discovery: {docker_label: {}}}", "port is not used with ecs_service_discovery"),
])
def test_a_bad_aws_sd_config_names_the_problem(entry: str, message: str) -> None:
    # given a bad aws_sd_configs entry, when parsed, then the problem is named
    with pytest.raises(ConfigError, match=message):
        parse_config(f"scrape_configs: [{{job_name: n, aws_sd_configs: [{entry}]}}]")


def test_no_region_anywhere_is_a_discovery_error_saying_where_to_set_one() -> None:
    # Given an environment without a region (botocore refuses to make a regional client),
    def no_region(service: str, region: str | None) -> Any:
        raise NoRegionError()

    env = DiscoveryEnv(aws_client=no_region)
    # then discovery fails with a DiscoveryError (its job keeps its last list), not botocore's error.
    for sd in (Ec2SDConfig(), EcsSDConfig()):
        with pytest.raises(DiscoveryError, match="no AWS region: set region in the config, or AWS_REGION"):
            sd.discover(env)
