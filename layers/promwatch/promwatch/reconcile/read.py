"""Read what exists under promwatch's prefixes, and whether it is ours (the I/O of a plan)."""
from __future__ import annotations

import logging
from typing import Any, Literal

from promwatch.reconcile.model import Current, CurrentAlarm, CurrentDashboard
from promwatch.reconcile.render import has_marker
from promwatch.reconcile.settings import ReconcileSettings
from promwatch.reconcile.throttle import Pacer
from promwatch.safeload import DocumentError, load_json

__all__ = ["MANAGED_BY", "cloudwatch_client", "read_current"]

MANAGED_BY = {"Key": "managed-by", "Value": "promwatch"}
"""The tag that marks an alarm as promwatch's."""

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


def read_current(settings: ReconcileSettings, client: Any = None, *, pacer: Pacer | None = None) -> Current:
    """Dashboards and alarms under the settings' prefixes, with ownership resolved.

    A dashboard is ours when its body carries the marker (:data:`promwatch.reconcile.render.MARKER`);
    an alarm when it is tagged ``managed-by=promwatch``.

    Parameters
    ----------
    settings
        Stage and region (the prefixes).
    client
        A boto3 CloudWatch client; one is made when None.
    pacer
        Paces the per-alarm ListTagsForResource calls.
    """
    client = client or cloudwatch_client(settings.region)
    pacer = pacer or Pacer()
    dashboards: dict[str, CurrentDashboard] = {}
    for page in client.get_paginator("list_dashboards").paginate(DashboardNamePrefix=settings.dashboard_prefix):
        for entry in page.get("DashboardEntries", []):
            name = entry["DashboardName"]
            response = pacer.call(client.get_dashboard, DashboardName=name)
            body = _body(response.get("DashboardBody"), name)
            dashboards[name] = CurrentDashboard(name=name, body=body, owned=has_marker(body))
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
            owned = any(t.get("Key") == MANAGED_BY["Key"] and t.get("Value") == MANAGED_BY["Value"] for t in tags)
            name = description["AlarmName"]
            alarms[name] = CurrentAlarm(name=name, type=alarm_type, description=description, owned=owned, arn=arn)
    return Current(dashboards=dashboards, alarms=alarms)
