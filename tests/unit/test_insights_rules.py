"""Roll-up rules: the shipped defaults, validation messages, and where rules are read from."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from promwatch.insights import RulesError, compile_rules, load_rules, parse_rules
from promwatch.insights.rules import dimension_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGED = ROOT / "layers" / "promwatch" / "promwatch" / "insights" / "default_rules.yaml"

ISSUE_EXAMPLE = """
namespace: ContainerInsights/Rollups
period: 60
rules:
  - name: namespace_cpu
    types: [Pod]
    group_by: [ClusterName, Namespace]
    metrics: [pod_cpu_usage_total, pod_memory_working_set]
  - name: team_memory
    types: [Pod]
    group_by: [ClusterName, label:team]
    metrics: [pod_memory_working_set]
  - name: rightsizing
    types: [Pod]
    group_by: [ClusterName, Namespace, workload]
    derive:
      cpu_request_utilization: pod_cpu_usage_total / pod_cpu_request * 100
    metrics: [cpu_request_utilization]
"""


def test_config_file_is_the_packaged_default() -> None:
    # The Lambda layer ships the same defaults config/insights.yaml documents
    # given the documented config/insights.yaml, when compared with the packaged defaults, then they are the same
    assert (ROOT / "config" / "insights.yaml").read_text() == PACKAGED.read_text()


def test_builtin_rules_answer_the_issue_questions() -> None:
    # Given the builtin rules, Then they roll up by namespace, workload, team, rightsizing, hourly node CPU
    config = load_rules("builtin")
    by_name = {rule.name: rule for rule in config.rules}
    assert by_name["namespace_usage"].group_by == ["ClusterName", "Namespace"]
    assert "workload" in by_name["workload_usage"].group_by
    assert "label:team" in by_name["team_usage"].group_by
    assert set(by_name["rightsizing"].derive) == {"cpu_request_utilization", "memory_request_utilization"}
    assert by_name["node_cpu_hourly"].period == 3600
    assert {rule.period_ms for rule in compile_rules(config)} == {60_000, 3_600_000}


def test_issue_example_parses_and_label_dimension_is_renamed() -> None:
    # given the issue's example rules
    config = parse_rules(ISSUE_EXAMPLE)
    # when compiled
    compiled = compile_rules(config)
    # then a label: group becomes a dimension named after the label
    assert compiled[1].dimensions == ("ClusterName", "team")
    assert compiled[2].dimensions == ("ClusterName", "Namespace", "workload")
    assert dimension_name("label:app.kubernetes.io/name") == "app.kubernetes.io/name"


def _with(rule_change: dict[str, Any], top: dict[str, Any] | None = None) -> str:
    document = yaml.safe_load(ISSUE_EXAMPLE)
    document["rules"][0].update(rule_change)
    document.update(top or {})
    return yaml.safe_dump(document)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_with({"period": 90}), "divides a day"),
        (_with({}, {"period": 45}), "divides a day"),
        (_with({"types": []}), "types"),
        (_with({"metrics": ["pod cpu"]}), "expected an event field name"),
        (_with({"derive": {"x": "a / b"}}), "not listed in metrics"),
        (_with({"derive": {"x": "open('f')"}, "metrics": ["x"]}), "not allowed"),
        (_with({"units": {"pod_cpu_usage_total": "Furlongs"}}), "not a CloudWatch unit"),
        (_with({"units": {"other": "Percent"}}), "not in metrics"),
        (_with({"group_by": ["Namespace", "Namespace"]}), "twice"),
        (_with({"group_by": ["label:team", "team"]}), "twice"),
        (_with({"name": "team_memory"}), "used twice"),
        (_with({"name": "bad name"}), "rule name"),
        (_with({"group_by": ["label:te\nam"]}), "no control character"),
        (_with({"group_by": ["label: "]}), "not only blanks"),
        (_with({"group_by": ["label:" + "x" * 251]}), "dimension name"),
        (_with({"missing_value": " "}), "not only blanks"),
        (_with({"namespace": "Roll\nups"}), "namespace"),
        (_with({}, {"namespace": "Rollups\n"}), "namespace"),
        (_with({"derive": {"x\ty": "1"}, "metrics": ["x\ty"]}), "metric name"),
        (_with({"colour": "red"}), "Extra inputs"),
        (_with({"name": "copy", "group_by": ["ClusterName", "label:team"], "metrics": ["pod_memory_working_set"]}),
         "both publish"),
        # found by fuzzing: a metric that is also a group_by dimension cannot be written (EmfError)
        (_with({"group_by": ["ClusterName", "pod_memory_working_set"]}), "not a group_by dimension"),
        (_with({"metrics": ["RollupRule"], "derive": {"RollupRule": "pod_cpu_usage_total * 2"}}), "RollupRule"),
        (_with({"group_by": ["_aws"]}), "member of every roll-up document"),
        ("rules: [", "not valid YAML"),
        ("rules: []", "rules"),
    ],
)
def test_invalid_rules_are_refused_with_a_message(text: str, message: str) -> None:
    # Given a broken rules document, When parsed, Then RulesError names the problem
    with pytest.raises(RulesError, match=message):
        parse_rules(text, origin="test.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: " + "[" * 100_000, "test.yaml: line 1: nested deeper than 64 levels"),
        ("namespace: A\nrules: [{name: r, types: [Pod], metrics: [x]}]\nnamespace: B\n",
         "test.yaml: line 3: duplicate key 'namespace'"),
        ("period: " + "6" * 5000 + "\nrules: []", "test.yaml: line 1: period: an integer of 5,000 characters"),
    ],
    ids=["deep", "duplicate-key", "huge-int"],
)
def test_hostile_rules_documents_are_rules_errors(text: str, message: str) -> None:
    # Given a rules document that crashed the loader (RecursionError, ValueError) or silently
    # dropped a duplicate key, When parsed, Then RulesError says where.
    with pytest.raises(RulesError) as raised:
        parse_rules(text, origin="test.yaml")
    assert message in str(raised.value)


def test_a_rules_file_too_large_or_not_utf8_is_a_rules_error(tmp_path: Path) -> None:
    # given a rules file over the size limit and one that is not UTF-8
    large, binary = tmp_path / "large.yaml", tmp_path / "binary.yaml"
    large.write_text("rules: []\n" + "#" * 5_000_000)
    binary.write_bytes(b"rules: [\xff]")
    # when loaded, then each is a rules error naming the file and the problem
    with pytest.raises(RulesError, match=r"large\.yaml: the document is larger than"):
        load_rules(large)
    with pytest.raises(RulesError, match=r"binary\.yaml: byte 8 is not UTF-8"):
        load_rules(binary)


def test_file_source_and_missing_file(tmp_path: Path) -> None:
    # given a rules file on disk
    path = tmp_path / "rules.yaml"
    path.write_text(ISSUE_EXAMPLE)
    # when loaded, then its rules are read
    assert len(load_rules(path).rules) == 3
    # and a missing file is refused as unreadable
    with pytest.raises(RulesError, match="cannot be read"):
        load_rules(tmp_path / "absent.yaml")


class _Ssm:
    class exceptions:
        class ParameterNotFound(Exception):
            pass

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get_parameter(self, *, Name: str, WithDecryption: bool) -> dict[str, Any]:
        if Name not in self.values:
            raise self.exceptions.ParameterNotFound(Name)
        return {"Parameter": {"Value": self.values[Name]}}


class _S3:
    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        assert (Bucket, Key) == ("config-bucket", "promwatch/insights.yaml")
        return {"Body": io.BytesIO(ISSUE_EXAMPLE.encode())}


def test_ssm_and_s3_sources() -> None:
    # Given rules in SSM and S3 (stub clients), When loaded, Then both give the same rules
    from_ssm = load_rules("ssm:/promwatch/insights", ssm=_Ssm({"/promwatch/insights": ISSUE_EXAMPLE}))
    from_s3 = load_rules("s3://config-bucket/promwatch/insights.yaml", s3=_S3())
    assert from_ssm == from_s3
    with pytest.raises(RulesError, match="does not exist"):
        load_rules("ssm:/missing", ssm=_Ssm({}))
    with pytest.raises(RulesError, match="s3://bucket/key"):
        load_rules("s3://bucket-only", s3=_S3())

