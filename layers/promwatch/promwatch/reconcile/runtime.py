"""The reconcile function's work, behind its thin handler: one object per execution environment.

``functions/reconcile/app.py`` builds a :class:`ReconcileRuntime` at INIT (settings, the
CloudWatch client, the sink) and hands it each invocation's event
(:meth:`ReconcileRuntime.handle`), whichever trigger sent it (:mod:`promwatch.reconcile.trigger`).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import ValidationError

from promwatch.emf import write_group
from promwatch.errors import PromwatchError
from promwatch.reconcile.errors import SpecError
from promwatch.reconcile.plan import format_plan
from promwatch.reconcile.read import cloudwatch_client
from promwatch.reconcile.record import DashboardRecord, SsmDashboardRecord
from promwatch.reconcile.run import ReconcileResult, reconcile
from promwatch.reconcile.settings import ReconcileSettings
from promwatch.reconcile.throttle import Pacer
from promwatch.reconcile.trigger import (
    REASON_MAX_CHARS,
    CustomResourceRequest,
    HttpSender,
    ManualRequest,
    classify,
    send_response,
    urllib_sender,
)
from promwatch.selfmetrics import self_metrics
from promwatch.sinks import Sink, report_self_metrics, sink_from_settings

__all__ = ["ReconcileRuntime"]

logger = logging.getLogger("promwatch.reconcile")


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
    """What one execution environment keeps between invocations: settings, CloudWatch client,
    promwatch's record of its dashboards, sink.

    Parameters
    ----------
    settings
        Spec directory, stage, region, output (the account is filled in per invocation).
    client
        CloudWatch client (None: made now, from the settings' region: every trigger reads
        CloudWatch, so it belongs to INIT).
    record
        promwatch's record of its dashboards (None: the SSM one of the stage, made on first use:
        its client at INIT would take the cold start past its budget).
    sender
        How custom-resource responses are sent (:func:`urllib_sender` by default).
    sink
        Where self-metric EMF documents go (None: made from ``settings.output``).
    clock
        Epoch seconds, for self-metric timestamps.
    pacer_factory
        Makes the :class:`Pacer` of one invocation.
    """

    def __init__(self, settings: ReconcileSettings, *, client: Any = None, record: DashboardRecord | None = None,
                 sender: HttpSender = urllib_sender, sink: Sink | None = None, clock: Callable[[], float] = time.time,
                 pacer_factory: Callable[[], Pacer] = Pacer) -> None:
        self.settings = settings
        self.client = client if client is not None else cloudwatch_client(settings.region)
        self._record = record
        self.sender = sender
        self.sink = sink if sink is not None else sink_from_settings(settings.output)
        self.clock = clock
        self.pacer_factory = pacer_factory

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
        group = self_metrics(counts, dimensions={"Component": "reconcile", "Stage": self.settings.stage},
                             timestamp_ms=int(self.clock() * 1000))
        # What was applied is applied: a failing output costs the report its path, not the run.
        report_self_metrics(self.sink, write_group(group))

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
