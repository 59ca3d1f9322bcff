"""Fault injection: the reconcile function (CloudWatch dashboards and alarms, its SSM record of
the dashboards it created).

Every CloudWatch call goes through the :class:`Pacer` (3 calls a second, throttling retried
with backoff) on top of botocore's own retries; a change that still fails is reported
(outcome ``failed``, self-metric ``ReconcileFailures``) and the others go on; the record is
written only after the call it describes succeeded, and a record that cannot be read stops
the plan before anything is changed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from promwatch.coldstart import aws_client
from promwatch.reconcile import OwnershipRecordError, Pacer, ReconcileRuntime, ReconcileSettings
from promwatch.reconcile.record import SsmDashboardRecord, record_path
from promwatch.sinks import StdoutSink

from tests.support.faultproxy import FaultProxy
from tests.support.scrapeworld import QUICK, stdout_documents

DASHBOARD = "promwatch-dev-us-east-1-task-service"
SPEC: dict[str, Any] = {
    "dashboards": [{"name": "task-service", "widgets": [
        {"title": "Requests", "metrics": [{"namespace": "prod/task-service", "name": "requests_total",
                                           "dimensions": {"job": "prod/task-service"}, "stat": "Sum"}]}]}],
    "alarms": [
        {"name": "task-service-down", "namespace": "prod/task-service", "metric": "up",
         "dimensions": {"job": "prod/task-service"}, "stat": "Minimum", "period": 60, "evaluation_periods": 3,
         "comparison": "<", "threshold": 1, "treat_missing_data": "breaching"},
        {"name": "task-service-errors", "namespace": "prod/task-service", "metric": "errors_total",
         "dimensions": {"job": "prod/task-service"}, "stat": "Sum", "period": 60, "comparison": ">", "threshold": 5},
    ],
}
APPLY = {"mode": "apply"}


class Runtime:
    """The reconcile function's runtime through the proxy, with a pacer that does not wait."""

    def __init__(self, tmp_path: Path) -> None:
        directory = tmp_path / "dashboards"
        directory.mkdir(exist_ok=True)
        (directory / "task-service.yaml").write_text(yaml.safe_dump(SPEC), encoding="utf-8")
        self.settings = ReconcileSettings(spec_dir=directory)
        self.pacers: list[Pacer] = []
        self.runtime = ReconcileRuntime(
            self.settings, client=aws_client("cloudwatch", **QUICK),
            record=SsmDashboardRecord(self.settings, aws_client("ssm", **QUICK)), sink=StdoutSink(),
            pacer_factory=self._pacer)

    def _pacer(self) -> Pacer:
        self.pacers.append(Pacer(rate=1000, sleep=lambda seconds: None))
        return self.pacers[-1]

    def apply(self, event: dict[str, Any] = APPLY) -> dict[str, Any]:
        return self.runtime.handle(event, account_id="123456789012")


def _statuses(summary: dict[str, Any]) -> dict[str, str]:
    return {o["name"]: o["status"] for o in summary["outcomes"]}


def _alarms(aws: str) -> list[str]:
    return sorted(a["AlarmName"] for a in boto3.client("cloudwatch", endpoint_url=aws).describe_alarms()["MetricAlarms"])


def _recorded(aws: str) -> list[str]:
    parameters = boto3.client("ssm", endpoint_url=aws).get_parameters_by_path(Path=record_path("dev"))["Parameters"]
    return [p["Name"].rpartition("/")[2] for p in parameters]


def test_alarm_writes_throttled_past_botocores_retries_are_paced_and_retried(
        proxy: FaultProxy, aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given PutMetricAlarm throttled 4 times in a row (botocore's 3 tries are not enough),
    runtime = Runtime(tmp_path)
    throttled = proxy.add("throttle", service="monitoring", operation="PutMetricAlarm", times=4)
    # when the spec is applied,
    summary = runtime.apply()
    # then the pacer retried the call after backing off (retried: throttling only), every change
    # is applied and nothing is reported failed.
    assert throttled.fired == 4 and runtime.pacers[0].retries == 1
    assert set(_statuses(summary).values()) == {"ok"} and summary["exit_status"] == 0
    assert _alarms(aws) == ["promwatch-dev-task-service-down", "promwatch-dev-task-service-errors"]
    (report,) = stdout_documents(capsys.readouterr().out)
    assert report["ReconcileFailures"] == 0


def test_dashboard_write_failing_is_reported_and_not_recorded(proxy: FaultProxy, aws: str, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # Given PutDashboard failing for good (HTTP 500; botocore retries 5xx, the pacer does not),
    runtime = Runtime(tmp_path)
    # when the spec is applied,
    with proxy.fault("error500", service="monitoring", operation="PutDashboard", times=None) as fault:
        summary = runtime.apply()
    # then the dashboard's change is reported failed (outcome, ReconcileFailures, exit status 1),
    # the alarms were applied all the same, and no record names the dashboard that was not made;
    assert fault.fired == 3
    assert _statuses(summary) == {DASHBOARD: "failed", "promwatch-dev-task-service-down": "ok",
                                  "promwatch-dev-task-service-errors": "ok"}
    assert summary["exit_status"] == 1 and _recorded(aws) == []
    (report,) = stdout_documents(capsys.readouterr().out)
    assert report["ReconcileFailures"] == 1
    # and the next run (the schedule's drift correction) creates and records it.
    again = runtime.apply()
    assert _statuses(again)[DASHBOARD] == "ok" and _recorded(aws) == [DASHBOARD]


def test_record_unreadable_stops_the_plan_before_any_change(proxy: FaultProxy, aws: str, tmp_path: Path) -> None:
    # Given promwatch's record of its dashboards unreadable (SSM reset on every call),
    runtime = Runtime(tmp_path)
    # when the spec is applied,
    with proxy.fault("reset", service="ssm", times=None), \
            pytest.raises(OwnershipRecordError, match=record_path("dev")):
        runtime.apply()
    # then the invocation fails naming the record, and nothing was written to CloudWatch.
    writes = [c for c in proxy.calls if c.service == "monitoring" and c.operation.startswith(("Put", "Delete", "Tag"))]
    assert writes == [] and _alarms(aws) == []


def test_record_write_failing_after_the_dashboard_was_made_is_reported(proxy: FaultProxy, aws: str,
                                                                       tmp_path: Path) -> None:
    # Given PutParameter (the record) failing for good, after PutDashboard succeeded,
    runtime = Runtime(tmp_path)
    # when the spec is applied,
    with proxy.fault("error503", service="ssm", operation="PutParameter", times=None):
        summary = runtime.apply()
    # then the dashboard's change is reported failed, naming the record that could not be written;
    (dashboard,) = [o for o in summary["outcomes"] if o["name"] == DASHBOARD]
    assert dashboard["status"] == "failed" and "could not be recorded" in dashboard["detail"]
    assert _recorded(aws) == []
    # and the next run, without the record (and, on the emulator, without the tag PutDashboard
    # carried), cannot tell the dashboard from a hand-made one: it is a conflict, never
    # overwritten, until an apply with "adopt" takes it back and records it.
    again = runtime.apply()
    assert again["conflicts"] == [DASHBOARD] and again["exit_status"] == 1
    adopted = runtime.apply({"mode": "apply", "adopt": True})
    assert _statuses(adopted)[DASHBOARD] == "ok" and _recorded(aws) == [DASHBOARD]
