"""functions/reconcile/app.py on the events/reconcile/*.json files, against the emulator.

The custom-resource response goes to a local HTTP server standing in for CloudFormation's
pre-signed S3 URL; it records every PUT.
"""
from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import yaml
from promwatch.emf import problems
from promwatch.reconcile import Pacer
from promwatch.reconcile.trigger import TriggerError

from tests.conftest import EVENTS, ROOT, free_port
from tests.support.handlers import import_handler

PHYSICAL_ID = "promwatch-dev-us-east-1-dashboards"


class LambdaContext:
    function_name = "promwatch-dev-ReconcileFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:promwatch-dev-ReconcileFunction"
    aws_request_id = "7a0c3b2e-0000-4b6a-9d1e-2f3a4b5c6d7e"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


class CloudFormation:
    """Records the custom-resource responses PUT to it."""

    def __init__(self) -> None:
        self.responses: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers["Content-Length"])
                recorder.responses.append(json.loads(self.rfile.read(length)))
                recorder.headers.append(dict(self.headers))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = HTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def event(self, name: str) -> dict[str, Any]:
        event = json.loads((EVENTS / "reconcile" / name).read_text())
        original = urlsplit(event["ResponseURL"])
        event["ResponseURL"] = f"{self.url}{original.path}?{original.query}"
        return event


@pytest.fixture
def cloudformation() -> Iterator[CloudFormation]:
    recorder = CloudFormation()
    yield recorder
    recorder.server.shutdown()
    recorder.server.server_close()


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    """A copy of the repository's config/ (the config layer), so a test may break it."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    return tmp_path / "config" / "dashboards"


@pytest.fixture
def app(aws: str, spec_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The handler module, imported fresh with the template's environment for this function."""
    monkeypatch.setenv("PROMWATCH_SPEC_DIR", str(spec_dir))
    monkeypatch.setenv("PROMWATCH_STAGE", "dev")
    monkeypatch.setenv("PROMWATCH_OUTPUT", "stdout")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    module = import_handler("reconcile", "reconcile_app")
    module.runtime.pacer_factory = lambda: Pacer(rate=1000)  # the emulator does not throttle
    yield module


def _names() -> tuple[set[str], set[str]]:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    dashboards = {e["DashboardName"] for e in cloudwatch.list_dashboards()["DashboardEntries"]}
    return dashboards, {a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]}


