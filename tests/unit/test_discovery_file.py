"""file_sd_configs: files -> target groups -> targets, and the cache keeping the last good list."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from promwatch.discovery import DiscoveryCache, DiscoveryEnv, DiscoveryError
from promwatch.scrape import ConfigError, build_targets, config_directory, parse_config


def _env() -> DiscoveryEnv:
    def no_aws(service: str, region: str | None) -> object:
        raise AssertionError(f"no AWS call expected ({service})")
    return DiscoveryEnv(aws_client=no_aws)


def _config(directory: Path, body: str) -> str:
    path = directory / "scrape.yaml"
    path.write_text(body)
    return str(path)


def test_groups_from_json_and_yaml_files_become_targets_with_their_labels(tmp_path: Path) -> None:
    # Given two target files beside the config, one JSON and one YAML, matched by a glob,
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "a.json").write_text(json.dumps([
        {"targets": ["10.0.0.1:9100", "10.0.0.2:9100"], "labels": {"env": "prod"}}]))
    (tmp_path / "targets" / "b.yaml").write_text("- targets: ['10.0.0.3:9100']\n  labels: {env: dev, __meta_rack: r7}\n")
    origin = _config(tmp_path, "")
    config = parse_config("""
scrape_configs:
  - job_name: node
    file_sd_configs: [{files: ["targets/*.json", "targets/*.yaml"]}]
    relabel_configs:
      - {source_labels: [__meta_rack], target_label: rack}
""", origin=origin, config_dir=config_directory(origin))
    job = config.scrape_configs[0]
    # when discovered and built,
    groups, failures = DiscoveryCache().groups(job.job_name, job.sd_configs(), _env())
    targets, dropped = build_targets(job, discovered=groups)
    # then every target is there with its group's labels, relabelled as configured.
    assert failures == [] and dropped == []
    labels = {t.address: dict(t.labels) for t in targets}
    assert labels["10.0.0.1:9100"] == {"job": "node", "instance": "10.0.0.1:9100", "env": "prod"}
    assert labels["10.0.0.3:9100"] == {"job": "node", "instance": "10.0.0.3:9100", "env": "dev", "rack": "r7"}
    assert groups[0].labels["__meta_filepath"] == str(tmp_path / "targets" / "a.json")


def test_a_failing_file_keeps_the_last_good_list(tmp_path: Path) -> None:
    # Given a target file discovered once,
    target_file = tmp_path / "t.json"
    target_file.write_text(json.dumps([{"targets": ["10.0.0.1:9100"]}]))
    config = parse_config("scrape_configs: [{job_name: n, file_sd_configs: [{files: [t.json], refresh_interval: 1ms}]}]",
                          origin=str(tmp_path / "scrape.yaml"), config_dir=str(tmp_path))
    job = config.scrape_configs[0]
    clock = iter([0.0, 1.0])
    cache = DiscoveryCache(monotonic=lambda: next(clock))
    first, _ = cache.groups(job.job_name, job.sd_configs(), _env())
    # when it is broken on the next refresh,
    target_file.write_text("{not json")
    second, failures = cache.groups(job.job_name, job.sd_configs(), _env())
    # then the last good list is kept and the failure is reported, naming the file.
    assert second == first
    assert len(failures) == 1 and failures[0].stale and "t.json" in failures[0].error


@pytest.mark.parametrize(("content", "problem"), [
    ('{"targets": ["a:1"]}', "expected a list of target groups"),
    ('[{"targets": "a:1"}]', "targets: expected a list"),
    ('[{"targets": ["a:1"], "labels": {"bad-name": "x"}}]', "labels: expected label names"),
    ('[{"targets": ["a:1"], "label": {}}]', "unknown key"),
    ("[" * 100_000, "t.json"),
])
def test_a_bad_file_is_a_discovery_error_naming_it(tmp_path: Path, content: str, problem: str) -> None:
    # Given a target file that is not a list of groups, then discovery fails naming the file and the problem.
    (tmp_path / "t.json").write_text(content)
    config = parse_config("scrape_configs: [{job_name: n, file_sd_configs: [{files: [t.json]}]}]",
                          origin=str(tmp_path / "scrape.yaml"), config_dir=str(tmp_path))
    with pytest.raises(DiscoveryError, match=problem):
        config.scrape_configs[0].sd_configs()[0][1].discover(_env())


def test_file_patterns_are_checked_when_the_config_loads() -> None:
    # Given patterns Prometheus refuses, then the config is refused naming the key.
    with pytest.raises(ConfigError, match=r"file_sd_configs\[0\]\.files.*\.json, \.yml or \.yaml"):
        parse_config("scrape_configs: [{job_name: n, file_sd_configs: [{files: [targets.txt]}]}]")
    with pytest.raises(ConfigError, match="last path element"):
        parse_config("scrape_configs: [{job_name: n, file_sd_configs: [{files: ['*/t.json']}]}]")
