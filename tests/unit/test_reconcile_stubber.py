"""What moto lacks, against botocore's Stubber: composite and anomaly-detection alarms, and
dashboard tags (moto 5.2.6 ignores PutDashboard's Tags and refuses TagResource on a dashboard)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from promwatch.reconcile import OwnershipRecordError, Pacer, ReconcileSettings, reconcile
from promwatch.reconcile.model import Spec
from promwatch.reconcile.render import render

from tests.unit.reconcile_fakes import MemoryRecord

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
        result = reconcile(settings, mode="apply", client=client, record=MemoryRecord(),
                           pacer=Pacer(rate=1000))
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
    # given CloudWatch already holding the metric, composite and anomaly alarms as the spec renders them
    metric, composite = _described(settings)
    # when planned
    with Stubber(client) as stubber:
        _reads(stubber, settings, metric, composite)
        result = reconcile(settings, mode="plan", client=client, record=MemoryRecord(),
                           pacer=Pacer(rate=1000))
    # then nothing is pending and the exit status is 0
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
        result = reconcile(settings, mode="apply", prune_all=True, client=client, record=MemoryRecord(),
                           pacer=Pacer(rate=1000))
        stubber.assert_no_pending_responses()
    assert [o.name for o in result.report.changed] == ["promwatch-dev-both", "promwatch-dev-child", "promwatch-dev-cpu"]


def test_a_failed_child_skips_its_composite_and_is_reported(client: Any, settings: ReconcileSettings) -> None:
    # given no alarms yet and a put of the child alarm that CloudWatch refuses
    requests = _requests(settings)
    # when applied
    with Stubber(client) as stubber:
        _reads(stubber, settings, [], [])
        stubber.add_client_error("put_metric_alarm", "ValidationError", "bad metric")
        stubber.add_response("put_metric_alarm", {}, {**requests["promwatch-dev-cpu"], "Tags": TAGS["Tags"]})
        result = reconcile(settings, mode="apply", client=client, record=MemoryRecord(),
                           pacer=Pacer(rate=1000))
    # then the child is reported failed with CloudWatch's message
    outcomes = {o.name: (o.status, o.detail) for o in result.report.outcomes}
    assert outcomes["promwatch-dev-child"][0] == "failed" and "bad metric" in outcomes["promwatch-dev-child"][1]
    # and the composite depending on it is skipped, naming it, and the exit status is 1
    assert outcomes["promwatch-dev-both"] == ("skipped", "depends on promwatch-dev-child, which failed")
    assert result.exit_status == 1


def test_render_of_an_empty_spec_is_empty() -> None:
    # given an empty spec, when rendered, then there are no dashboards and no alarms
    desired = render(Spec(), ReconcileSettings(spec_dir=Path(".")))
    assert (desired.dashboards, desired.alarms) == ((), ())


DASHBOARD = "promwatch-dev-us-east-1-svc"
DASHBOARD_ARN = f"arn:aws:cloudwatch::123456789012:dashboard/{DASHBOARD}"
BY_HAND = '{"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 2, "properties": {"markdown": "mine"}}]}'


@pytest.fixture
def dashboard_settings(tmp_path: Path) -> ReconcileSettings:
    (tmp_path / "svc.yaml").write_text(yaml.safe_dump({"dashboards": [{"name": "svc", "widgets": [
        {"markdown": "hello"}]}]}), encoding="utf-8")
    return ReconcileSettings(spec_dir=tmp_path)


def _put(settings: ReconcileSettings) -> dict[str, Any]:
    """The PutDashboard request of the spec's dashboard, with promwatch's tag."""
    from promwatch.reconcile import load_spec

    (dashboard,) = render(load_spec(settings.spec_dir), settings).dashboards
    body = json.dumps(dashboard.body, separators=(",", ":"), sort_keys=True)
    return {"DashboardName": DASHBOARD, "DashboardBody": body, "Tags": TAGS["Tags"]}


def _dashboard_reads(stubber: Stubber, settings: ReconcileSettings, *, tags: dict[str, Any] | None) -> None:
    """An existing dashboard of the spec's name with a hand-made body; its tags are read when ``tags``."""
    stubber.add_response("list_dashboards", {"DashboardEntries": [
        {"DashboardName": DASHBOARD, "DashboardArn": DASHBOARD_ARN}]}, {"DashboardNamePrefix": settings.dashboard_prefix})
    stubber.add_response("get_dashboard", {"DashboardName": DASHBOARD, "DashboardArn": DASHBOARD_ARN,
                                           "DashboardBody": BY_HAND}, {"DashboardName": DASHBOARD})
    if tags is not None:
        stubber.add_response("list_tags_for_resource", tags, {"ResourceARN": DASHBOARD_ARN})
    stubber.add_response("describe_alarms", {"MetricAlarms": [], "CompositeAlarms": []},
                         {"AlarmNamePrefix": settings.alarm_prefix, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})