def _emf(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def test_custom_resource_create_applies_and_answers_cloudformation(app: ModuleType,
                                                                   cloudformation: CloudFormation) -> None:
    # given a Create request from CloudFormation
    event = cloudformation.event("custom_resource_create.json")
    # when handled
    result = app.lambda_handler(event, LambdaContext())
    # then the spec was applied
    dashboards, alarms = _names()
    assert "promwatch-dev-us-east-1-task-service" in dashboards
    assert alarms == {"promwatch-dev-task-service-down"}
    # and one SUCCESS response went to the ResponseURL, with a stable physical id and the spec digest
    (response,) = cloudformation.responses
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == PHYSICAL_ID
    assert (response["StackId"], response["RequestId"], response["LogicalResourceId"]) == (
        event["StackId"], event["RequestId"], event["LogicalResourceId"])
    assert response["Data"]["SpecDigest"] == result["spec_digest"] and len(result["spec_digest"]) == 64
    assert cloudformation.headers[0]["Content-Type"] == ""


def test_custom_resource_update_keeps_the_physical_id(app: ModuleType, cloudformation: CloudFormation) -> None:
    # given a custom resource created, when it is updated
    app.lambda_handler(cloudformation.event("custom_resource_create.json"), LambdaContext())
    app.lambda_handler(cloudformation.event("custom_resource_update.json"), LambdaContext())
    # then both answers succeed with the same physical id
    assert [(r["Status"], r["PhysicalResourceId"]) for r in cloudformation.responses] == [
        ("SUCCESS", PHYSICAL_ID), ("SUCCESS", PHYSICAL_ID)]


def test_custom_resource_delete_prunes_only_what_promwatch_owns(app: ModuleType,
                                                                cloudformation: CloudFormation) -> None:
    # given the spec applied, and a dashboard and an alarm of someone else's
    app.lambda_handler(cloudformation.event("custom_resource_create.json"), LambdaContext())
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    cloudwatch.put_dashboard(DashboardName="promwatch-dev-us-east-1-by-hand", DashboardBody=json.dumps(
        {"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 2, "properties": {"markdown": "x"}}]}))
    cloudwatch.put_metric_alarm(AlarmName="promwatch-dev-by-hand", Namespace="n", MetricName="m", Statistic="Sum",
                                Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    # when the stack is deleted
    app.lambda_handler(cloudformation.event("custom_resource_delete.json"), LambdaContext())
    # then only theirs remain, and CloudFormation heard SUCCESS
    assert _names() == ({"promwatch-dev-us-east-1-by-hand"}, {"promwatch-dev-by-hand"})
    assert cloudformation.responses[-1]["Status"] == "SUCCESS"


def test_an_invalid_spec_still_answers_cloudformation_with_the_reason(app: ModuleType, spec_dir: Path,
                                                                      cloudformation: CloudFormation) -> None:
    # given a spec with a typo
    path = spec_dir / "task-service.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["alarms"][0]["stat"] = "Minimun"
    path.write_text(yaml.safe_dump(spec))
    # when a Create arrives
    app.lambda_handler(cloudformation.event("custom_resource_create.json"), LambdaContext())
    # then CloudFormation gets FAILED naming the typo, and nothing was created
    (response,) = cloudformation.responses
    assert response["Status"] == "FAILED"
    assert "alarms[0].stat: 'Minimun' is not a statistic" in response["Reason"]
    assert response["PhysicalResourceId"] == PHYSICAL_ID
    assert _names() == (set(), set())


def test_the_schedule_puts_drift_back_and_reports_it(app: ModuleType, cloudformation: CloudFormation,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # given the spec applied, then a dashboard deleted by hand
    app.lambda_handler(json.loads((EVENTS / "reconcile" / "apply.json").read_text()), LambdaContext())
    boto3.client("cloudwatch", region_name="us-east-1").delete_dashboards(
        DashboardNames=["promwatch-dev-us-east-1-health"])
    capsys.readouterr()
    # when the schedule fires
    result = app.lambda_handler(json.loads((EVENTS / "reconcile" / "schedule.json").read_text()), LambdaContext())
    # then the dashboard is back and the correction is a valid self-metric
    assert "promwatch-dev-us-east-1-health" in _names()[0]
    assert result["trigger"] == "schedule"
    (document,) = [d for d in _emf(capsys.readouterr().out) if d.get("Component") == "reconcile"]
    assert problems(document) == []
    assert (document["ReconcileDriftCorrected"], document["ReconcileConflicts"], document["ReconcileFailures"]) == (
        1, 0, 0)
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Promwatch"


def test_the_schedule_puts_back_a_dashboard_whose_whole_body_was_replaced(app: ModuleType,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # given the spec applied, then a dashboard's body replaced by hand (its marker widget gone)
    app.lambda_handler(json.loads((EVENTS / "reconcile" / "apply.json").read_text()), LambdaContext())
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    name = "promwatch-dev-us-east-1-health"
    original = cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"]
    cloudwatch.put_dashboard(DashboardName=name, DashboardBody=json.dumps({"widgets": []}))
    capsys.readouterr()
    # when the schedule fires
    result = app.lambda_handler(json.loads((EVENTS / "reconcile" / "schedule.json").read_text()), LambdaContext())
    # then the body is back: drift corrected, no conflict
    assert json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"]) == json.loads(original)
    assert (result["exit_status"], result["conflicts"]) == (0, [])
    (document,) = [d for d in _emf(capsys.readouterr().out) if d.get("Component") == "reconcile"]
    assert (document["ReconcileDriftCorrected"], document["ReconcileConflicts"]) == (1, 0)


def test_manual_plan_changes_nothing_and_apply_applies(app: ModuleType) -> None:
    # given the sample spec and no dashboards or alarms yet, when a manual plan event is handled
    plan = app.lambda_handler(json.loads((EVENTS / "reconcile" / "plan.json").read_text()), LambdaContext())
    # then the changes are counted, exit 2, and nothing is made
    assert (plan["trigger"], plan["exit_status"]) == ("plan", 2)
    assert plan["changes"] == 5 and plan["outcomes"] == []
    assert _names() == (set(), set())
    # when an apply event is handled, then every change is made
    applied = app.lambda_handler(json.loads((EVENTS / "reconcile" / "apply.json").read_text()), LambdaContext())
    assert applied["exit_status"] == 0
    assert [o["status"] for o in applied["outcomes"]] == ["ok"] * 5
    # and a plan afterwards finds nothing to do
    again = app.lambda_handler(json.loads((EVENTS / "reconcile" / "plan.json").read_text()), LambdaContext())
    assert (again["exit_status"], again["changes"]) == (0, 0)


def test_an_unknown_event_is_refused(app: ModuleType) -> None:
    # given an event of no known trigger, when handled, then it is refused naming what was expected
    with pytest.raises(TriggerError, match="expected a CloudFormation custom resource request"):
        app.lambda_handler({"hello": "world"}, LambdaContext())


def test_a_conflict_fails_the_deploy_and_leaves_the_other_resource_alone(app: ModuleType,
                                                                          cloudformation: CloudFormation) -> None:
    # given an alarm of the spec's name that someone else made
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    cloudwatch.put_metric_alarm(AlarmName="promwatch-dev-task-service-down", Namespace="n", MetricName="m",
                                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                ComparisonOperator="GreaterThanThreshold")
    # when the stack is created
    app.lambda_handler(cloudformation.event("custom_resource_create.json"), LambdaContext())
    # then CloudFormation hears FAILED naming the conflict, and the alarm is still theirs
    (response,) = cloudformation.responses
    assert response["Status"] == "FAILED"
    assert "alarm promwatch-dev-task-service-down: an alarm of this name exists and is not tagged" in response["Reason"]
    alarm = cloudwatch.describe_alarms(AlarmNames=["promwatch-dev-task-service-down"])["MetricAlarms"][0]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("n", "m")
