"""Fault injection: the scrape config (SSM Parameter Store, S3) and credentials (SSM, Secrets
Manager).

A config or credential that cannot be read the first time is a clear error naming its source
(never a secret); one that cannot be read again when its TTL ran out is kept as it was, so an
SSM or Secrets Manager outage does not stop the scrapes.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from promwatch.coldstart import aws_client
from promwatch.httpclient import SecretResolver
from promwatch.scrape import ConfigLoader, ConfigReadError, ScrapeRuntime, ScrapeSettings, parse_config

from tests.support.faultproxy import FaultProxy
from tests.support.scrapeworld import (
    COUNTER,
    QUICK,
    SCHEDULE,
    ScrapeWorld,
    published,
    self_metric,
    sqs_event,
)

Worlds = Callable[..., ScrapeWorld]
CONFIG = "scrape_configs: [{job_name: from-aws, static_configs: [{targets: ['10.0.0.1:9100']}]}]"
SECRET = "t0ken-never-shown"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sources(aws: str) -> None:
    """The config in an SSM parameter and an S3 object, made directly on moto."""
    boto3.client("ssm", endpoint_url=aws).put_parameter(Name="/promwatch/scrape", Value=CONFIG, Type="String")
    s3 = boto3.client("s3", endpoint_url=aws)
    s3.create_bucket(Bucket="promwatch-config")
    s3.put_object(Bucket="promwatch-config", Key="scrape.yaml", Body=CONFIG.encode())


@pytest.mark.parametrize(("source", "service", "operation", "kind"), [
    ("ssm:/promwatch/scrape", "ssm", "GetParameter", "throttle"),
    ("ssm:/promwatch/scrape", "ssm", "GetParameter", "reset"),
    ("s3://promwatch-config/scrape.yaml", "s3", "GET /promwatch-config/scrape.yaml", "error503"),
    ("s3://promwatch-config/scrape.yaml", "s3", "GET /promwatch-config/scrape.yaml", "hang"),
])
def test_a_transient_fault_reading_the_config_is_retried(proxy: FaultProxy, sources: None, source: str, service: str,
                                                         operation: str, kind: str) -> None:
    # Given the config's read failing twice (throttled, reset, 503, hung past the read timeout),
    fault = proxy.add(kind, service=service, operation=operation, times=2, seconds=1.0)
    loader = ConfigLoader(ssm_client=aws_client("ssm", **QUICK), s3_client=aws_client("s3", **QUICK))
    # when it is loaded, then botocore retried it (3 tries) and the config is there.
    assert loader.load(source).scrape_configs[0].job_name == "from-aws"
    assert fault.fired == 2


def test_config_unreadable_at_first_load_fails_the_invocation_naming_it(
        proxy: FaultProxy, sources: None, worlds: Worlds, tmp_path: Path) -> None:
    # Given a scrape runtime reading its config from SSM, and SSM failing for good (HTTP 500),
    world = worlds(1)
    env = world.environment()
    settings = ScrapeSettings(config_source="ssm:/promwatch/scrape", stage="faults")
    runtime = ScrapeRuntime(settings, state_store=env.store, sink=env.sink)
    with proxy.fault("error500", service="ssm", times=None):
        # when the schedule fires, then the invocation fails with an error naming the parameter
        # (Lambda's Errors metric and log; EventBridge's retry policy tries it again);
        with pytest.raises(ConfigReadError, match="ssm:/promwatch/scrape"):
            runtime.handle(SCHEDULE)
        # and an SQS batch hands every message back (nothing was scraped, SQS delivers them again).
        event = sqs_event('{"v":1,"targets":["from-aws|http://10.0.0.1:9100/metrics"]}', '{"v":1,"targets":["x|y"]}')
        assert runtime.handle(event) == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}


@pytest.mark.parametrize("source", ["ssm:/promwatch/scrape", "s3://promwatch-config/scrape.yaml"])
def test_config_unreadable_at_refresh_keeps_the_one_in_hand(proxy: FaultProxy, sources: None, source: str,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    # Given a config loaded once (TTL 300 s), and then its source failing for good,
    clock = Clock()
    loader = ConfigLoader(clock=clock)
    first = loader.load(source)
    clock.now = 301.0
    # when it is loaded after its TTL ran out,
    with proxy.fault("error503", times=None), caplog.at_level(logging.ERROR, logger="promwatch.scrape"):
        again = loader.load(source)
        clock.now = 400.0
        later = loader.load(source)
    # then the config in hand is used (logged once: it is kept for another TTL, not re-read on
    # every invocation of the outage),
    assert again is first and later is first
    (kept,) = [r.getMessage() for r in caplog.records if "kept" in r.getMessage()]
    assert kept.startswith(f"config {source}")
    # and once the source is back and the TTL ran out again, it is read again.
    clock.now = 700.0
    boto3.client("ssm", endpoint_url=proxy.url).put_parameter(
        Name="/promwatch/scrape", Value=CONFIG.replace("from-aws", "changed"), Type="String", Overwrite=True)
    s3 = boto3.client("s3", endpoint_url=proxy.url)
    s3.put_object(Bucket="promwatch-config", Key="scrape.yaml", Body=CONFIG.replace("from-aws", "changed").encode())
    assert loader.load(source).scrape_configs[0].job_name == "changed"


def _secret_world(worlds: Worlds, aws: str) -> ScrapeWorld:
    boto3.client("secretsmanager", endpoint_url=aws).create_secret(Name="promwatch/token", SecretString=SECRET)
    world = worlds(1)
    world.config = parse_config(
        "global: {scrape_interval: 1m}\n"
        f"scrape_configs: [{{job_name: app, authorization: {{credentials: 'secretsmanager:promwatch/token'}}, "
        f"static_configs: [{{targets: ['{world.hosts[0]}']}}]}}]")
    return world


def test_secret_unreadable_makes_the_target_down_naming_the_reference(
        proxy: FaultProxy, worlds: Worlds, aws: str, caplog: pytest.LogCaptureFixture) -> None:
    # Given a target whose bearer token is in Secrets Manager, scraped once,
    world = _secret_world(worlds, aws)
    (host,) = world.hosts
    env = world.environment()
    world.run(env, secrets=SecretResolver())
    world.set(30)
    # when a new execution environment (nothing cached) scrapes it while GetSecretValue fails
    # for good (throttled, after botocore's 3 tries),
    with proxy.fault("throttle", service="secretsmanager", times=None), \
            caplog.at_level(logging.WARNING, logger="promwatch.scrape"):
        failed = world.run(env, secrets=SecretResolver())
    # then the target is down (up 0 published, TargetsFailed) with an error naming the
    # reference and never the secret, and its baselines are untouched,
    (target,) = failed.targets
    assert not target.up and "secretsmanager:promwatch/token" in (target.error or "")
    assert all(SECRET not in r.getMessage() for r in caplog.records) and SECRET not in str(failed.to_dict())
    delivered = world.delivered()
    assert published(delivered, "up")[-1] == (host, 0)
    assert self_metric(delivered, "TargetsFailed") == 1
    assert world.baseline_version(host) == 1
    # and the next scrape, with Secrets Manager back, publishes the whole increase.
    world.set(80)
    world.run(env, secrets=SecretResolver())
    assert published(world.delivered(), COUNTER) == [(host, 80)]


def test_secret_unreadable_at_refresh_keeps_the_value_in_hand(proxy: FaultProxy, worlds: Worlds, aws: str) -> None:
    # Given a target whose token was read once (TTL 300 s),
    world = _secret_world(worlds, aws)
    (host,) = world.hosts
    env = world.environment()
    clock = Clock()
    secrets = SecretResolver(clock=clock)
    world.run(env, secrets=secrets)
    world.set(30)
    clock.now = 301.0
    # when its TTL ran out and Secrets Manager fails for good,
    with proxy.fault("error500", service="secretsmanager", times=None) as fault:
        report = world.run(env, secrets=secrets)
    # then the token in hand is used: the target is scraped and its increase published.
    assert fault.fired == 3 and report.targets[0].up
    assert published(world.delivered(), COUNTER) == [(host, 30)]