def _no_alarms(stubber: Stubber, settings: ReconcileSettings) -> None:
    stubber.add_response("list_dashboards", {"DashboardEntries": []}, {"DashboardNamePrefix": settings.dashboard_prefix})
    stubber.add_response("describe_alarms", {"MetricAlarms": [], "CompositeAlarms": []},
                         {"AlarmNamePrefix": settings.alarm_prefix, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})


def test_a_new_dashboard_is_put_with_the_tag_and_recorded_after(client: Any,
                                                                dashboard_settings: ReconcileSettings) -> None:
    # given an empty account
    record = MemoryRecord()
    with Stubber(client) as stubber:
        _no_alarms(stubber, dashboard_settings)
        # then PutDashboard carries managed-by=promwatch (Tags apply to a dashboard it creates)
        stubber.add_response("put_dashboard", {"DashboardValidationMessages": []}, _put(dashboard_settings))
        # when applied
        result = reconcile(dashboard_settings, mode="apply", client=client, record=record, pacer=Pacer(rate=1000))
        stubber.assert_no_pending_responses()
    # and the dashboard is recorded once the put succeeded
    assert [(o.action, o.status) for o in result.report.outcomes] == [("create", "ok")]
    assert record.calls == [("add", DASHBOARD)]


def test_a_refused_put_is_not_recorded(client: Any, dashboard_settings: ReconcileSettings) -> None:
    # given a dashboard put that CloudWatch refuses
    record = MemoryRecord()
    # when applied
    with Stubber(client) as stubber:
        _no_alarms(stubber, dashboard_settings)
        stubber.add_client_error("put_dashboard", "InvalidParameterInput", "bad body")
        result = reconcile(dashboard_settings, mode="apply", client=client, record=record, pacer=Pacer(rate=1000))
    # then the change is reported failed and nothing is recorded
    assert [o.status for o in result.report.outcomes] == ["failed"]
    assert record.calls == []


def test_an_adopted_dashboard_is_tagged_after_its_put_and_recorded(client: Any,
                                                                   dashboard_settings: ReconcileSettings) -> None:
    # given a same-named dashboard made by hand: untagged, unrecorded
    record = MemoryRecord()
    with Stubber(client) as stubber:
        _dashboard_reads(stubber, dashboard_settings, tags={"Tags": []})
        # then it is put, then tagged with TagResource (PutDashboard's Tags are ignored on an update)
        stubber.add_response("put_dashboard", {}, _put(dashboard_settings))
        stubber.add_response("tag_resource", {}, {"ResourceARN": DASHBOARD_ARN, "Tags": TAGS["Tags"]})
        # when applied with --adopt
        result = reconcile(dashboard_settings, mode="apply", adopt=True, client=client, record=record,
                           pacer=Pacer(rate=1000))
        stubber.assert_no_pending_responses()
    assert [(o.action, o.status) for o in result.report.outcomes] == [("adopt", "ok")]
    assert record.calls == [("add", DASHBOARD)]


def test_where_a_dashboard_cannot_be_tagged_the_record_holds_it(client: Any,
                                                                dashboard_settings: ReconcileSettings) -> None:
    # given an endpoint that refuses TagResource on dashboards (as moto 5.2.6 does)
    record = MemoryRecord()
    with Stubber(client) as stubber:
        _dashboard_reads(stubber, dashboard_settings, tags={"Tags": []})
        stubber.add_response("put_dashboard", {}, _put(dashboard_settings))
        stubber.add_client_error("tag_resource", "ResourceNotFoundException", "Unknown", http_status_code=404)
        # when a dashboard is adopted
        result = reconcile(dashboard_settings, mode="apply", adopt=True, client=client, record=record,
                           pacer=Pacer(rate=1000))
    # then the adoption stands, held by the record
    assert [(o.action, o.status) for o in result.report.outcomes] == [("adopt", "ok")]
    assert record.recorded == {DASHBOARD}


def test_any_other_tagging_error_fails_the_change(client: Any, dashboard_settings: ReconcileSettings) -> None:
    # given a dashboard to adopt whose tagging is denied after the put
    record = MemoryRecord()
    # when applied
    with Stubber(client) as stubber:
        _dashboard_reads(stubber, dashboard_settings, tags={"Tags": []})
        stubber.add_response("put_dashboard", {}, _put(dashboard_settings))
        stubber.add_client_error("tag_resource", "AccessDenied", "not allowed", http_status_code=403)
        result = reconcile(dashboard_settings, mode="apply", adopt=True, client=client, record=record,
                           pacer=Pacer(rate=1000))
    # then the change fails naming the error
    (outcome,) = result.report.outcomes
    assert outcome.status == "failed" and "AccessDenied" in outcome.detail
    # and the dashboard stays recorded
    assert record.recorded == {DASHBOARD}  # recorded after the put, so ours still


