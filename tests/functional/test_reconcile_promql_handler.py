"""The reconcile function on events/reconcile/*.json with a PromQL alarm and a PromQL chart, its
CloudWatch calls checked against botocore's service model (Stubber): moto does not know the
PromQL alarm fields (EvaluationCriteria, EvaluationInterval), botocore's model does.

Done when (issue 12): a spec with a ``promql:`` alarm plans, applies and shows no change on a
second plan; an invalid PromQL alarm is refused naming the file, key and value.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from promwatch.reconcile import Pacer, ReconcileRuntime, ReconcileSettings, SpecError, load_spec, render
from promwatch.sinks import FileSink

from tests.conftest import EVENTS
from tests.unit.reconcile_fakes import MemoryRecord

ALARM = {"name": "api-down", "description": "a target of api is down",
         "actions": {"alarm": ["arn:aws:sns:us-east-1:123456789012:oncall"]},
         "promql": {"query": 'up{job="api"} == 0', "pending_period": "3m", "recovery_period": "5m",
                    "evaluation_interval": "1m"}}
DASHBOARD = {"name": "otel", "widgets": [{"title": "Requests", "promql": "sum(rate(http_requests_total[5m]))"}]}
ALARM_NAME = "promwatch-dev-api-down"
ALARM_ARN = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{ALARM_NAME}"
DASHBOARD_NAME = "promwatch-dev-us-east-1-otel"
DASHBOARD_ARN = f"arn:aws:cloudwatch::123456789012:dashboard/{DASHBOARD_NAME}"
TAGS = [{"Key": "managed-by", "Value": "promwatch"}]


def _event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / "reconcile" / name).read_text())


def _write(spec_dir: Path, document: Mapping[str, Any]) -> None:
    (spec_dir / "otel.yaml").write_text(yaml.safe_dump(dict(document)), encoding="utf-8")


class World:
    """The function's runtime with a stubbed CloudWatch client, an in-memory record and a file sink."""

    def __init__(self, spec_dir: Path, emf: Path) -> None:
        self.settings = ReconcileSettings(spec_dir=spec_dir)
        self.client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x",
                                   aws_secret_access_key="x")
        self.stubber = Stubber(self.client)
        self.record = MemoryRecord()
        self.runtime = ReconcileRuntime(self.settings, client=self.client, record=self.record, sink=FileSink(emf),
                                        pacer_factory=lambda: Pacer(rate=1000), clock=lambda: 1_790_000_000.0)

    def requests(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The spec's PutMetricAlarm and PutDashboard requests, as apply sends them."""
        desired = render(load_spec(self.settings.spec_dir), self.settings)
        (alarm,) = desired.alarms
        (dashboard,) = desired.dashboards
        body = json.dumps(dashboard.body, separators=(",", ":"), sort_keys=True)
        return ({**alarm.request, "Tags": TAGS},
                {"DashboardName": DASHBOARD_NAME, "DashboardBody": body, "Tags": TAGS})

    def reads(self, *, alarms: list[dict[str, Any]], dashboards: list[tuple[str, str]]) -> None:
        """What read_current asks: dashboards (and their bodies), then alarms and their tags."""
        self.stubber.add_response("list_dashboards", {"DashboardEntries": [
            {"DashboardName": n, "DashboardArn": DASHBOARD_ARN} for n, _ in dashboards]},
            {"DashboardNamePrefix": self.settings.dashboard_prefix})
        for name, body in dashboards:
            self.stubber.add_response("get_dashboard", {"DashboardName": name, "DashboardArn": DASHBOARD_ARN,
                                                        "DashboardBody": body}, {"DashboardName": name})
        self.stubber.add_response("describe_alarms", {"MetricAlarms": alarms, "CompositeAlarms": []},
                                  {"AlarmNamePrefix": self.settings.alarm_prefix,
                                   "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})
        for alarm in alarms:
            self.stubber.add_response("list_tags_for_resource", {"Tags": TAGS}, {"ResourceARN": alarm["AlarmArn"]})

    def handle(self, event: str) -> dict[str, Any]:
        with self.stubber:
            summary = self.runtime.handle(_event(event))
            self.stubber.assert_no_pending_responses()
        return summary


def described(put: Mapping[str, Any]) -> dict[str, Any]:
    """DescribeAlarms' entry for a PromQL alarm that was put: service fields added, Tags gone, and
    the metric fields the service may fill in for any metric alarm."""
    entry = {k: copy.deepcopy(v) for k, v in put.items() if k != "Tags"}
    entry.update({"AlarmArn": ALARM_ARN, "StateValue": "OK", "StateReason": "Unchecked: Initial alarm creation",
                  "EvaluationPeriods": 1, "Threshold": 0.0, "Dimensions": []})
    return entry


@pytest.fixture
def world(tmp_path: Path) -> World:
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    _write(spec_dir, {"alarms": [ALARM], "dashboards": [DASHBOARD]})
    return World(spec_dir, tmp_path / "emf.jsonl")


def test_a_promql_alarm_plans_applies_and_then_plans_nothing(world: World) -> None:
    put_alarm, put_dashboard = world.requests()
    # given an empty account: the plan event shows the alarm and the dashboard to create
    world.reads(alarms=[], dashboards=[])
    planned = world.handle("plan.json")
    assert planned["changes"] == 2 and planned["exit_status"] == 2
    assert f"+ create   alarm {ALARM_NAME}" in planned["plan"]
    # when the apply event runs: PutMetricAlarm and PutDashboard as botocore's model takes them
    world.reads(alarms=[], dashboards=[])
    world.stubber.add_response("put_metric_alarm", {}, put_alarm)
    world.stubber.add_response("put_dashboard", {"DashboardValidationMessages": []}, put_dashboard)
    applied = world.handle("apply.json")
    assert [(o["name"], o["status"]) for o in applied["outcomes"]] == [(ALARM_NAME, "ok"), (DASHBOARD_NAME, "ok")]
    assert put_alarm["EvaluationCriteria"] == {"PromQLCriteria": {
        "Query": 'up{job="api"} == 0', "PendingPeriod": 180, "RecoveryPeriod": 300}}
    assert put_alarm["EvaluationInterval"] == 60
    # then a second plan, reading back what was applied, has nothing to do
    world.reads(alarms=[described(put_alarm)], dashboards=[(DASHBOARD_NAME, put_dashboard["DashboardBody"])])
    again = world.handle("plan.json")
    assert (again["changes"], again["exit_status"]) == (0, 0)


def test_a_promql_alarm_edited_by_hand_is_put_back(world: World) -> None:
    # given the applied alarm, whose query someone loosened in the console
    put_alarm, put_dashboard = world.requests()
    world.record.recorded.add(DASHBOARD_NAME)
    edited = described(put_alarm)
    edited["EvaluationCriteria"]["PromQLCriteria"]["Query"] = 'up{job="api"} == 0 and up{job="api"} < -1'
    world.reads(alarms=[edited], dashboards=[(DASHBOARD_NAME, put_dashboard["DashboardBody"])])
    # when the scheduled apply runs / then the spec's alarm is put again, whole
    world.stubber.add_response("put_metric_alarm", {}, put_alarm)
    applied = world.handle("schedule.json")
    assert [(o["action"], o["status"]) for o in applied["outcomes"]] == [("update", "ok"), ("no-op", "ok")]


def test_a_promql_alarm_removed_from_the_spec_is_deleted(world: World) -> None:
    # given the applied alarm and dashboard, then the alarm taken out of the spec
    put_alarm, put_dashboard = world.requests()
    world.record.recorded.add(DASHBOARD_NAME)
    _write(world.settings.spec_dir, {"dashboards": [DASHBOARD]})
    world.reads(alarms=[described(put_alarm)], dashboards=[(DASHBOARD_NAME, put_dashboard["DashboardBody"])])
    # when applied / then it is deleted, the dashboard left as it is
    world.stubber.add_response("delete_alarms", {}, {"AlarmNames": [ALARM_NAME]})
    applied = world.handle("apply.json")
    assert [(o["name"], o["action"]) for o in applied["outcomes"]] == [(DASHBOARD_NAME, "no-op"),
                                                                      (ALARM_NAME, "delete")]


def test_an_invalid_promql_alarm_is_refused_before_any_call(world: World) -> None:
    # given a PromQL alarm whose query forgets rate()'s range
    _write(world.settings.spec_dir, {"alarms": [{**ALARM, "promql": {"query": "rate(http_requests_total) > 1"}}]})
    # when the plan event runs (a stubbed client with no responses: any call would fail the test)
    with pytest.raises(SpecError) as refused:
        world.handle("plan.json")
    # then the problem names the file, the key and the value, with what was expected
    assert refused.value.problems == [
        f"{world.settings.spec_dir / 'otel.yaml'}: alarms[0].promql.query: 'rate(http_requests_total) > 1' is not "
        "valid PromQL: at column 1, argument 1 of rate is an instant vector; expected a range vector (a selector "
        "with a range, e.g. foo[5m])"]


def test_an_invalid_promql_alarm_fails_the_deploy_with_the_reason(world: World) -> None:
    # given an invalid PromQL alarm, and a CloudFormation Update
    _write(world.settings.spec_dir, {"alarms": [{**ALARM, "promql": {"query": "sum(up"}}]})
    sent: list[dict[str, Any]] = []
    world.runtime.sender = lambda url, body, headers: sent.append(json.loads(body)) or 200
    # when it arrives
    world.handle("custom_resource_update.json")
    # then CloudFormation hears FAILED, the reason naming the file, the key and the value
    (response,) = sent
    assert response["Status"] == "FAILED"
    assert "otel.yaml: alarms[0].promql.query: 'sum(up' is not valid PromQL" in response["Reason"]


def test_the_stubber_refuses_a_promql_field_botocore_does_not_know(world: World) -> None:
    # the guard of every test above: a misspelt field is refused by botocore's model, not passed
    from botocore.exceptions import ParamValidationError

    # given a stubbed client
    with Stubber(world.client) as stubber:
        stubber.add_response("put_metric_alarm", {})
        # when a PutMetricAlarm carries a misspelt PromQL criteria field, then botocore's model refuses it
        with pytest.raises(ParamValidationError, match="PromQlCriteria"):
            world.client.put_metric_alarm(AlarmName="x", EvaluationInterval=60,
                                          EvaluationCriteria={"PromQlCriteria": {"Query": "up == 0"}})
