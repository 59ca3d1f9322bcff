"""Scrape config validation: Prometheus defaults, global inheritance, messages, secrets."""
from __future__ import annotations

import pytest
from promwatch.scrape import ConfigError, ConfigLoader, parse_config
from promwatch.scrape.units import format_duration, parse_duration, parse_size

GOOD = """
global:
  scrape_interval: 30s
  external_labels: {region: eu}
  body_size_limit: 10MB
  emf: {units: {"x_bytes": Bytes}}
scrape_configs:
  - job_name: prod/task-service
    static_configs: [{targets: ["127.0.0.1:3000"], labels: {env: prod}}]
  - job_name: node
    scrape_interval: 5s
    body_size_limit: 1KB
    emf: {namespace: Node}
"""


def test_defaults_and_global_inheritance() -> None:
    # Given a config with some global settings, when parsed, then jobs inherit what they leave out.
    config = parse_config(GOOD)
    task, node = config.scrape_configs
    assert (task.interval, task.timeout, task.metrics_path, task.scheme) == (30.0, 10.0, "/metrics", "http")
    assert task.honor_timestamps is True and task.honor_labels is False and task.strict is False
    assert task.body_size_limit == 10 * 1024 * 1024
    assert task.emf.namespace == "prod/task-service"  # namespace defaults to the job name
    assert task.emf.units == {"x_bytes": "Bytes"}
    # A job's own settings win; a global timeout longer than its interval shrinks to it.
    assert (node.interval, node.timeout, node.body_size_limit) == (5.0, 5.0, 1024)
    assert node.emf.namespace == "Node" and node.emf.units == {"x_bytes": "Bytes"}


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("scrape_configs: [{job_name: a, relabel_configs: [{action: Bogus}]}]",
         "scrape_configs[0].relabel_configs[0].action: Input should be 'replace'"),
        ("scrape_configs: [{job_name: a, relabel_configs: [{}, {action: hashmod, target_label: x}]}]",
         "scrape_configs[0].relabel_configs[1]: relabel configuration for hashmod requires non-zero modulus"),
        ("scrape_configs: [{job_name: a, scrape_interval: 5 minutes}]",
         "scrape_configs[0].scrape_interval: '5 minutes' is not a duration; expected e.g. 15s"),
        ("scrape_configs: [{job_name: a, scrape_interval: 10s, scrape_timeout: 1m}]",
         "scrape timeout 1m is greater than scrape interval 10s"),
        ("scrape_configs: [{job_name: a, scheme: ftp}]", "scrape_configs[0].scheme: Input should be 'http' or 'https' (got 'ftp')"),
        ("scrape_configs: [{job_name: a, scrap_interval: 1m}]",
         "scrape_configs[0].scrap_interval: unknown key 'scrap_interval'; expected one of allow_link_local"),
        ("scrape_configs: [{job_name: a}, {job_name: a}]", "found multiple scrape configs with job name 'a'"),
        ("scrape_configs: [{job_name: a, static_configs: [{targets: ['http://x:1/metrics']}]}]",
         "expected host:port (no scheme or path)"),
        ("scrape_configs: [{job_name: a, body_size_limit: 10 MB}]", "'10 MB' is not a size"),
        # found by fuzzing: a size that is not text or an integer raised AttributeError
        ("global: {body_size_limit: {a: 1}}", "global.body_size_limit: {'a': 1} is not a size"),
        ("scrape_configs: [{job_name: a, body_size_limit: [10MB]}]", "body_size_limit: ['10MB'] is not a size"),
        ("scrape_configs: [{job_name: a, body_size_limit: 1.5}]", "body_size_limit: 1.5 is not a size"),
        ("scrape_configs: [{job_name: a, body_size_limit: true}]", "body_size_limit: True is not a size"),
        ("global: {body_size_limit: null}", "global.body_size_limit: None is not a size"),
        ("scrape_configs: [{job_name: a, basic_auth: {username: u}, bearer_token: t}]",
         "at most one of basic_auth & bearer_token must be configured"),
        ("scrape_configs: [{job_name: a, tls_config: {cert_file: c}}]", "needs both cert_file and key_file"),
        ("global: {scrape_timeout: never}", "global.scrape_timeout: 'never' is not a duration"),
        ("scrape_configs: [{static_configs: []}]", "scrape_configs[0].job_name: required key is missing"),
        ("scrape_configs: [{job_name: a, emf: {storage_resolution: 5}}]", "scrape_configs[0].emf.storage_resolution"),
        ("scrape_configs: [{job_name: a, sample_limit: -1}]", "scrape_configs[0].sample_limit: Input should be greater than or equal to 0"),
        ("- just a list", "expected a mapping with 'global' and 'scrape_configs'"),
        ("scrape_configs: [\n  {job_name: a\n", "not valid YAML"),
    ],
)
def test_bad_config_names_key_value_and_allowed(yaml_text: str, expected: str) -> None:
    # Given a config with one mistake, when parsed, then ConfigError names the key path,
    # the bad value and what is allowed.
    with pytest.raises(ConfigError) as raised:
        parse_config(yaml_text, origin="scrape.yaml")
    assert expected in str(raised.value)
    assert str(raised.value).startswith("scrape.yaml")


