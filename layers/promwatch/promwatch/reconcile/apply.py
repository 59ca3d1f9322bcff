"""Perform a plan against CloudWatch: the only writes of the reconciler."""
from __future__ import annotations

import json
import logging
from typing import Any

from promwatch.reconcile.model import ApplyReport, Change, Outcome, Plan
from promwatch.reconcile.read import MANAGED_BY, TAGS_UNAVAILABLE_CODES, cloudwatch_client
from promwatch.reconcile.record import DashboardRecord
from promwatch.reconcile.throttle import Pacer, error_code

__all__ = ["apply"]

logger = logging.getLogger("promwatch.reconcile")


def _arn_of(client: Any, pacer: Pacer, name: str) -> str:
    found = pacer.call(client.describe_alarms, AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    for alarm in [*found.get("MetricAlarms", []), *found.get("CompositeAlarms", [])]:
        return str(alarm["AlarmArn"])
    return ""


def _tag_dashboard(client: Any, pacer: Pacer, name: str, arn: str) -> None:
    try:
        pacer.call(client.tag_resource, ResourceARN=arn, Tags=[dict(MANAGED_BY)])
    except Exception as exc:
        if error_code(exc) not in TAGS_UNAVAILABLE_CODES:
            raise
        logger.warning("dashboard %s could not be tagged (%s); promwatch's record alone holds it", name,
                       error_code(exc))


def _perform_dashboard(change: Change, client: Any, pacer: Pacer, record: DashboardRecord) -> None:
    # The record is written only after the call it describes succeeded, so it never names a
    # dashboard promwatch did not make, and forgets one only once it is gone.
    if change.action == "delete":
        if change.present:
            pacer.call(client.delete_dashboards, DashboardNames=[change.name])
        if change.record == "remove":
            record.remove(change.name)
        return
    if change.dashboard is None:
        return
    body = json.dumps(change.dashboard.body, separators=(",", ":"), sort_keys=True)
    response = pacer.call(client.put_dashboard, DashboardName=change.name, DashboardBody=body,
                          Tags=[dict(MANAGED_BY)])
    for message in response.get("DashboardValidationMessages", []) or []:
        logger.warning("dashboard %s: %s: %s", change.name, message.get("DataPath"), message.get("Message"))
    if change.record == "add":
        record.add(change.name)
    if change.tag_arn:
        _tag_dashboard(client, pacer, change.name, change.tag_arn)


def _perform(change: Change, client: Any, pacer: Pacer, record: DashboardRecord) -> None:
    if change.kind == "dashboard":
        _perform_dashboard(change, client, pacer, record)
        return
    if change.action == "delete" or change.replace:
        pacer.call(client.delete_alarms, AlarmNames=[change.name])
        if change.action == "delete":
            return
    alarm = change.alarm
    if alarm is None:
        return
    tags = [dict(MANAGED_BY)]
    put = client.put_composite_alarm if alarm.type == "composite" else client.put_metric_alarm
    # Tags given to a Put only apply when it creates the alarm; an adopted one is tagged after.
    pacer.call(put, **alarm.request, Tags=tags)
    if change.action == "adopt":
        arn = _arn_of(client, pacer, change.name)
        pacer.call(client.tag_resource, ResourceARN=arn, Tags=tags)


def apply(plan: Plan, client: Any = None, *, record: DashboardRecord, pacer: Pacer | None = None) -> ApplyReport:
    """Perform ``plan`` in its order; report an outcome per resource.

    A failed change does not stop the others, except that a composite alarm whose rule names
    an alarm that failed is skipped (CloudWatch would refuse it or alarm on nothing).

    Parameters
    ----------
    plan
        From :func:`promwatch.reconcile.plan`.
    client
        A boto3 CloudWatch client; one is made when None.
    record
        promwatch's record of its dashboards: a dashboard created or adopted is added once its
        put succeeded, a deleted one removed once it is gone.
    pacer
        Keeps calls at :data:`promwatch.limits.ALARM_CALLS_PER_SECOND` and retries throttling.
    """
    client = client or cloudwatch_client()
    pacer = pacer or Pacer()
    failed: set[str] = set()
    outcomes: list[Outcome] = []
    for change in plan.changes:
        if change.action == "no-op":
            outcomes.append(Outcome(change.kind, change.name, change.action, "ok", "unchanged"))
            continue
        if change.action == "conflict":
            outcomes.append(Outcome(change.kind, change.name, change.action, "skipped", change.reason))
            continue
        blocked = [d for d in (change.alarm.depends_on if change.alarm else ()) if d in failed]
        if blocked:
            failed.add(change.name)
            outcomes.append(Outcome(change.kind, change.name, change.action, "skipped",
                                    f"depends on {', '.join(blocked)}, which failed"))
            continue
        try:
            _perform(change, client, pacer, record)
        except Exception as exc:  # one refused resource must not stop the rest: reported below
            failed.add(change.name)
            logger.error("%s %s %s failed: %s", change.action, change.kind, change.name, exc)
            outcomes.append(Outcome(change.kind, change.name, change.action, "failed", str(exc)))
            continue
        logger.info("%s %s %s", change.action, change.kind, change.name)
        outcomes.append(Outcome(change.kind, change.name, change.action, "ok"))
    return ApplyReport(tuple(outcomes))
