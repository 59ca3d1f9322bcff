"""Whose a dashboard is: its tag or promwatch's record decide, never the marker widget (pure plans)."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from promwatch.reconcile import Current, ReconcileSettings, load_spec, plan, render
from promwatch.reconcile.model import Change, CurrentDashboard, Desired

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "reconcile"
SETTINGS = ReconcileSettings(spec_dir=GOLDEN / "spec", stage="prod", region="eu-west-1", account_id="111122223333")
NAME = "promwatch-prod-eu-west-1-checkout"
ARN = f"arn:aws:cloudwatch::111122223333:dashboard/{NAME}"
REPLACED: dict[str, Any] = {"widgets": [{"type": "text", "x": 0, "y": 0, "width": 24, "height": 2,
                                         "properties": {"markdown": "replaced by hand"}}]}


def _desired() -> Desired:
    desired = render(load_spec(GOLDEN / "spec"), SETTINGS)
    return Desired(desired.dashboard_prefix, desired.alarm_prefix, desired.region, dashboards=desired.dashboards)


def _rendered_body() -> dict[str, Any]:
    return copy.deepcopy(next(d.body for d in _desired().dashboards if d.name == NAME))


def _change(current: Current, *, adopt: bool = False, desired: Desired | None = None) -> Change:
    return next(c for c in plan(desired or _desired(), current, adopt=adopt).changes if c.name == NAME)


def _only(dashboard: CurrentDashboard, records: frozenset[str] = frozenset()) -> Current:
    return Current(dashboards={dashboard.name: dashboard}, dashboard_records=records)


def test_a_recorded_dashboard_whose_whole_body_was_replaced_is_an_update() -> None:
    # given our dashboard, in the record, whose body (marker included) was replaced by hand
    current = _only(CurrentDashboard(NAME, REPLACED, recorded=True, tagged=None, arn=ARN), frozenset({NAME}))
    # when planned
    change = _change(current)
    # then it is put back (and tagged, its tags unread), not called someone else's
    assert (change.action, change.record, change.tag_arn) == ("update", None, ARN)
    assert any(f.path.startswith("widgets") for f in change.fields)


def test_a_tagged_dashboard_whose_body_was_replaced_is_an_update_and_gets_recorded() -> None:
    # given a dashboard tagged managed-by=promwatch but missing from the record (its parameter deleted)
    current = _only(CurrentDashboard(NAME, REPLACED, tagged=True, arn=ARN))
    # when planned, then it is put back, recorded again, and not tagged again
    change = _change(current)
    assert (change.action, change.record, change.tag_arn) == ("update", "add", "")


def test_an_unchanged_dashboard_of_ours_is_a_no_op_whatever_proves_it_ours() -> None:
    # given an unchanged dashboard of ours, proven by the record or by the tag
    for dashboard in (CurrentDashboard(NAME, _rendered_body(), recorded=True, tagged=None),
                      CurrentDashboard(NAME, _rendered_body(), tagged=True)):
        # when planned, then it is a no-op either way
        assert _change(_only(dashboard)).action == "no-op"


def test_a_dashboard_carrying_the_marker_without_tag_or_record_is_a_conflict() -> None:
    # given a same-named dashboard that is an exact copy of ours (marker and all), neither tagged nor recorded
    copied = CurrentDashboard(NAME, _rendered_body(), marked=True, arn=ARN)
    # when planned
    change = _change(_only(copied))
    # then it is a conflict that says why the marker does not count
    assert change.action == "conflict"
    assert "not tagged managed-by=promwatch and not in promwatch's record" in change.reason
    assert "marker" in change.reason and "--adopt" in change.reason


def test_a_same_named_dashboard_without_tag_record_or_marker_is_a_conflict() -> None:
    # given a same-named dashboard with no tag, record or marker, when planned
    change = _change(_only(CurrentDashboard(NAME, REPLACED, arn=ARN)))
    # then it is a conflict, and the reason does not mention a marker
    assert change.action == "conflict" and "marker" not in change.reason


def test_adopt_takes_over_tags_and_records() -> None:
    # given a same-named dashboard of someone else's, when planned with adopt
    change = _change(_only(CurrentDashboard(NAME, REPLACED, marked=False, arn=ARN)), adopt=True)
    # then it is adopted: recorded and tagged
    assert (change.action, change.record, change.tag_arn) == ("adopt", "add", ARN)


def test_a_new_dashboard_is_created_and_recorded_unless_recorded_already() -> None:
    # given nothing of that name, then a recorded one someone deleted by hand
    assert _change(Current()).record == "add"
    change = _change(Current(dashboard_records=frozenset({NAME})))
    # then it is created (tagged by the put itself), and recorded only once
    assert (change.action, change.record, change.tag_arn) == ("create", None, "")


def test_only_ours_is_pruned_and_its_record_removed_after() -> None:
    # given, out of the spec: ours recorded, ours tagged only, a copy with the marker, a recorded one
    # deleted by hand
    marker_copy = "promwatch-prod-eu-west-1-my-copy"
    current = Current(
        dashboards={
            "promwatch-prod-eu-west-1-old": CurrentDashboard("promwatch-prod-eu-west-1-old", {}, recorded=True),
            "promwatch-prod-eu-west-1-tagged": CurrentDashboard("promwatch-prod-eu-west-1-tagged", {}, tagged=True),
            marker_copy: CurrentDashboard(marker_copy, _rendered_body(), marked=True),
        },
        dashboard_records=frozenset({"promwatch-prod-eu-west-1-old", "promwatch-prod-eu-west-1-gone"}),
    )
    # when planned against an empty spec
    empty = Desired(SETTINGS.dashboard_prefix, SETTINGS.alarm_prefix, SETTINGS.region)
    deletes = {c.name: (c.record, c.present) for c in plan(empty, current).changes if c.action == "delete"}
    # then ours go (the record removed where there is one), the gone one only leaves the record, the copy stays
    assert deletes == {
        "promwatch-prod-eu-west-1-old": ("remove", True),
        "promwatch-prod-eu-west-1-tagged": (None, True),
        "promwatch-prod-eu-west-1-gone": ("remove", False),
    }
