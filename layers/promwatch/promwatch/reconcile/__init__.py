"""Dashboards and alarms as code: spec -> render -> plan -> apply, with ownership.

Pipeline (everything but :func:`read_current` and :func:`apply` is pure)::

    spec = load_spec("config/dashboards")          # validated; SpecError lists every problem
    desired = render(spec, settings)               # DashboardBody JSON, PutMetricAlarm requests
    current = read_current(settings, client)       # what exists under our prefixes, ownership
    the_plan = plan(desired, current, adopt=False) # create/update/delete/no-op/conflict, by field
    report = apply(the_plan, client)               # ordered, paced, one outcome per resource

Names: dashboards ``promwatch-{stage}-{region}-{name}`` (dashboards are global), alarms
``promwatch-{stage}-{name}``. Ownership: alarms carry the tag ``managed-by=promwatch``;
dashboards (which cannot be tagged) carry a last text widget with the marker
``managed-by=promwatch``. Only resources that are ours are updated or deleted.
"""
from __future__ import annotations

from promwatch.reconcile.apply import apply
from promwatch.reconcile.errors import ReconcileError, SpecError
from promwatch.reconcile.loader import load_spec
from promwatch.reconcile.model import (
    ApplyReport,
    Change,
    Current,
    Desired,
    FieldChange,
    Outcome,
    Plan,
    Spec,
)
from promwatch.reconcile.plan import format_plan, plan
from promwatch.reconcile.read import MANAGED_BY, cloudwatch_client, read_current
from promwatch.reconcile.render import MARKER, render
from promwatch.reconcile.run import ReconcileResult, reconcile
from promwatch.reconcile.settings import ReconcileSettings
from promwatch.reconcile.templates import (
    dashboard_for_families,
    health_dashboard,
    insights_dashboard,
    node_exporter_dashboard,
    nodejs_dashboard,
    up_alarm,
)
from promwatch.reconcile.throttle import Pacer
from promwatch.reconcile.trigger import ReconcileRuntime, TriggerError, classify

__all__ = [
    "MANAGED_BY",
    "MARKER",
    "ApplyReport",
    "Change",
    "Current",
    "Desired",
    "FieldChange",
    "Outcome",
    "Pacer",
    "Plan",
    "ReconcileError",
    "ReconcileResult",
    "ReconcileRuntime",
    "ReconcileSettings",
    "Spec",
    "SpecError",
    "TriggerError",
    "apply",
    "classify",
    "cloudwatch_client",
    "dashboard_for_families",
    "format_plan",
    "health_dashboard",
    "insights_dashboard",
    "load_spec",
    "node_exporter_dashboard",
    "nodejs_dashboard",
    "plan",
    "read_current",
    "reconcile",
    "render",
    "up_alarm",
]
