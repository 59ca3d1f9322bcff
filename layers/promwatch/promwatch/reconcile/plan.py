"""Desired vs current -> a terraform-like plan, in the order apply performs it (pure)."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from promwatch.reconcile.model import (
    Change,
    Current,
    CurrentAlarm,
    CurrentDashboard,
    Desired,
    DesiredAlarm,
    DesiredDashboard,
    FieldChange,
    Plan,
)
from promwatch.reconcile.normalize import canonical_alarm, canonical_dashboard

__all__ = ["diff", "format_plan", "plan", "topological"]

_RULE_TARGET = re.compile(r"\b(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*\"?([^\")]+?)\"?\s*\)")
_MISSING = object()


def diff(before: Any, after: Any, path: str = "") -> list[FieldChange]:
    """Field-by-field differences between two JSON-like values (paths like ``widgets[2].x``)."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        changes: list[FieldChange] = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            changes += diff(before.get(key, _MISSING), after.get(key, _MISSING), sub)
        return changes
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [c for i, (b, a) in enumerate(zip(before, after, strict=True)) for c in diff(b, a, f"{path}[{i}]")]
    if before == after:
        return []
    return [FieldChange(path or "(value)", None if before is _MISSING else before, None if after is _MISSING else after)]


def topological(names: Iterable[str], depends_on: Mapping[str, Iterable[str]]) -> list[str]:
    """``names`` ordered so each comes after the names it depends on (ties by name).

    Dependencies outside ``names`` are ignored; a cycle (refused when the spec is loaded) keeps
    the remaining names in name order rather than losing them.
    """
    pending = {n: {d for d in depends_on.get(n, ()) if d != n} for n in names}
    pending = {n: deps & set(pending) for n, deps in pending.items()}
    ordered: list[str] = []
    while pending:
        ready = sorted(n for n, deps in pending.items() if not deps) or sorted(pending)[:1]
        for name in ready:
            ordered.append(name)
            del pending[name]
        for deps in pending.values():
            deps.difference_update(ready)
    return ordered


def _alarm_change(want: DesiredAlarm, have: CurrentAlarm | None, adopt: bool) -> Change:
    if have is None:
        return Change("alarm", want.name, "create", alarm=want, alarm_type=want.type,
                      fields=tuple(diff({}, canonical_alarm(want.request))))
    fields = tuple(diff(canonical_alarm(have.description), canonical_alarm(want.request)))
    if not have.owned:
        if adopt:
            return Change("alarm", want.name, "adopt", fields=fields, alarm=want, alarm_type=want.type,
                          replace=have.type != want.type, reason="taken over (--adopt)")
        return Change("alarm", want.name, "conflict", alarm_type=have.type,
                      reason="an alarm of this name exists and is not tagged managed-by=promwatch; "
                             "left alone (--adopt takes it over)")
    if have.type != want.type:
        return Change("alarm", want.name, "update", fields=(FieldChange("type", have.type, want.type), *fields),
                      alarm=want, alarm_type=want.type, replace=True)
    if fields:
        return Change("alarm", want.name, "update", fields=fields, alarm=want, alarm_type=want.type)
    return Change("alarm", want.name, "no-op", alarm=want, alarm_type=want.type)


def _not_ours(have: CurrentDashboard) -> str:
    hint = (" (it carries promwatch's marker widget, as a copy of one of its dashboards would)"
            if have.marked else "")
    return (f"a dashboard of this name exists that promwatch did not create: not tagged managed-by=promwatch "
            f"and not in promwatch's record{hint}; left alone (--adopt takes it over)")


def _dashboard_change(want: DesiredDashboard, current: Current, region: str, adopt: bool) -> Change:
    have = current.dashboards.get(want.name)
    if have is None:
        # Tagged by the put itself (Tags apply to a dashboard PutDashboard creates).
        return Change("dashboard", want.name, "create", dashboard=want,
                      record=None if want.name in current.dashboard_records else "add")
    fields = tuple(diff(canonical_dashboard(have.body, region=region), canonical_dashboard(want.body, region=region)))
    if not have.owned:
        if adopt:
            return Change("dashboard", want.name, "adopt", fields=fields, dashboard=want, reason="taken over (--adopt)",
                          tag_arn=have.arn, record="add")
        return Change("dashboard", want.name, "conflict", reason=_not_ours(have))
    if not fields:
        return Change("dashboard", want.name, "no-op", dashboard=want)
    # Drift is put back; ownership missing on one side (tag or record) is restored with it.
    return Change("dashboard", want.name, "update", fields=fields, dashboard=want,
                  tag_arn="" if have.tagged else have.arn, record=None if have.recorded else "add")


