"""Composite and anomaly-detection alarms against botocore's Stubber (moto has neither)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from promwatch.reconcile import Pacer, ReconcileSettings, reconcile
from promwatch.reconcile.model import Spec
from promwatch.reconcile.render import render

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
SPEC = {"alarms": [
    {"name": "child", "namespace": "ns", "metric": "errors", "stat": "Sum", "comparison": ">", "threshold": 0},
    {"name": "cpu", "namespace": "AWS/EC2", "metric": "CPUUtilization", "dimensions": {"InstanceId": "i-1"},
     "stat": "Average", "period": 300, "evaluation_periods": 2, "anomaly_band": 3},
    {"name": "both", "rule": "ALARM(child) AND ALARM(cpu)", "description": "errors while CPU is unusual",
     "actions": {"alarm": ["arn:aws:sns:us-east-1:123456789012:oncall"]}},
]}
TAGS = {"Tags": [{"Key": "managed-by", "Value": "promwatch"}]}


@pytest.fixture
def client() -> Any:
    return boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture
def settings(tmp_path: Path) -> ReconcileSettings:
    (tmp_path / "alarms.yaml").write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    return ReconcileSettings(spec_dir=tmp_path)


def _requests(settings: ReconcileSettings) -> dict[str, dict[str, Any]]:
    from promwatch.reconcile import load_spec

    return {a.name: a.request for a in render(load_spec(settings.spec_dir), settings).alarms}


def _reads(stubber: Stubber, settings: ReconcileSettings, metric: list[dict[str, Any]],
           composite: list[dict[str, Any]]) -> None:
    stubber.add_response("list_dashboards", {"DashboardEntries": []},
                         {"DashboardNamePrefix": settings.dashboard_prefix})
    stubber.add_response("describe_alarms", {"MetricAlarms": metric, "CompositeAlarms": composite},
                         {"AlarmNamePrefix": settings.alarm_prefix, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})
    for alarm in [*metric, *composite]:
        stubber.add_response("list_tags_for_resource", TAGS, {"ResourceARN": alarm["AlarmArn"]})


def test_children_are_put_before_the_composite_with_full_names(client: Any, settings: ReconcileSettings) -> None:
    # given an empty account
    requests = _requests(settings)
    tags = TAGS["Tags"]
    with Stubber(client) as stubber:
        _reads(stubber, settings, [], [])
        # then the metric alarms (the anomaly one with its band) are put first, then the composite
        stubber.add_response("put_metric_alarm", {}, {**requests["promwatch-dev-child"], "Tags": tags})
        stubber.add_response("put_metric_alarm", {}, {**requests["promwatch-dev-cpu"], "Tags": tags})
        stubber.add_response("put_composite_alarm", {}, {**requests["promwatch-dev-both"], "Tags": tags})
        # when applied
        result = reconcile(settings, mode="apply", client=client, pacer=Pacer(rate=1000))
        stubber.assert_no_pending_responses()
    assert [o.status for o in result.report.outcomes] == ["ok"] * 3
    assert requests["promwatch-dev-both"]["AlarmRule"] == 'ALARM("promwatch-dev-child") AND ALARM("promwatch-dev-cpu")'
    cpu = requests["promwatch-dev-cpu"]
    assert cpu["ThresholdMetricId"] == "band"
    assert cpu["ComparisonOperator"] == "LessThanLowerOrGreaterThanUpperThreshold"
    assert cpu["Metrics"][1]["Expression"] == "ANOMALY_DETECTION_BAND(m1, 3)"


def _described(settings: ReconcileSettings) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What DescribeAlarms returns for the applied spec (service fields and defaults added)."""
    requests = _requests(settings)
    service = {"StateValue": "OK", "StateReason": "Unchecked: Initial alarm creation"}
    child = {**requests["promwatch-dev-child"], **service, "AlarmArn": ARN + "promwatch-dev-child"}
    cpu = {**requests["promwatch-dev-cpu"], **service, "AlarmArn": ARN + "promwatch-dev-cpu", "Dimensions": []}
    cpu.pop("DatapointsToAlarm")
    both = {**requests["promwatch-dev-both"], **service, "AlarmArn": ARN + "promwatch-dev-both",
            "ActionsSuppressorWaitPeriod": 0}
    return [child, cpu], [both]


