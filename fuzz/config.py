"""Config loaders: the scrape configuration and the Container Insights roll-up rules.

Input: the bytes of a YAML file, as S3 returns them. Both loaders read it (through a stub S3
client, so the bytes-to-text step is fuzzed too) and must raise nothing but their documented
errors: :class:`~promwatch.scrape.ConfigError` and :class:`~promwatch.insights.RulesError`.
What validates must then be usable without raising: a scrape config builds every job's
targets and applies its metric relabelling to a sample; rules roll up the repository's
fixture events into EMF documents that pass :func:`promwatch.emf.problems`.
"""
from __future__ import annotations

import io
from typing import Any

import yaml
from promwatch.emf import problems
from promwatch.insights import Rollup, RulesError, compile_rules, load_rules, parse_event
from promwatch.scrape import ConfigError, ConfigLoader, build_targets, relabel

from fuzz.harness import Harness, check, repo_files
from fuzz.mutators import YAML, structured

MAX_LEN = 2048
_SAMPLE_LABELS = {"__name__": "http_requests_total", "job": "fuzz", "instance": "127.0.0.1:9100", "code": "200"}


class _Bucket:
    """An S3 client holding one object: the input."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.body)}


def _fixture_events() -> list[Any]:
    lines = [
        line for path in repo_files("tests/fixtures/insights/v0_events.jsonl", "tests/fixtures/insights/v1_events.jsonl")
        for line in path.read_text().splitlines() if line.strip()
    ]
    return [parse_event(line) for line in lines]


_EVENTS = _fixture_events()


def _scrape_config(data: bytes) -> None:
    try:
        config = ConfigLoader(s3_client=_Bucket(data)).load("s3://fuzz/scrape.yaml")
    except ConfigError:
        return
    # A config that validates must be usable: nothing may raise from here.
    for job in config.scrape_configs:
        build_targets(job, config.global_.external_labels)
        relabel(_SAMPLE_LABELS, job.metric_relabel_configs)


def _rules(data: bytes) -> None:
    try:
        rules = compile_rules(load_rules("s3://fuzz/rules.yaml", s3=_Bucket(data)))
    except RulesError:
        return
    documents, _ = Rollup(rules).add_all(_EVENTS).documents()
    for document in documents:
        found = problems(document)
        check(not found, f"a roll-up document of valid rules is not valid EMF: {found}\n{document!r}")


def test_one_input(data: bytes) -> None:
    """Load the input as a scrape config and as rules."""
    _scrape_config(data)
    _rules(data)


def seeds() -> list[bytes]:
    """The repository's scrape config and roll-up rules, one job or rule per seed (a small YAML
    document parses many times faster than the whole file, and each job and rule is validated
    alike)."""
    found: list[bytes] = []
    for path in repo_files("config/scrape.yaml"):
        config = yaml.safe_load(path.read_text())
        found += [_yaml({"global": config["global"], "scrape_configs": [job]}) for job in config["scrape_configs"]]
    for path in repo_files("config/insights.yaml", "layers/promwatch/promwatch/insights/default_rules.yaml"):
        rules = yaml.safe_load(path.read_text())
        found += [_yaml({**rules, "rules": [rule]}) for rule in rules["rules"]]
    return list(dict.fromkeys(found))  # config/insights.yaml is the packaged default


def _yaml(document: object) -> bytes:
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=None).encode()


HARNESS = Harness(
    name="config",
    test_one_input=test_one_input,
    seeds=seeds,
    share=2,
    max_len=MAX_LEN,
    mutator=structured(YAML),
    dictionary=(
        "global:", "scrape_configs:", "- job_name: ", "static_configs:", "targets: ", "labels: ",
        "relabel_configs:", "metric_relabel_configs:", "source_labels: ", "regex: ", "action: ",
        "replace", "keep", "drop", "hashmod", "labelmap", "labeldrop", "labelkeep", "keepequal",
        "dropequal", "lowercase", "uppercase", "modulus: ", "target_label: ", "replacement: ",
        "separator: ", "scrape_interval: ", "scrape_timeout: ", "body_size_limit: ", "sample_limit: ",
        "external_labels:", "params:", "basic_auth:", "password: ", "password_file: ",
        "authorization:", "credentials: ", "bearer_token: ", "tls_config:", "emf:", "namespace: ",
        "metric_declarations:", "dimensions: ", "metric_name_selectors: ", "label_matchers:",
        "dimension_rollup_option: ", "log_only_labels: ", "units:", "storage_resolution: ",
        "output:", "rules:", "- name: ", "types: ", "group_by: ", "metrics: ", "derive:",
        "period: ", "missing_value: ", "label:", "workload", "&a ", "*a", "<<: ", "!!str ",
        "!!binary ", "- ", "{", "}", "[", "]", "1m", "10MB", "1h30m", "ssm:/", "secretsmanager:",
        "$1", "${1}", "(.*)", "\\0", "\\x", "\\u", ".nan", ".inf", "-.inf", "-1", "0", "1e3",
    ),
)