def plan(desired: Desired, current: Current, *, adopt: bool = False) -> Plan:
    """What to create, update, adopt, delete or leave, field by field (pure).

    Parameters
    ----------
    desired
        The rendered spec (:func:`promwatch.reconcile.render`).
    current
        What exists under the prefixes, ownership resolved (:func:`promwatch.reconcile.read_current`).
    adopt
        Take over same-named resources that are not ours instead of reporting a conflict.

    Returns
    -------
    Plan
        Alarm puts (metric alarms, then composites after the alarms they refer to), dashboard
        puts, dashboard deletes, then alarm deletes (composites before the alarms they refer to).
        Only resources we own are updated or deleted: alarms tagged ``managed-by=promwatch``,
        dashboards so tagged or in promwatch's record (a dashboard's marker widget is no proof).
    """
    wanted_alarms = {a.name: a for a in desired.alarms}
    metric_puts = [_alarm_change(a, current.alarms.get(a.name), adopt)
                   for a in sorted(wanted_alarms.values(), key=lambda a: a.name) if a.type == "metric"]
    composites = topological([a.name for a in desired.alarms if a.type == "composite"],
                             {a.name: a.depends_on for a in desired.alarms})
    composite_puts = [_alarm_change(wanted_alarms[n], current.alarms.get(n), adopt) for n in composites]

    dashboard_puts = [_dashboard_change(want, current, desired.region, adopt)
                      for want in sorted(desired.dashboards, key=lambda d: d.name)]
    wanted_dashboards = {d.name for d in desired.dashboards}
    dashboard_deletes = [Change("dashboard", name, "delete", reason="not in the spec any more",
                                record="remove" if have.recorded else None)
                         for name, have in sorted(current.dashboards.items())
                         if have.owned and name not in wanted_dashboards]
    # A recorded dashboard deleted by hand and gone from the spec: only its record is left to remove.
    dashboard_deletes += [Change("dashboard", name, "delete", record="remove", present=False,
                                 reason="deleted by hand already; promwatch's record of it is removed")
                          for name in sorted(current.dashboard_records - set(current.dashboards) - wanted_dashboards)]

    stale = {name: have for name, have in current.alarms.items() if have.owned and name not in wanted_alarms}
    references = {name: _RULE_TARGET.findall(str(have.description.get("AlarmRule", "")))
                  for name, have in stale.items()}
    # Deleting in reverse dependency order: a composite goes before the alarms its rule names.
    referenced_by: dict[str, list[str]] = {name: [] for name in stale}
    for name, targets in references.items():
        for target in targets:
            referenced_by.setdefault(target, []).append(name)
    delete_order = topological(stale, referenced_by)
    alarm_deletes = [Change("alarm", name, "delete", alarm_type=stale[name].type,
                            reason="not in the spec any more") for name in delete_order]
    return Plan(tuple([*metric_puts, *composite_puts, *dashboard_puts, *dashboard_deletes, *alarm_deletes]))


_SYMBOLS = {"create": "+", "update": "~", "adopt": "~", "delete": "-", "conflict": "!", "no-op": " "}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def format_plan(result: Plan, *, verbose: bool = False) -> str:
    """The plan as text: one line per resource, then its changed fields (terraform style)."""
    lines: list[str] = []
    for change in result.changes:
        if change.action == "no-op" and not verbose:
            continue
        what = f"{change.kind} {change.name}"
        note = f"  ({change.reason})" if change.reason else ""
        lines.append(f"{_SYMBOLS[change.action]} {change.action:<8} {what}{note}")
        if change.action in ("update", "adopt"):
            lines += [f"      {f.path}: {_short(f.before)} -> {_short(f.after)}" for f in change.fields]
    counts = {a: sum(1 for c in result.changes if c.action == a)
              for a in ("create", "update", "adopt", "delete", "conflict", "no-op")}
    lines.append("Plan: " + ", ".join(f"{n} to {a}" if a not in ("conflict", "no-op") else f"{n} {a}"
                                      for a, n in counts.items()) + ".")
    return "\n".join(lines)