def test_secrets_never_show_in_repr_or_errors() -> None:
    # Given credentials in the config, then neither the model's repr nor an error echoes them.
    config = parse_config(
        "scrape_configs: [{job_name: a, basic_auth: {username: u, password: hunter2}}]"
    )
    assert "hunter2" not in repr(config) and "hunter2" not in str(config.model_dump())
    with pytest.raises(ConfigError) as raised:
        parse_config("scrape_configs: [{job_name: a, basic_auth: {username: u, password: 123456789}}]")
    assert "123456789" not in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        parse_config("scrape_configs: [{job_name: a, authorization: {type: Basic, credentials: s3cr3t-value}}]")
    assert "s3cr3t-value" not in str(raised.value)


def test_loader_caches_for_ttl(tmp_path: pytest.TempPathFactory) -> None:
    # Given a config file and a loader with a 60 s TTL on a fake clock,
    path = tmp_path / "scrape.yaml"  # type: ignore[operator]
    path.write_text("scrape_configs: [{job_name: a}]")
    now = [0.0]
    loader = ConfigLoader(ttl_seconds=60, clock=lambda: now[0])
    first = loader.load(str(path))
    # when the file changes within the TTL, then the cached config is returned;
    path.write_text("scrape_configs: [{job_name: b}]")
    now[0] = 59
    assert loader.load(str(path)) is first
    # after the TTL the new content is read.
    now[0] = 61
    assert loader.load(str(path)).scrape_configs[0].job_name == "b"


def test_loader_reports_missing_file_and_bad_s3_uri() -> None:
    # Given sources that cannot be read, then ConfigError says which and why.
    with pytest.raises(ConfigError, match=r"cannot read config file '/nonexistent/scrape\.yaml'"):
        ConfigLoader().load("/nonexistent/scrape.yaml")
    with pytest.raises(ConfigError, match="expected s3://bucket/key"):
        ConfigLoader(s3_client=object()).load("s3://bucket-only")


@pytest.mark.parametrize(("text", "seconds"), [("15s", 15), ("1m30s", 90), ("500ms", 0.5), ("1h", 3600), ("0", 0),
                                               ("1d", 86400), ("2w", 14 * 86400)])
def test_durations(text: str, seconds: float) -> None:
    # Given Prometheus durations, then they read as seconds and print back the same way.
    assert parse_duration(text) == seconds
    if seconds and seconds < 86400:
        assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "1", "1m1h", "15 s", "-1s", "1.5s"])
def test_bad_durations(text: str) -> None:
    # Given text that is not a Prometheus duration, then it is refused.
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_sizes_are_base2() -> None:
    # Given Prometheus sizes, then KB/MB are powers of 1024 as in Prometheus (units.Base2Bytes).
    assert parse_size("10MB") == 10 * 1024**2
    assert parse_size("512KB") == 512 * 1024
    assert parse_size("0") == 0
    assert parse_size(100) == 100
