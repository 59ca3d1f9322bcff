"""One reconcile: load -> render -> read -> plan -> (apply). Shared by the CLI and the handler."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from promwatch.reconcile.apply import apply
from promwatch.reconcile.loader import load_spec
from promwatch.reconcile.model import ApplyReport, Plan, Spec
from promwatch.reconcile.plan import plan
from promwatch.reconcile.read import cloudwatch_client, read_current
from promwatch.reconcile.record import DashboardRecord, SsmDashboardRecord
from promwatch.reconcile.render import render
from promwatch.reconcile.settings import ReconcileSettings
from promwatch.reconcile.throttle import Pacer

__all__ = ["ReconcileResult", "reconcile"]


@dataclass(frozen=True)
class ReconcileResult:
    """The plan, and what apply did (None for a plan-only run)."""

    plan: Plan
    report: ApplyReport | None
    spec_digest: str

    @property
    def drift_corrected(self) -> int:
        """Resources put back or removed by this run (updates, re-creations, deletions)."""
        if self.report is None:
            return 0
        return len(self.report.changed)

    @property
    def exit_status(self) -> int:
        """0 nothing to do / all applied, 2 a plan with changes, 1 conflicts or failures."""
        if self.plan.conflicts or (self.report is not None and self.report.failed):
            return 1
        if self.report is None and self.plan.pending:
            return 2
        return 0


def reconcile(
    settings: ReconcileSettings,
    *,
    mode: Literal["plan", "apply"] = "plan",
    adopt: bool = False,
    prune_all: bool = False,
    client: Any = None,
    pacer: Pacer | None = None,
    record: DashboardRecord | None = None,
) -> ReconcileResult:
    """Plan (and with ``mode="apply"`` apply) the spec of ``settings.spec_dir``.

    Parameters
    ----------
    settings
        Spec directory, stage, region, account.
    mode
        ``plan`` reads only; ``apply`` also performs the plan.
    adopt
        Take over same-named resources that are not ours.
    prune_all
        Ignore the spec and remove everything we own (a stack being deleted).
    client, pacer
        A boto3 CloudWatch client and a :class:`Pacer`; made when None.
    record
        promwatch's record of the dashboards it created; the SSM one of the settings' stage
        and region (:class:`SsmDashboardRecord`) when None.

    Raises
    ------
    SpecError
        When the spec is invalid; nothing is read or changed then.
    OwnershipRecordError
        When the record cannot be read; nothing is planned or changed then.
    """
    spec = Spec() if prune_all else load_spec(settings.spec_dir)
    desired = render(spec, settings)
    client = client or cloudwatch_client(settings.region)
    pacer = pacer or Pacer()
    record = record or SsmDashboardRecord(settings)
    the_plan = plan(desired, read_current(settings, client, pacer=pacer, record=record), adopt=adopt)
    report = apply(the_plan, client, pacer=pacer, record=record) if mode == "apply" else None
    return ReconcileResult(plan=the_plan, report=report, spec_digest=spec.digest)
