"""Plans: normalised against service defaults, ordered by dependencies, only ours changed."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from promwatch.reconcile import Current, ReconcileSettings, format_plan, load_spec, plan, render
from promwatch.reconcile.model import CurrentAlarm, CurrentDashboard, Desired
from promwatch.reconcile.normalize import canonical_dashboard, expand_metric_rows

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "reconcile"
SETTINGS = ReconcileSettings(spec_dir=GOLDEN / "spec", stage="prod", region="eu-west-1", account_id="111122223333")


def _desired() -> Desired:
    return render(load_spec(GOLDEN / "spec"), SETTINGS)


def _as_described(request: dict[str, Any], alarm_type: str) -> dict[str, Any]:
    """What DescribeAlarms returns after a put: service fields added, defaults filled in."""
    described = {**copy.deepcopy(request), "AlarmArn": f"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:"
                 f"{request['AlarmName']}", "StateValue": "OK", "StateReason": "Unchecked",
                 "AlarmConfigurationUpdatedTimestamp": "2026-11-24T00:00:00Z"}
    if alarm_type == "metric":
        described.setdefault("Dimensions", [])
        described.setdefault("Metrics", [])
        described["Dimensions"] = list(reversed(described["Dimensions"]))
        described.pop("DatapointsToAlarm") if described["DatapointsToAlarm"] == described["EvaluationPeriods"] else None
        for query in described["Metrics"]:
            query.setdefault("ReturnData", True)
            if "Period" in query:
                query["Period"] = int(query["Period"])
    return described


def _applied(desired: Desired) -> Current:
    return Current(
        dashboards={d.name: CurrentDashboard(d.name, copy.deepcopy(d.body), recorded=True) for d in desired.dashboards},
        alarms={a.name: CurrentAlarm(a.name, a.type, _as_described(a.request, a.type), owned=True)
                for a in desired.alarms},
        dashboard_records=frozenset(d.name for d in desired.dashboards),
    )


def test_an_empty_account_gets_everything_created_in_dependency_order() -> None:
    # given nothing exists
    result = plan(_desired(), Current())
    actions = [(c.kind, c.action, c.alarm_type) for c in result.changes]
    # then everything is created: metric alarms, then composites, then dashboards
    assert {a for _, a, _ in actions} == {"create"}
    kinds = [f"{k}:{t}" for k, _, t in actions]
    assert kinds.index("alarm:composite") > max(i for i, k in enumerate(kinds) if k == "alarm:metric")
    assert kinds.index("dashboard:None") > kinds.index("alarm:composite")


def test_a_plan_right_after_an_apply_shows_nothing() -> None:
    # given what CloudWatch returns for what was applied (defaults filled, dimension order changed)
    desired = _desired()
    # when planned again, then every resource is a no-op
    result = plan(desired, _applied(desired))
    assert result.pending == ()
    assert "0 to create, 0 to update, 0 to adopt, 0 to delete" in format_plan(result)


def test_console_shorthand_and_explicit_defaults_are_not_drift() -> None:
    # given a dashboard re-saved by the console: "..." shorthand, defaults spelled out, keys reordered
    desired = _desired()
    body = next(d.body for d in desired.dashboards if d.name.endswith("-checkout"))
    resaved = copy.deepcopy(body)
    graph = resaved["widgets"][2]["properties"]
    first = graph["metrics"][0]
    graph["metrics"][1] = [first[0], "RequestCount", ".", ".", graph["metrics"][1][-1]]
    graph["metrics"][0][-1] = {**first[-1], "yAxis": "left", "period": graph["period"]}
    resaved["widgets"][2]["properties"] = dict(reversed(list(graph.items())))
    # then the canonical forms are equal
    assert canonical_dashboard(resaved, region="eu-west-1") == canonical_dashboard(body, region="eu-west-1")


def test_expanding_the_console_shorthand() -> None:
    # given metric rows in the console's shorthand ('...' and '.' repeating the row above)
    rows = [["AWS/EC2", "CPUUtilization", "InstanceId", "i-1"], ["...", "i-2"], [".", "NetworkIn", ".", "i-3"],
            ["...", {"stat": "Sum"}]]
    # when expanded, then each row is written out in full, options kept
    assert expand_metric_rows(rows) == [
        ["AWS/EC2", "CPUUtilization", "InstanceId", "i-1"],
        ["AWS/EC2", "CPUUtilization", "InstanceId", "i-2"],
        ["AWS/EC2", "NetworkIn", "InstanceId", "i-3"],
        ["AWS/EC2", "NetworkIn", "InstanceId", "i-3", {"stat": "Sum"}],
    ]


def test_a_changed_field_is_an_update_named_field_by_field() -> None:
    # given an applied alarm whose threshold was changed by hand, and a dashboard title changed
    desired = _desired()
    current = _applied(desired)
    name = "promwatch-prod-checkout-latency"
    current.alarms[name].description["Threshold"] = 0.9  # type: ignore[index]
    dash = next(iter(current.dashboards.values()))
    dash.body["widgets"][0]["properties"]["title"] = "renamed"  # type: ignore[index]
    # when planned
    result = plan(desired, current)
    changes = {c.name: c for c in result.pending}
    # then both are updates, with the field, the current and the desired value
    assert changes[name].action == "update"
    assert [(f.path, f.before, f.after) for f in changes[name].fields] == [("Threshold", 0.9, 0.5)]
    assert [(f.path, f.before) for f in changes[dash.name].fields] == [("widgets[0].properties.title", "renamed")]


def test_what_is_not_ours_is_a_conflict_unless_adopted_and_never_deleted() -> None:
    # given a same-named alarm and dashboard that are not ours, and stale resources of ours and not ours
    desired = _desired()
    current = _applied(desired)
    taken = "promwatch-prod-checkout-latency"
    alarms = dict(current.alarms)
    alarms[taken] = CurrentAlarm(taken, "metric", alarms[taken].description, owned=False)
    alarms["promwatch-prod-old"] = CurrentAlarm("promwatch-prod-old", "metric", {"AlarmName": "promwatch-prod-old"},
                                                owned=True)
    alarms["promwatch-prod-theirs"] = CurrentAlarm("promwatch-prod-theirs", "metric", {}, owned=False)
    dashboards = dict(current.dashboards)
    dashboards["promwatch-prod-eu-west-1-theirs"] = CurrentDashboard("promwatch-prod-eu-west-1-theirs", {})
    current = Current(dashboards=dashboards, alarms=alarms)
    # when planned
    result = plan(desired, current)
    by_name = {c.name: c.action for c in result.changes}
    # then ours that left the spec is deleted; theirs is a conflict or left alone
    assert by_name[taken] == "conflict"
    assert by_name["promwatch-prod-old"] == "delete"
    assert "promwatch-prod-theirs" not in by_name
    assert "promwatch-prod-eu-west-1-theirs" not in by_name
    # and with adopt the same-named one is taken over
    assert {c.name: c.action for c in plan(desired, current, adopt=True).changes}[taken] == "adopt"


def test_deletes_go_composites_first_and_after_every_put() -> None:
    # given ours in CloudWatch: a composite over a child, neither in the spec any more
    child = CurrentAlarm("promwatch-prod-child", "metric", {"AlarmName": "promwatch-prod-child"}, owned=True)
    parent = CurrentAlarm("promwatch-prod-parent", "composite",
                          {"AlarmRule": 'ALARM("promwatch-prod-child") OR OK(promwatch-prod-child)'}, owned=True)
    top = CurrentAlarm("promwatch-prod-a-top", "composite", {"AlarmRule": 'ALARM("promwatch-prod-parent")'},
                       owned=True)
    current = Current(alarms={a.name: a for a in (child, parent, top)})
    # when planned against the spec
    names = [c.name for c in plan(_desired(), current).changes if c.action == "delete"]
    # then the composites go before what they refer to, and deletes come last
    assert names == ["promwatch-prod-a-top", "promwatch-prod-parent", "promwatch-prod-child"]
    actions = [c.action for c in plan(_desired(), current).changes]
    assert actions.index("delete") > max(i for i, a in enumerate(actions) if a == "create")
