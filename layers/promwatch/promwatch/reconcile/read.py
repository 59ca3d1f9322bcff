"""Read what exists under promwatch's prefixes, and whether it is ours (the I/O of a plan)."""
from __future__ import annotations

import logging
from typing import Any, Literal

from promwatch.reconcile.model import Current, CurrentAlarm, CurrentDashboard
from promwatch.reconcile.record import DashboardRecord, SsmDashboardRecord
from promwatch.reconcile.render import has_marker
from promwatch.reconcile.settings import ReconcileSettings
from promwatch.reconcile.throttle import Pacer, error_code
from promwatch.safeload import DocumentError, load_json

__all__ = ["MANAGED_BY", "TAGS_UNAVAILABLE_CODES", "cloudwatch_client", "is_managed", "read_current"]

MANAGED_BY = {"Key": "managed-by", "Value": "promwatch"}
"""The tag that marks an alarm or a dashboard as promwatch's."""

TAGS_UNAVAILABLE_CODES = frozenset({"ResourceNotFoundException"})
"""What CloudWatch's tagging calls answer for a dashboard they hold no tags for: moto 5.2.6's
TagResource for every dashboard (its ListTagsForResource answers an empty list), AWS's for a
dashboard that no longer exists. The tags are then unknown, not an error, and promwatch's record
alone decides whether the dashboard is ours. Any other error (denied, throttled, 5xx) is raised."""

logger = logging.getLogger("promwatch.reconcile")


def cloudwatch_client(region: str | None = None) -> Any:
    """A boto3 CloudWatch client (honours AWS_ENDPOINT_URL, so it also talks to the emulator)."""
    import boto3

    return boto3.client("cloudwatch", region_name=region)


def _body(text: str | None, name: str) -> dict[str, Any] | None:
    try:
        body = load_json(text or "")
    except DocumentError as exc:  # not JSON, or nested past what Python reads
        logger.warning("dashboard %s has a body that cannot be read (%s); treated as not ours", name, exc)
        return None
    return body if isinstance(body, dict) else None


def is_managed(tags: list[dict[str, Any]]) -> bool:
    """Whether a ListTagsForResource answer carries ``managed-by=promwatch``."""
    return any(t.get("Key") == MANAGED_BY["Key"] and t.get("Value") == MANAGED_BY["Value"] for t in tags)


def _dashboard_tagged(client: Any, pacer: Pacer, name: str, arn: str) -> bool:
    if not arn:
        return False
    try:
        tags = pacer.call(client.list_tags_for_resource, ResourceARN=arn).get("Tags", [])
    except Exception as exc:
        if error_code(exc) not in TAGS_UNAVAILABLE_CODES:
            raise
        logger.info("the tags of dashboard %s cannot be read (%s); promwatch's record decides", name, error_code(exc))
        return False
    return is_managed(tags)


def read_current(settings: ReconcileSettings, client: Any = None, *, pacer: Pacer | None = None,
                 record: DashboardRecord | None = None) -> Current:
    """Dashboards and alarms under the settings' prefixes, with ownership resolved.

    A dashboard is ours when promwatch's record names it or it is tagged ``managed-by=promwatch``
    (its tags are read only when the record does not name it); the marker widget does not count.
    An alarm is ours when it is tagged ``managed-by=promwatch``.

    Parameters
    ----------
    settings
        Stage and region (the prefixes).
    client
        A boto3 CloudWatch client; one is made when None.
    pacer
        Paces the per-resource GetDashboard and ListTagsForResource calls.
    record
        promwatch's record of its dashboards; the SSM one of the settings' stage when None.

    Raises
    ------
    OwnershipRecordError
        When the record cannot be read: nothing could be told apart, so nothing is planned.
    """
    client = client or cloudwatch_client(settings.region)
    pacer = pacer or Pacer()
    recorded = (record or SsmDashboardRecord(settings)).names()
    dashboards: dict[str, CurrentDashboard] = {}
    for page in client.get_paginator("list_dashboards").paginate(DashboardNamePrefix=settings.dashboard_prefix):
        for entry in page.get("DashboardEntries", []):
            name = entry["DashboardName"]
            response = pacer.call(client.get_dashboard, DashboardName=name)
            body = _body(response.get("DashboardBody"), name)
            arn = str(entry.get("DashboardArn") or response.get("DashboardArn") or "")
            tagged = None if name in recorded else _dashboard_tagged(client, pacer, name, arn)
            dashboards[name] = CurrentDashboard(name=name, body=body, recorded=name in recorded, tagged=tagged,
                                                marked=has_marker(body), arn=arn)
    alarms: dict[str, CurrentAlarm] = {}
    for page in client.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=settings.alarm_prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    ):
        found: list[tuple[Literal["metric", "composite"], dict[str, Any]]] = [
            ("metric", a) for a in page.get("MetricAlarms", [])
        ]
        found += [("composite", a) for a in page.get("CompositeAlarms", [])]
        for alarm_type, description in found:
            arn = description.get("AlarmArn", "")
            tags = pacer.call(client.list_tags_for_resource, ResourceARN=arn).get("Tags", []) if arn else []
            name = description["AlarmName"]
            alarms[name] = CurrentAlarm(name=name, type=alarm_type, description=description, owned=is_managed(tags),
                                        arn=arn)
    return Current(dashboards=dashboards, alarms=alarms, dashboard_records=recorded)
