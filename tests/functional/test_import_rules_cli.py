"""``promwatch import rules`` in-process on the rules fixtures: stdout is a spec the reconcile
loader loads and that applies against botocore's model (Stubber), stderr one line per rule or
setting changed or left out, promtool-like exit codes.

Done when (issue 13): a rules file in the style of the node_exporter mixin imports, each rule
an alarm or a listed reason.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from promwatch.reconcile import Pacer, ReconcileSettings, load_spec, reconcile
from promwatch.reconcile.render import render
from promwatch_tools.cli import main

from tests.unit.reconcile_fakes import MemoryRecord

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "tests" / "fixtures" / "rules"
NODE, APP = RULES / "node.rules.yml", RULES / "app.rules.yml"
OPTIONS = ["--config", str(RULES / "scrape.yaml"), "--actions-file", str(RULES / "actions.yaml")]
TAGS = [{"Key": "managed-by", "Value": "promwatch"}]


def _alerts(*paths: Path) -> list[str]:
    return [rule["alert"] for path in paths for group in yaml.safe_load(path.read_text())["groups"]
            for rule in group["rules"] if "alert" in rule]


def _import(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    status = main(["import", "rules", *args])
    out = capsys.readouterr()
    return status, out.out, out.err.splitlines()


def _spec_dir(tmp_path: Path, text: str) -> Path:
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    (spec_dir / "alerts.yaml").write_text(text, encoding="utf-8")
    return spec_dir


@pytest.mark.parametrize("target", ["emf", "otlp", "both"])
def test_each_rule_of_the_fixtures_is_an_alarm_or_a_listed_reason(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # given the node_exporter-style rules and the app's rules, the scrape config and the actions
    # when imported
    status, out, err = _import(capsys, str(NODE), str(APP), "--target", target, *OPTIONS)
    # then it succeeds, and stdout loads with the spec loader
    assert status == 0, err
    spec = load_spec(_spec_dir(tmp_path, out))
    names = {alarm.name for alarm in spec.alarms}
    # and every alert is an alarm (per target) or has a stderr line giving the reason it is not
    suffixes = {"emf": [""], "otlp": [""], "both": ["-otlp", "-emf"]}[target]
    refused = {m.group(1) for line in err if (m := re.search(r": alert (\w+): (?:no faithful|not imported)", line))}
    for alert in _alerts(NODE, APP):
        for suffix in suffixes:
            assert f"{alert}{suffix}" in names or alert in refused, (alert, suffix)
    # and every stderr line is `key.path: what and why`
    assert all(re.match(r"^[^ ][^:]*(?::[^ ][^:]*)?: \S", line) for line in err), err
    # and the recording rules are reported, not dropped
    assert sum("recording rule" in line and "not carried over" in line for line in err) == 3


def test_the_emf_import_has_the_expected_forms_and_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _import(capsys, str(NODE), str(APP), *OPTIONS)
    assert status == 0, err
    alarms = {a["name"]: a for a in yaml.safe_load(out)["alarms"]}
    # then up == 0, histogram_quantile, absent, rate ratios and or have their CloudWatch forms
    assert alarms["TaskServiceDown"]["expression"] == (
        "SELECT MIN(up) FROM \"prod/task-service\" WHERE job = 'prod/task-service'")
    assert (alarms["TaskServiceSlowRequests"]["metric"], alarms["TaskServiceSlowRequests"]["stat"]) == (
        "http_request_duration_seconds", "p99")
    assert alarms["TaskServiceMetricsAbsent"]["treat_missing_data"] == "breaching"
    assert alarms["NodeNetworkReceiveErrs"]["expression"] == "(m1 / PERIOD(m1)) / (m2 / PERIOD(m2))"
    assert alarms["NodeHighLoadAverage"]["expression"] == "SELECT MAX(node_load1) FROM \"Hosts/node\" WHERE job = 'node'"
    assert alarms["TaskServiceEventLoopLag"]["rule"].count("ALARM(") == 2
    # and severity picked the actions of the actions file
    assert alarms["TaskServiceDown"]["actions"]["alarm"] == ["arn:aws:sns:us-east-1:123456789012:oncall",
                                                             "arn:aws:sns:us-east-1:123456789012:tickets"]
    # and the rules without a faithful form say why
    reasons = "\n".join(err)
    for alert, why in [("NodeFilesystemSpaceFillingUp", 'fstype!=""'), ("NodeClockSkewDetected", "deriv"),
                       ("NodeSystemdServiceFailed", "'== 1'"), ("TaskServiceHighErrorRate", 'code=~"5.."'),
                       ("NodeDiskIOSaturation", "device=~"), ("NodeLoadPerCPUHigh", "recording rule")]:
        assert re.search(rf"alert {alert}: .*{re.escape(why)}", reasons), alert
    # and the node job's single-dimension rollup publishes {job}: no dimension-set warning for it
    assert not any("NodeMemoryMajorPagesFaults" in line and "exactly the dimensions" in line for line in err)


def test_the_imported_alarms_apply_as_botocore_takes_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given the fixtures imported for both targets into a spec directory
    status, out, err = _import(capsys, str(NODE), str(APP), "--target", "both", *OPTIONS)
    assert status == 0, err
    settings = ReconcileSettings(spec_dir=_spec_dir(tmp_path, out))
    desired = render(load_spec(settings.spec_dir), settings)
    metric = sorted((a for a in desired.alarms if a.type == "metric"), key=lambda a: a.name)
    composite = sorted((a for a in desired.alarms if a.type == "composite"), key=lambda a: a.name)
    assert {"EvaluationCriteria" in a.request for a in metric} == {True, False}  # PromQL and metric alarms
    client: Any = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x",
                               aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_response("list_dashboards", {"DashboardEntries": []},
                             {"DashboardNamePrefix": settings.dashboard_prefix})
        stubber.add_response("describe_alarms", {"MetricAlarms": [], "CompositeAlarms": []},
                             {"AlarmNamePrefix": settings.alarm_prefix, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})
        # then each alarm is put as botocore's model takes it: metric and PromQL alarms, then the composites
        for alarm in metric:
            stubber.add_response("put_metric_alarm", {}, {**alarm.request, "Tags": TAGS})
        for alarm in composite:
            stubber.add_response("put_composite_alarm", {}, {**alarm.request, "Tags": TAGS})
        # when applied
        result = reconcile(settings, mode="apply", client=client, record=MemoryRecord(), pacer=Pacer(rate=1000))
        stubber.assert_no_pending_responses()
    assert {o.status for o in result.report.outcomes} == {"ok"}
    assert len(result.report.outcomes) == len(metric) + len(composite)


def test_a_file_promtool_refuses_exits_1_with_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a rule file with a repeated group and a rule with both alert and record
    path = tmp_path / "bad.yml"
    path.write_text("groups:\n- name: a\n  rules: [{alert: A, record: r, expr: up}]\n- name: a\n  rules: []\n")
    # when imported / then exit 1, nothing on stdout, each problem on stderr
    status, out, err = _import(capsys, str(path), "--namespace", "ns")
    assert (status, out) == (1, "")
    assert any("groups[0].rules[0]: only one of 'record' and 'alert' must be set" in line for line in err)
    assert any("groups[1].name: groupname: 'a' is repeated in the same file" in line for line in err)


@pytest.mark.parametrize(("args", "message"), [
    (["missing.yml"], "cannot read 'missing.yml'"),
    ([str(APP), "--actions", "critical"], "expected SEVERITY=ARN"),
    ([str(APP), "--config", str(APP)], "scrape_configs"),
    (["NESTED"], "NESTED: line 1: nested deeper than 64 levels"),
    (["TEXT"], "TEXT: expected a rule file (a mapping with 'groups'), got str"),
])
def test_unusable_inputs_exit_1_naming_them(args: list[str], message: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    # given a missing, hostile or wrong file among the inputs
    (tmp_path / "nested.yml").write_text("[" * 100_000)
    (tmp_path / "text.yml").write_text("just text\n")
    files = {"NESTED": str(tmp_path / "nested.yml"), "TEXT": str(tmp_path / "text.yml")}
    args = [files.get(arg, arg) for arg in args]
    message = message.replace("NESTED", files["NESTED"]).replace("TEXT", files["TEXT"])
    # when imported / then exit 1, nothing on stdout, and the message names the file
    status, out, err = _import(capsys, *args)
    assert (status, out) == (1, "")
    assert message in "\n".join(err)


@pytest.mark.parametrize("args", [[], [str(APP), "--target", "prometheus"],
                                  [str(APP), "--namespace", "a", "--config", str(RULES / "scrape.yaml")]])
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # given no file, an unknown target, or both a namespace and a config, when run, then it is a usage error, exit 2
    with pytest.raises(SystemExit) as exited:
        main(["import", "rules", *args])
    capsys.readouterr()
    assert exited.value.code == 2


def test_check_spec_accepts_the_imported_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given the app rules imported for OTLP
    status, out, err = _import(capsys, str(APP), "--target", "otlp")
    assert status == 0, err
    # when the imported spec is checked
    spec_dir = _spec_dir(tmp_path, out)
    # then the check succeeds
    assert main(["check", "spec", str(spec_dir)]) == 0
    assert "SUCCESS" in capsys.readouterr().out


def test_rules_over_an_imported_adot_config_select_no_log_only_job(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # given the scrape config `promwatch import adot` writes (job and instance log-only)
    assert main(["import", "adot", str(ROOT / "tests" / "fixtures" / "adot" / "otel-config.yaml")]) == 0
    config = tmp_path / "scrape.yaml"
    config.write_text(capsys.readouterr().out, encoding="utf-8")
    rules = tmp_path / "r.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [
        {"alert": "Big", "expr": 'x{job="prod/task-service"} > 1e8'},
        {"alert": "PerInstance", "expr": 'x{job="prod/task-service", instance="a:1"} > 1'}]}]}), encoding="utf-8")
    # when its rules are imported with it
    status, out, err = _import(capsys, str(rules), "--config", str(config))
    # then the alarm reads the job's namespace without a job dimension no metric has, and says so
    assert status == 0, err
    alarms = {alarm["name"]: alarm for alarm in yaml.safe_load(out)["alarms"]}
    assert alarms["Big"]["expression"] == 'SELECT MAX(x) FROM "prod/task-service"'
    assert any("job=\"prod/task-service\" is left out" in line for line in err)
    # and a rule selecting by the log-only instance is not imported, with the reason
    assert "PerInstance" not in alarms
    assert any("instance is not a dimension of x (in log_only_labels)" in line for line in err)