def test_a_plan_after_apply_is_empty_for_composite_and_anomaly_alarms(client: Any, settings: ReconcileSettings) -> None:
    metric, composite = _described(settings)
    with Stubber(client) as stubber:
        _reads(stubber, settings, metric, composite)
        result = reconcile(settings, mode="plan", client=client, pacer=Pacer(rate=1000))
    assert result.plan.pending == ()
    assert result.exit_status == 0


def test_deletes_remove_the_composite_before_its_children(client: Any, settings: ReconcileSettings) -> None:
    # given the applied alarms, and a stack being deleted (everything we own is pruned)
    metric, composite = _described(settings)
    with Stubber(client) as stubber:
        _reads(stubber, settings, metric, composite)
        stubber.add_response("delete_alarms", {}, {"AlarmNames": ["promwatch-dev-both"]})
        stubber.add_response("delete_alarms", {}, {"AlarmNames": ["promwatch-dev-child"]})
        stubber.add_response("delete_alarms", {}, {"AlarmNames": ["promwatch-dev-cpu"]})
        result = reconcile(settings, mode="apply", prune_all=True, client=client, pacer=Pacer(rate=1000))
        stubber.assert_no_pending_responses()
    assert [o.name for o in result.report.changed] == ["promwatch-dev-both", "promwatch-dev-child", "promwatch-dev-cpu"]


def test_a_failed_child_skips_its_composite_and_is_reported(client: Any, settings: ReconcileSettings) -> None:
    requests = _requests(settings)
    with Stubber(client) as stubber:
        _reads(stubber, settings, [], [])
        stubber.add_client_error("put_metric_alarm", "ValidationError", "bad metric")
        stubber.add_response("put_metric_alarm", {}, {**requests["promwatch-dev-cpu"], "Tags": TAGS["Tags"]})
        result = reconcile(settings, mode="apply", client=client, pacer=Pacer(rate=1000))
    outcomes = {o.name: (o.status, o.detail) for o in result.report.outcomes}
    assert outcomes["promwatch-dev-child"][0] == "failed" and "bad metric" in outcomes["promwatch-dev-child"][1]
    assert outcomes["promwatch-dev-both"] == ("skipped", "depends on promwatch-dev-child, which failed")
    assert result.exit_status == 1


def test_render_of_an_empty_spec_is_empty() -> None:
    desired = render(Spec(), ReconcileSettings(spec_dir=Path(".")))
    assert (desired.dashboards, desired.alarms) == ((), ())


def test_a_dashboard_body_nested_too_deeply_is_not_ours(settings: ReconcileSettings) -> None:
    # Given a dashboard under our prefix whose body nests 100 000 deep (a RecursionError before),
    from promwatch.reconcile.read import read_current

    client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    name = f"{settings.dashboard_prefix}odd"
    with Stubber(client) as stubber:
        stubber.add_response("list_dashboards", {"DashboardEntries": [{"DashboardName": name}]},
                             {"DashboardNamePrefix": settings.dashboard_prefix})
        stubber.add_response("get_dashboard", {"DashboardName": name, "DashboardBody": "[" * 100_000},
                             {"DashboardName": name})
        stubber.add_response("describe_alarms", {"MetricAlarms": [], "CompositeAlarms": []},
                             {"AlarmNamePrefix": settings.alarm_prefix, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})
        # When the account is read, Then it is a dashboard promwatch does not own (left alone).
        current = read_current(settings, client, pacer=Pacer(rate=1000))
    assert (current.dashboards[name].body, current.dashboards[name].owned) == (None, False)
