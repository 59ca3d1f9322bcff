"""Dashboards and alarms as code: spec -> render -> plan -> apply, with ownership.

Pipeline (everything but :func:`read_current` and :func:`apply` is pure)::

    spec = load_spec("config/dashboards")            # validated; SpecError lists every problem
    desired = render(spec, settings)                 # DashboardBody JSON, PutMetricAlarm requests
    record = SsmDashboardRecord(settings)            # the dashboards promwatch created
    current = read_current(settings, client, record=record)  # what exists, and whose it is
    the_plan = plan(desired, current, adopt=False)   # create/update/delete/no-op/conflict, by field
    report = apply(the_plan, client, record=record)  # ordered, paced, one outcome per resource

Names: dashboards ``promwatch-{stage}-{region}-{name}`` (dashboards are global), alarms
``promwatch-{stage}-{name}``. Ownership: alarms carry the tag ``managed-by=promwatch``;
dashboards carry that tag too and are named in promwatch's record of the dashboards it
created (SSM parameters ``/promwatch/{stage}/dashboards/<name>``), either of which makes one
ours; their last text widget, the marker ``managed-by=promwatch``, is a hint for readers only.
Only resources that are ours are updated or deleted.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from promwatch.lazyexports import lazy_exports
from promwatch.reconcile.apply import apply
from promwatch.reconcile.errors import (
    OwnershipRecordError,
    PackError,
    PromQLError,
    ReconcileError,
    ReconcileSettingsError,
    SpecError,
    SpecValueError,
)
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
from promwatch.reconcile.record import DashboardRecord, SsmDashboardRecord, record_path
from promwatch.reconcile.render import MARKER, render
from promwatch.reconcile.run import ReconcileResult, reconcile
from promwatch.reconcile.runtime import ReconcileRuntime
from promwatch.reconcile.settings import ReconcileSettings
from promwatch.reconcile.templates import (
    dashboard_for_families,
    health_dashboard,
    insights_dashboard,
    node_exporter_dashboard,
    nodejs_dashboard,
    series_budget_alarm,
    up_alarm,
)
from promwatch.reconcile.throttle import Pacer

if TYPE_CHECKING:
    from promwatch.reconcile.promql import check_promql, parse_promql
from promwatch.reconcile.trigger import TriggerError, classify

__all__ = [
    "MANAGED_BY",
    "MARKER",
    "ApplyReport",
    "Change",
    "Current",
    "DashboardRecord",
    "Desired",
    "FieldChange",
    "Outcome",
    "OwnershipRecordError",
    "Pacer",
    "PackError",
    "Plan",
    "PromQLError",
    "ReconcileError",
    "ReconcileResult",
    "ReconcileRuntime",
    "ReconcileSettings",
    "ReconcileSettingsError",
    "Spec",
    "SpecError",
    "SpecValueError",
    "SsmDashboardRecord",
    "TriggerError",
    "apply",
    "check_promql",
    "classify",
    "cloudwatch_client",
    "dashboard_for_families",
    "format_plan",
    "health_dashboard",
    "insights_dashboard",
    "load_spec",
    "node_exporter_dashboard",
    "nodejs_dashboard",
    "parse_promql",
    "plan",
    "read_current",
    "reconcile",
    "record_path",
    "render",
    "series_budget_alarm",
    "up_alarm",
]


# The PromQL checker loads on first use (see promwatch.reconcile.spec_promql).
__getattr__ = lazy_exports(__name__, globals(), ("promwatch.reconcile.promql",))
