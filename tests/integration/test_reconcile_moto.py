"""The issue's "done when", against the emulator (a moto server): apply, re-plan, drift, prune,
ownership, refusal of an invalid spec."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from promwatch.reconcile import Pacer, ReconcileSettings, load_spec, reconcile, render
from promwatch_tools.cli import main

DASHBOARD = "promwatch-dev-us-east-1-task-service"
ALARM = "promwatch-dev-task-service-down"
SPEC: dict[str, Any] = {
    "dashboards": [{"name": "task-service", "widgets": [
        {"title": "Heap used by space", "period": 60, "metrics": [
            {"namespace": "prod/task-service", "name": "nodejs_heap_space_size_used_bytes",
             "dimensions": {"space": "*"}, "stat": "Average"}]},
        {"title": "Request latency p99", "metrics": [
            {"namespace": "prod/task-service", "name": "http_request_duration_seconds",
             "dimensions": {"route": "*"}, "stat": "p99"}]},
        {"title": "Alarms", "alarms": ["task-service-down"]},
    ]}],
    "alarms": [
        {"name": "task-service-down", "namespace": "prod/task-service", "metric": "up",
         "dimensions": {"job": "prod/task-service"}, "stat": "Minimum", "period": 60, "evaluation_periods": 3,
         "comparison": "<", "threshold": 1, "treat_missing_data": "breaching"},
        {"name": "task-service-slow", "namespace": "prod/task-service", "metric": "http_request_duration_seconds",
         "dimensions": {"job": "prod/task-service"}, "stat": "p99", "period": 300, "comparison": ">",
         "threshold": 0.5, "actions": {"alarm": ["arn:aws:sns:us-east-1:123456789012:oncall"]}},
    ],
}


@pytest.fixture
def cloudwatch(aws: str) -> Any:
    return boto3.client("cloudwatch", region_name="us-east-1")


def _spec_dir(tmp_path: Path, spec: dict[str, Any]) -> Path:
    directory = tmp_path / "dashboards"
    directory.mkdir(exist_ok=True)
    (directory / "task-service.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return directory


def _apply(directory: Path, **options: Any) -> Any:
    settings = ReconcileSettings(spec_dir=directory)
    return reconcile(settings, mode="apply", pacer=Pacer(rate=1000), **options)


def _state(cloudwatch: Any) -> dict[str, Any]:
    dashboards = {e["DashboardName"]: cloudwatch.get_dashboard(DashboardName=e["DashboardName"])["DashboardBody"]
                  for e in cloudwatch.list_dashboards()["DashboardEntries"]}
    alarms = {a["AlarmName"]: {k: v for k, v in a.items() if "Timestamp" not in k and not k.startswith("State")}
              for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    return {"dashboards": dashboards, "alarms": alarms}


def _tags(cloudwatch: Any, name: str) -> dict[str, str]:
    arn = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
    return {t["Key"]: t["Value"] for t in cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"]}


def test_apply_creates_what_the_spec_says(tmp_path: Path, cloudwatch: Any) -> None:
    # given an empty account and the seed's spec
    directory = _spec_dir(tmp_path, SPEC)
    # when applied
    result = _apply(directory)
    # then every resource was created, with the rendered body and the ownership marks
    assert [(o.action, o.status) for o in result.report.outcomes] == [("create", "ok")] * 3
    body = json.loads(cloudwatch.get_dashboard(DashboardName=DASHBOARD)["DashboardBody"])
    assert [w["properties"].get("title") for w in body["widgets"][:3]] == [
        "Heap used by space", "Request latency p99", "Alarms"]
    assert "managed-by=promwatch" in body["widgets"][-1]["properties"]["markdown"]
    down = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    assert (down["MetricName"], down["Statistic"], down["ComparisonOperator"], down["Threshold"],
            down["EvaluationPeriods"], down["TreatMissingData"]) == (
        "up", "Minimum", "LessThanThreshold", 1.0, 3, "breaching")
    assert down["Dimensions"] == [{"Name": "job", "Value": "prod/task-service"}]
    slow = cloudwatch.describe_alarms(AlarmNames=["promwatch-dev-task-service-slow"])["MetricAlarms"][0]
    assert slow["ExtendedStatistic"] == "p99"
    assert slow["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:oncall"]
    assert _tags(cloudwatch, ALARM) == {"managed-by": "promwatch"}


def test_a_second_plan_exits_0(tmp_path: Path, cloudwatch: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # given the spec, planned before anything exists: changes, exit 2
    directory = _spec_dir(tmp_path, SPEC)
    assert main(["dashboards", "plan", "--spec", str(directory)]) == 2
    # when it is applied through the CLI and planned again
    assert main(["dashboards", "apply", "--spec", str(directory)]) == 0
    capsys.readouterr()
    status = main(["dashboards", "plan", "--spec", str(directory)])
    # then the plan shows nothing and exits 0
    assert status == 0
    assert "0 to create, 0 to update, 0 to adopt, 0 to delete, 0 conflict, 3 no-op" in capsys.readouterr().out


def test_a_dashboard_changed_by_hand_is_put_back(tmp_path: Path, cloudwatch: Any) -> None:
    # given an applied spec, and a dashboard edited in the console (a widget retitled, one removed)
    directory = _spec_dir(tmp_path, SPEC)
    _apply(directory)
    original = cloudwatch.get_dashboard(DashboardName=DASHBOARD)["DashboardBody"]
    edited = json.loads(original)
    edited["widgets"][0]["properties"]["title"] = "my title"
    del edited["widgets"][1]
    cloudwatch.put_dashboard(DashboardName=DASHBOARD, DashboardBody=json.dumps(edited))
    # when reconciled
    result = _apply(directory)
    # then the change was found field by field and the dashboard is as the spec says again
    (change,) = result.plan.pending
    assert (change.kind, change.name, change.action) == ("dashboard", DASHBOARD, "update")
    assert result.drift_corrected == 1
    assert json.loads(cloudwatch.get_dashboard(DashboardName=DASHBOARD)["DashboardBody"]) == json.loads(original)


def test_an_alarm_changed_by_hand_is_put_back(tmp_path: Path, cloudwatch: Any) -> None:
    # given the spec applied
    directory = _spec_dir(tmp_path, SPEC)
    _apply(directory)
    # and the alarm's evaluation periods changed by hand to 10
    cloudwatch.put_metric_alarm(AlarmName=ALARM, Namespace="prod/task-service", MetricName="up",
                                Dimensions=[{"Name": "job", "Value": "prod/task-service"}], Statistic="Minimum",
                                Period=60, EvaluationPeriods=10, Threshold=1, ComparisonOperator="LessThanThreshold",
                                TreatMissingData="breaching")
    # when applied again
    result = _apply(directory)
    # then the one change puts EvaluationPeriods back from 10 to 3, in CloudWatch too
    (change,) = result.plan.pending
    assert [(f.path, f.before, f.after) for f in change.fields] == [("EvaluationPeriods", 10.0, 3.0)]
    assert cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]["EvaluationPeriods"] == 3


def test_an_alarm_removed_from_the_spec_is_deleted(tmp_path: Path, cloudwatch: Any) -> None:
    # given an applied spec of two alarms
    directory = _spec_dir(tmp_path, SPEC)
    _apply(directory)
    # when one alarm is removed from the spec and it is applied again
    _spec_dir(tmp_path, {**SPEC, "alarms": SPEC["alarms"][:1]})
    result = _apply(directory)
    # then that alarm is deleted and the rest stays
    assert [(o.action, o.name) for o in result.report.changed] == [("delete", "promwatch-dev-task-service-slow")]
    assert set(_state(cloudwatch)["alarms"]) == {ALARM}


def test_a_dashboard_and_an_alarm_it_does_not_own_are_never_touched(tmp_path: Path, cloudwatch: Any) -> None:
    # given same-named resources that are not ours (no marker, no tag), and unmarked ones under our prefix
    foreign_body = json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 2,
                                            "properties": {"markdown": "built by hand"}}]})
    for name in (DASHBOARD, "promwatch-dev-us-east-1-hand-made", "someone-else"):
        cloudwatch.put_dashboard(DashboardName=name, DashboardBody=foreign_body)
    for name in (ALARM, "promwatch-dev-hand-made"):
        cloudwatch.put_metric_alarm(AlarmName=name, Namespace="Theirs", MetricName="x", Statistic="Sum", Period=60,
                                    EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold")
    before = _state(cloudwatch)
    directory = _spec_dir(tmp_path, SPEC)
    # when the spec is applied
    result = _apply(directory)
    # then the same-named ones are reported conflicts and left exactly as they were, the others untouched
    assert {c.name for c in result.plan.conflicts} == {DASHBOARD, ALARM}
    assert result.exit_status == 1
    after = _state(cloudwatch)
    for name in (DASHBOARD, "promwatch-dev-us-east-1-hand-made", "someone-else"):
        assert after["dashboards"][name] == before["dashboards"][name]
    for name in (ALARM, "promwatch-dev-hand-made"):
        assert after["alarms"][name] == before["alarms"][name]
    # and what did not clash was created
    assert "promwatch-dev-task-service-slow" in after["alarms"]
    # and --adopt takes the same-named ones over (tagged, marked), still leaving the others alone
    adopted = _apply(directory, adopt=True)
    assert {(o.name, o.action, o.status) for o in adopted.report.changed} == {
        (DASHBOARD, "adopt", "ok"), (ALARM, "adopt", "ok")}
    assert _tags(cloudwatch, ALARM) == {"managed-by": "promwatch"}
    final = _state(cloudwatch)
    assert final["alarms"]["promwatch-dev-hand-made"] == before["alarms"]["promwatch-dev-hand-made"]
    assert final["dashboards"]["someone-else"] == before["dashboards"]["someone-else"]


def test_a_spec_with_a_typo_is_refused_and_changes_nothing(tmp_path: Path, cloudwatch: Any,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    # given an applied spec
    directory = _spec_dir(tmp_path, SPEC)
    _apply(directory)
    before = _state(cloudwatch)
    # when a typo is introduced (and a new dashboard and a removal, which must not happen either)
    broken = {"dashboards": [*SPEC["dashboards"], {"name": "new", "widgets": [{"markdown": "x"}]}],
              "alarms": [{**SPEC["alarms"][0], "stat": "Minimun"}]}
    path = directory / "task-service.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    capsys.readouterr()
    status = main(["dashboards", "apply", "--spec", str(directory)])
    # then apply exits 1 naming the file, key and value, and nothing changed
    assert status == 1
    error = capsys.readouterr().err
    assert f"{path}: alarms[0].stat: 'Minimun' is not a statistic" in error
    assert "did you mean 'Minimum'?" in error
    assert _state(cloudwatch) == before


def test_a_dashboard_removed_from_the_spec_is_deleted(tmp_path: Path, cloudwatch: Any) -> None:
    # given an applied spec of two dashboards
    second = {"name": "second", "widgets": [{"markdown": "hello"}]}
    directory = _spec_dir(tmp_path, {**SPEC, "dashboards": [*SPEC["dashboards"], second]})
    _apply(directory)
    assert "promwatch-dev-us-east-1-second" in _state(cloudwatch)["dashboards"]
    # when it leaves the spec and the spec is applied
    _spec_dir(tmp_path, SPEC)
    result = _apply(directory)
    # then only that dashboard is deleted
    assert [(o.action, o.name) for o in result.report.changed] == [("delete", "promwatch-dev-us-east-1-second")]
    assert set(_state(cloudwatch)["dashboards"]) == {DASHBOARD}


def _recorded() -> set[str]:
    ssm = boto3.client("ssm", region_name="us-east-1")
    parameters = ssm.get_parameters_by_path(Path="/promwatch/dev/dashboards")["Parameters"]
    return {p["Name"].rpartition("/")[2] for p in parameters}


def test_a_dashboard_whose_whole_body_was_replaced_by_hand_is_drift(tmp_path: Path, cloudwatch: Any,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # given the spec applied through the CLI
    directory = _spec_dir(tmp_path, SPEC)
    assert main(["dashboards", "apply", "--spec", str(directory)]) == 0
    original = json.loads(cloudwatch.get_dashboard(DashboardName=DASHBOARD)["DashboardBody"])
    # and the dashboard's whole body replaced by hand (the marker widget gone with it)
    cloudwatch.put_dashboard(DashboardName=DASHBOARD, DashboardBody=json.dumps({"widgets": [
        {"type": "text", "x": 0, "y": 0, "width": 24, "height": 3, "properties": {"markdown": "my notes"}}]}))
    capsys.readouterr()
    # when planned, then it is drift to put back (exit 2), not a dashboard of someone else's (exit 1)
    assert main(["dashboards", "plan", "--spec", str(directory)]) == 2
    out = capsys.readouterr().out
    assert f"~ update   dashboard {DASHBOARD}" in out
    assert "conflict" not in out.split("Plan:")[0]
    # and apply puts the spec's body back, after which a plan shows nothing
    assert main(["dashboards", "apply", "--spec", str(directory)]) == 0
    assert json.loads(cloudwatch.get_dashboard(DashboardName=DASHBOARD)["DashboardBody"]) == original
    assert main(["dashboards", "plan", "--spec", str(directory)]) == 0


def test_a_dashboard_deleted_and_remade_by_hand_is_still_ours(tmp_path: Path, cloudwatch: Any) -> None:
    # given an applied spec, and the dashboard deleted and re-made by hand without the marker (or any tag)
    directory = _spec_dir(tmp_path, SPEC)
    _apply(directory)
    cloudwatch.delete_dashboards(DashboardNames=[DASHBOARD])
    cloudwatch.put_dashboard(DashboardName=DASHBOARD, DashboardBody=json.dumps({"widgets": []}))
    # when reconciled, then promwatch's record still says it is ours: it is put back
    result = _apply(directory)
    assert [(c.name, c.action) for c in result.plan.pending] == [(DASHBOARD, "update")]
    assert result.exit_status == 0


def test_a_copy_carrying_the_marker_is_not_taken_and_not_pruned(tmp_path: Path, cloudwatch: Any,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    # given a promwatch dashboard's body, marker included, copied by hand under the spec's name and under
    # another name of our prefix, in an account where promwatch never created either
    directory = _spec_dir(tmp_path, SPEC)
    (rendered,) = render(load_spec(directory), ReconcileSettings(spec_dir=directory)).dashboards
    body = json.dumps(rendered.body)
    assert "managed-by=promwatch" in body
    copy_name = "promwatch-dev-us-east-1-my-copy"
    for name in (DASHBOARD, copy_name):
        cloudwatch.put_dashboard(DashboardName=name, DashboardBody=body)
    capsys.readouterr()
    # when planned and applied
    assert main(["dashboards", "plan", "--spec", str(directory)]) == 1
    assert f"! conflict dashboard {DASHBOARD}" in capsys.readouterr().out
    result = _apply(directory)
    # then the same-named copy is a conflict, left as it is, and the other copy is not pruned
    assert [c.name for c in result.plan.conflicts] == [DASHBOARD]
    assert not [c for c in result.plan.changes if c.kind == "dashboard" and c.action == "delete"]
    assert {n: cloudwatch.get_dashboard(DashboardName=n)["DashboardBody"] for n in (DASHBOARD, copy_name)} == {
        DASHBOARD: body, copy_name: body}
    assert _recorded() == set()
    # and --adopt takes the same-named one over and records it: a later hand edit is drift, put back
    _apply(directory, adopt=True)
    assert _recorded() == {DASHBOARD}
    cloudwatch.put_dashboard(DashboardName=DASHBOARD, DashboardBody=json.dumps({"widgets": []}))
    again = _apply(directory)
    assert [(c.name, c.action) for c in again.plan.pending] == [(DASHBOARD, "update")]


def test_the_record_follows_creates_and_prunes(tmp_path: Path, cloudwatch: Any) -> None:
    # given a spec of two dashboards applied
    second = {"name": "second", "widgets": [{"markdown": "hello"}]}
    directory = _spec_dir(tmp_path, {**SPEC, "dashboards": [*SPEC["dashboards"], second]})
    _apply(directory)
    assert _recorded() == {DASHBOARD, "promwatch-dev-us-east-1-second"}
    # when everything is pruned (the stack deleted)
    settings = ReconcileSettings(spec_dir=directory)
    reconcile(settings, mode="apply", prune_all=True, pacer=Pacer(rate=1000))
    # then the dashboards and their records are gone
    assert _state(cloudwatch)["dashboards"] == {}
    assert _recorded() == set()
