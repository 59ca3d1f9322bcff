"""What starts a reconcile in Lambda: a CloudFormation custom resource, a schedule, a manual invoke.

* custom resource (``sam deploy``): Create/Update apply the spec, Delete removes everything
  promwatch owns in the stage and region; the response is ALWAYS sent to the ResponseURL,
  with a stable PhysicalResourceId (so an Update never makes CloudFormation delete the old one);
* schedule (EventBridge "Scheduled Event"): apply, and report what was put back as the
  self-metric ``ReconcileDriftCorrected`` (with ``ReconcileConflicts`` and ``ReconcileFailures``);
* manual: ``{"mode": "plan"}`` or ``{"mode": "apply"}`` (``"adopt": true`` to take over); a
  manual apply reports the same self-metrics as the schedule.
"""
from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from promwatch.emf import write_group
from promwatch.errors import PromwatchError
from promwatch.reconcile.errors import ReconcileError, SpecError
from promwatch.reconcile.plan import format_plan
from promwatch.reconcile.record import DashboardRecord, SsmDashboardRecord
from promwatch.reconcile.run import ReconcileResult, reconcile
from promwatch.reconcile.settings import ReconcileSettings
from promwatch.reconcile.throttle import Pacer
from promwatch.selfmetrics import self_metrics

__all__ = ["HttpSender", "ReconcileRuntime", "TriggerError", "classify", "send_response", "urllib_sender"]

logger = logging.getLogger("promwatch.reconcile")

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


def _summary(result: ReconcileResult) -> dict[str, Any]:
    outcomes = [] if result.report is None else [
        {"kind": o.kind, "name": o.name, "action": o.action, "status": o.status, "detail": o.detail}
        for o in result.report.outcomes
    ]
    return {
        "plan": format_plan(result.plan).splitlines(),
        "changes": len(result.plan.pending),
        "conflicts": [c.name for c in result.plan.conflicts],
        "outcomes": outcomes,
        "exit_status": result.exit_status,
        "spec_digest": result.spec_digest,
    }


class ReconcileRuntime:
    """Handles reconcile events; built once per execution environment.

    Parameters
    ----------
    settings
        Spec directory, stage, region (the account is filled in per invocation).
    client
        boto3 CloudWatch client (made on first use when None).
    record
        promwatch's record of its dashboards (the SSM one of the stage, made on first use when None).
    sender
        How custom-resource responses are sent (:func:`urllib_sender` by default).
    sink
        Where self-metric EMF documents go (anything with ``write(documents)``/``flush()``).
    clock
        Epoch seconds, for self-metric timestamps.
    pacer_factory
        Makes the :class:`Pacer` of one invocation.
    """

    def __init__(self, settings: ReconcileSettings, *, client: Any = None, record: DashboardRecord | None = None,
                 sender: HttpSender = urllib_sender, sink: Any = None, clock: Callable[[], float] = time.time,
                 pacer_factory: Callable[[], Pacer] = Pacer) -> None:
        self.settings = settings
        self._client = client
        self._record = record
        self.sender = sender
        self.sink = sink
        self.clock = clock
        self.pacer_factory = pacer_factory

    @property
    def client(self) -> Any:
        """The CloudWatch client, made on first use."""
        if self._client is None:
            from promwatch.reconcile.read import cloudwatch_client

            self._client = cloudwatch_client(self.settings.region)
        return self._client

    @property
    def record(self) -> DashboardRecord:
        """promwatch's record of its dashboards, made on first use."""
        if self._record is None:
            self._record = SsmDashboardRecord(self.settings)
        return self._record

    def physical_id(self) -> str:
        """The custom resource's id: one per stage and region, never changing on Update."""
        return f"promwatch-{self.settings.stage}-{self.settings.region}-dashboards"

    def handle(self, event: Mapping[str, Any], *, account_id: str | None = None) -> dict[str, Any]:
        """Plan or apply as ``event`` asks; returns a summary (plan lines, outcomes, exit status)."""
        settings = self.settings.model_copy(update={"account_id": account_id}) if account_id else self.settings
        trigger = classify(event)
        if trigger == "custom_resource":
            return self._custom_resource(event, settings)
        mode: Literal["plan", "apply"] = "plan" if trigger == "plan" else "apply"
        adopt = trigger != "schedule" and ManualRequest.model_validate(event).adopt
        result = reconcile(settings, mode=mode, adopt=adopt, client=self.client, record=self.record,
                           pacer=self.pacer_factory())
        if mode == "apply":
            self._report(result, trigger)
        return {"trigger": trigger, **_summary(result)}

    def _report(self, result: ReconcileResult, trigger: str) -> None:
        report = result.report
        counts = {
            "ReconcileDriftCorrected": result.drift_corrected,
            "ReconcileConflicts": len(result.plan.conflicts),
            "ReconcileFailures": 0 if report is None else len(report.failed),
        }
        logger.info("reconcile (%s): %s", trigger, counts)
        if self.sink is None:
            return
        group = self_metrics(counts, dimensions={"Component": "reconcile", "Stage": self.settings.stage},
                             timestamp_ms=int(self.clock() * 1000))
        self.sink.write(write_group(group))
        self.sink.flush()

    def _custom_resource(self, event: Mapping[str, Any], settings: ReconcileSettings) -> dict[str, Any]:
        physical_id = str(event.get("PhysicalResourceId") or self.physical_id())
        request_type = str(event.get("RequestType"))
        summary: dict[str, Any] = {"trigger": "custom_resource", "request_type": request_type}
        status, reason, data = self._apply_for_cloudformation(event, settings, summary)
        try:
            summary["response_status"] = send_response(event, status=status, reason=reason,
                                                        physical_id=physical_id, data=data, sender=self.sender)
        except OSError as exc:
            logger.error("could not send the custom resource response to the ResponseURL: %s", exc)
            raise
        summary.update({"status": status, "reason": reason[:REASON_MAX_CHARS], "physical_resource_id": physical_id})
        return summary

    def _apply_for_cloudformation(
        self, event: Mapping[str, Any], settings: ReconcileSettings, summary: dict[str, Any]
    ) -> tuple[Literal["SUCCESS", "FAILED"], str, dict[str, Any]]:
        """Status, reason and data of the response; never raises, so a response is always sent."""
        try:
            request = CustomResourceRequest.model_validate(event)
            result = reconcile(settings, mode="apply", prune_all=request.RequestType == "Delete",
                               client=self.client, record=self.record, pacer=self.pacer_factory())
        except ValidationError as exc:
            return "FAILED", f"the custom resource request is invalid: {exc}", {}
        except SpecError as exc:
            return "FAILED", str(exc), {}
        except PromwatchError as exc:
            return "FAILED", f"{type(exc).__name__}: {exc}", {}
        except Exception as exc:  # CloudFormation waits an hour for a response that never comes: always answer
            logger.exception("reconcile for %s failed", event.get("RequestType"))
            return "FAILED", f"{type(exc).__name__}: {exc}", {}
        summary.update(_summary(result))
        data = {"SpecDigest": result.spec_digest, "Changes": len(result.plan.pending)}
        failed = [] if result.report is None else [f"{o.kind} {o.name}: {o.detail}" for o in result.report.failed]
        conflicts = [f"{c.kind} {c.name}: {c.reason}" for c in result.plan.conflicts]
        if failed or conflicts:
            return "FAILED", "; ".join([*conflicts, *failed]), data
        return "SUCCESS", f"{request.RequestType}: {len(result.plan.pending)} change(s) applied", data