def test_tags_that_cannot_be_read_leave_the_record_to_decide(client: Any,
                                                             dashboard_settings: ReconcileSettings) -> None:
    # given a recorded dashboard replaced by hand, and one that is neither recorded nor readable as tagged
    with Stubber(client) as stubber:
        _dashboard_reads(stubber, dashboard_settings, tags=None)
        result = reconcile(dashboard_settings, mode="plan", client=client, record=MemoryRecord({DASHBOARD}),
                           pacer=Pacer(rate=1000))
    assert [c.action for c in result.plan.changes] == ["update"]
    with Stubber(client) as stubber:
        stubber.add_response("list_dashboards", {"DashboardEntries": [
            {"DashboardName": DASHBOARD, "DashboardArn": DASHBOARD_ARN}]})
        stubber.add_response("get_dashboard", {"DashboardBody": BY_HAND})
        stubber.add_client_error("list_tags_for_resource", "ResourceNotFoundException", "Unknown",
                                 http_status_code=404)
        stubber.add_response("describe_alarms", {"MetricAlarms": [], "CompositeAlarms": []})
        result = reconcile(dashboard_settings, mode="plan", client=client, record=MemoryRecord(),
                           pacer=Pacer(rate=1000))
    assert [c.action for c in result.plan.changes] == ["conflict"]


def test_a_denied_tag_read_stops_the_plan(client: Any, dashboard_settings: ReconcileSettings) -> None:
    # given ListTagsForResource denied: the dashboard's owner is unknown, not "someone else", so planning stops
    with Stubber(client) as stubber:
        stubber.add_response("list_dashboards", {"DashboardEntries": [
            {"DashboardName": DASHBOARD, "DashboardArn": DASHBOARD_ARN}]})
        stubber.add_response("get_dashboard", {"DashboardBody": BY_HAND})
        stubber.add_client_error("list_tags_for_resource", "AccessDenied", "not allowed", http_status_code=403)
        with pytest.raises(ClientError, match="AccessDenied"):
            reconcile(dashboard_settings, mode="plan", client=client, record=MemoryRecord(), pacer=Pacer(rate=1000))


def test_an_unreadable_record_stops_the_plan_before_anything_is_read(client: Any,
                                                                     dashboard_settings: ReconcileSettings) -> None:
    # given a record SSM cannot serve (throttled past botocore's retries), and no CloudWatch answers queued
    # (a CloudWatch call would fail with the Stubber's own error, not the record's)
    with Stubber(client), pytest.raises(OwnershipRecordError, match="ThrottlingException"):
        # when applied, then it stops rather than take every dashboard for someone else's
        reconcile(dashboard_settings, mode="apply", client=client, record=MemoryRecord(unreadable=True),
                  pacer=Pacer(rate=1000))


def test_a_pruned_dashboard_leaves_the_record_only_once_deleted(client: Any,
                                                                dashboard_settings: ReconcileSettings) -> None:
    # given a recorded dashboard, and a stack being deleted; the first delete is refused
    record = MemoryRecord({DASHBOARD})
    for error in ("InternalServiceError", None):
        with Stubber(client) as stubber:
            _dashboard_reads(stubber, dashboard_settings, tags=None)
            if error:
                stubber.add_client_error("delete_dashboards", error, "try later", http_status_code=500)
            else:
                stubber.add_response("delete_dashboards", {}, {"DashboardNames": [DASHBOARD]})
            result = reconcile(dashboard_settings, mode="apply", prune_all=True, client=client, record=record,
                               pacer=Pacer(rate=1000))
        # then the record is kept while the dashboard stays, and removed once it is gone
        assert record.recorded == ({DASHBOARD} if error else set())
        assert [o.status for o in result.report.outcomes] == ["failed" if error else "ok"]


def test_a_recorded_dashboard_deleted_by_hand_only_leaves_the_record(client: Any,
                                                                     dashboard_settings: ReconcileSettings) -> None:
    # given a recorded dashboard that was deleted by hand
    record = MemoryRecord({DASHBOARD})
    # when applied with prune_all
    with Stubber(client) as stubber:
        _no_alarms(stubber, dashboard_settings)
        # no DeleteDashboards: there is nothing to delete
        result = reconcile(dashboard_settings, mode="apply", prune_all=True, client=client, record=record,
                           pacer=Pacer(rate=1000))
        stubber.assert_no_pending_responses()
    # then the delete is reported done and only the record is removed
    assert [(o.action, o.status) for o in result.report.outcomes] == [("delete", "ok")]
    assert record.calls == [("remove", DASHBOARD)]


def test_a_dashboard_body_nested_too_deeply_is_not_ours(settings: ReconcileSettings) -> None:
    # Given a dashboard under our prefix, neither recorded nor tagged, whose body nests 100 000
    # deep (a RecursionError before),
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
        current = read_current(settings, client, pacer=Pacer(rate=1000), record=MemoryRecord())
    assert (current.dashboards[name].body, current.dashboards[name].owned) == (None, False)
