"""What starts a reconcile in Lambda: a CloudFormation custom resource, a schedule, a manual invoke.

* custom resource (``sam deploy``): Create/Update apply the spec, Delete removes everything
  promwatch owns in the stage and region; the response is ALWAYS sent to the ResponseURL,
  with a stable PhysicalResourceId (so an Update never makes CloudFormation delete the old one);
* schedule (EventBridge "Scheduled Event"): apply, and report what was put back as the
  self-metric ``ReconcileDriftCorrected`` (with ``ReconcileConflicts`` and ``ReconcileFailures``);
* manual: ``{"mode": "plan"}`` or ``{"mode": "apply"}`` (``"adopt": true`` to take over); a
  manual apply reports the same self-metrics as the schedule.

Here: which trigger an event comes from (:func:`classify`) and the custom-resource response
(:func:`send_response`); :class:`promwatch.reconcile.runtime.ReconcileRuntime` acts on them.
"""
from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from promwatch.reconcile.errors import ReconcileError

__all__ = ["REASON_MAX_CHARS", "CustomResourceRequest", "HttpSender", "ManualRequest", "TriggerError", "classify",
           "send_response", "urllib_sender"]

Trigger = Literal["custom_resource", "schedule", "plan", "apply"]
HttpSender = Callable[[str, bytes, Mapping[str, str]], int]
"""``(url, body, headers) -> HTTP status``: how the custom-resource response is PUT."""

REASON_MAX_CHARS = 1000
"""CloudFormation takes responses up to 4 KiB; the reason is cut to keep well inside that."""


class TriggerError(ReconcileError):
    """An event the reconcile function does not understand."""


class CustomResourceRequest(BaseModel):
    """The fields of a CloudFormation custom-resource request the function uses."""

    model_config = ConfigDict(extra="allow", frozen=True)

    RequestType: Literal["Create", "Update", "Delete"]
    ResponseURL: str
    StackId: str = ""
    RequestId: str = ""
    LogicalResourceId: str = ""
    PhysicalResourceId: str | None = None


class ManualRequest(BaseModel):
    """A manual invoke: ``{"mode": "plan" | "apply", "adopt": false}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["plan", "apply"]
    adopt: bool = False


def classify(event: Mapping[str, Any]) -> Trigger:
    """Which trigger ``event`` comes from."""
    if "RequestType" in event and "ResponseURL" in event:
        return "custom_resource"
    if event.get("detail-type") == "Scheduled Event" or event.get("source") == "aws.events":
        return "schedule"
    if "mode" in event:
        try:
            return ManualRequest.model_validate(event).mode
        except ValidationError as exc:
            details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise TriggerError(f"manual event {dict(event)!r} is invalid: {details}") from exc
    raise TriggerError(f"event with keys {sorted(event)} is not understood; expected a CloudFormation custom "
                       "resource request, an EventBridge scheduled event, or {\"mode\": \"plan\" | \"apply\"}")


def urllib_sender(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    """PUT ``body`` to a pre-signed ResponseURL (the standard library: no extra import cost)."""
    request = urllib.request.Request(url, data=body, method="PUT", headers=dict(headers))
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def send_response(event: Mapping[str, Any], *, status: Literal["SUCCESS", "FAILED"], reason: str,
                  physical_id: str, data: Mapping[str, Any], sender: HttpSender) -> int:
    """Send a custom-resource response to the event's ResponseURL; returns the HTTP status."""
    body = json.dumps({
        "Status": status,
        "Reason": reason[:REASON_MAX_CHARS],
        "PhysicalResourceId": physical_id,
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "NoEcho": False,
        "Data": dict(data),
    }).encode()
    # The URL is pre-signed for an empty Content-Type.
    return sender(str(event["ResponseURL"]), body, {"Content-Type": "", "Content-Length": str(len(body))})
