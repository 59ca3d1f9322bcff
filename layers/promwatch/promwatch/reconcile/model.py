"""Values passed between the stages: a loaded spec, desired and current resources, a plan."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from promwatch.reconcile.spec import AlarmSpec, DashboardSpec

ResourceKind = Literal["dashboard", "alarm"]
Action = Literal["create", "update", "delete", "no-op", "conflict", "adopt"]


@dataclass(frozen=True)
class Spec:
    """Every dashboard and alarm of a spec directory, generated packs expanded."""

    dashboards: tuple[DashboardSpec, ...] = ()
    alarms: tuple[AlarmSpec, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)
    """``"dashboard:<name>"`` / ``"alarm:<name>"`` -> the file that declares it."""
    digest: str = ""
    """sha256 of the spec files' contents (what a deploy compares to decide to reconcile)."""


@dataclass(frozen=True)
class DesiredDashboard:
    """A dashboard as PutDashboard will receive it."""

    name: str
    body: dict[str, Any]
    source: str = ""


@dataclass(frozen=True)
class DesiredAlarm:
    """An alarm as PutMetricAlarm (``type`` metric) or PutCompositeAlarm receives it."""

    name: str
    type: Literal["metric", "composite"]
    request: dict[str, Any]
    """The call's keyword arguments, without Tags."""
    depends_on: tuple[str, ...] = ()
    """Full names of the alarms a composite's rule refers to."""
    source: str = ""


@dataclass(frozen=True)
class Desired:
    """What the spec says should exist, under the settings' name prefixes."""

    dashboard_prefix: str
    alarm_prefix: str
    region: str
    dashboards: tuple[DesiredDashboard, ...] = ()
    alarms: tuple[DesiredAlarm, ...] = ()


@dataclass(frozen=True)
class CurrentDashboard:
    """A dashboard that exists under our prefix, and the evidence of whose it is."""

    name: str
    body: dict[str, Any] | None
    """Parsed DashboardBody (None when it is not a JSON object)."""
    recorded: bool = False
    """Named in promwatch's record of the dashboards it created (:mod:`promwatch.reconcile.record`)."""
    tagged: bool | None = False
    """Tagged ``managed-by=promwatch``; None when not read (a recorded dashboard needs no tag to be ours)."""
    marked: bool = False
    """Its body carries the marker widget: a hint for a reader, never ownership (a copy carries it too)."""
    arn: str = ""

    @property
    def owned(self) -> bool:
        """Ours: tagged or recorded. Only dashboards we own are updated or deleted."""
        return self.recorded or self.tagged is True


@dataclass(frozen=True)
class CurrentAlarm:
    """An alarm that exists under our prefix (a DescribeAlarms entry)."""

    name: str
    type: Literal["metric", "composite"]
    description: dict[str, Any]
    owned: bool
    arn: str = ""


@dataclass(frozen=True)
class Current:
    """What exists under our prefixes, with ownership resolved."""

    dashboards: Mapping[str, CurrentDashboard] = field(default_factory=dict)
    alarms: Mapping[str, CurrentAlarm] = field(default_factory=dict)
    dashboard_records: frozenset[str] = frozenset()
    """Every dashboard promwatch's record names, including ones deleted by hand since."""


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: its path, the current value and the desired one."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    """What the plan does to one resource."""

    kind: ResourceKind
    name: str
    action: Action
    fields: tuple[FieldChange, ...] = ()
    dashboard: DesiredDashboard | None = None
    alarm: DesiredAlarm | None = None
    alarm_type: Literal["metric", "composite"] | None = None
    """For alarms: the type of the alarm created/updated/deleted."""
    replace: bool = False
    """An alarm that changes type (metric <-> composite) is deleted before it is put again."""
    reason: str = ""
    tag_arn: str = ""
    """A dashboard to tag ``managed-by=promwatch`` after its put (adopted, or ours without the tag):
    PutDashboard's own ``Tags`` only apply to a dashboard it creates."""
    record: Literal["add", "remove"] | None = None
    """Add the dashboard to promwatch's record after its put succeeded, or remove it after its delete."""
    present: bool = True
    """False for a delete of a recorded dashboard that is gone already: only its record is removed."""


@dataclass(frozen=True)
class Plan:
    """Changes in the order apply performs them."""

    changes: tuple[Change, ...]

    @property
    def pending(self) -> tuple[Change, ...]:
        """Changes that would change something (not no-ops, not conflicts)."""
        return tuple(c for c in self.changes if c.action in ("create", "update", "delete", "adopt"))

    @property
    def conflicts(self) -> tuple[Change, ...]:
        """Same-named resources that are not ours (left alone)."""
        return tuple(c for c in self.changes if c.action == "conflict")


@dataclass(frozen=True)
class Outcome:
    """What apply did to one resource."""

    kind: ResourceKind
    name: str
    action: Action
    status: Literal["ok", "failed", "skipped"]
    detail: str = ""


@dataclass(frozen=True)
class ApplyReport:
    """Outcome per resource, in the order of the plan."""

    outcomes: tuple[Outcome, ...]

    @property
    def failed(self) -> tuple[Outcome, ...]:
        """Resources that could not be changed."""
        return tuple(o for o in self.outcomes if o.status == "failed")

    @property
    def changed(self) -> tuple[Outcome, ...]:
        """Resources created, updated, adopted or deleted."""
        return tuple(o for o in self.outcomes if o.status == "ok" and o.action != "no-op")
