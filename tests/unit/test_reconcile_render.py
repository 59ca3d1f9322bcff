"""Rendering: spec -> DashboardBody and PutMetricAlarm requests, compared with golden files."""
from __future__ import annotations

import json
from typing import Any

import pytest
from promwatch.reconcile import ReconcileSettings, SpecError, load_spec, render
from promwatch.reconcile.model import Spec
from promwatch.reconcile.render import has_marker, search_expression
from promwatch.reconcile.spec import AlarmSpec, DashboardSpec, MetricSpec, WidgetSpec

from tests.support.golden import GOLDEN_DIR, Golden

GOLDEN = GOLDEN_DIR / "reconcile"
SETTINGS = ReconcileSettings(spec_dir=GOLDEN / "spec", stage="prod", region="eu-west-1", account_id="111122223333")


def _rendered() -> dict[str, Any]:
    desired = render(load_spec(GOLDEN / "spec"), SETTINGS)
    return {
        "dashboards": {d.name: d.body for d in desired.dashboards},
        "alarms": {a.name: {"type": a.type, "request": a.request, "depends_on": list(a.depends_on)}
                   for a in desired.alarms},
    }


def test_rendering_matches_the_golden_file(golden: Golden) -> None:
    # given the golden spec (one of every widget and alarm kind, and a generated pack)
    rendered = _rendered()
    # when rendered, then the bodies and requests are exactly the reviewed ones
    golden.check("reconcile/rendered.json", json.dumps(rendered, indent=2, sort_keys=True) + "\n")


def test_names_carry_stage_and_region_and_every_dashboard_is_marked() -> None:
    # given the golden spec rendered for prod in eu-west-1
    rendered = _rendered()
    # then dashboards (global) carry stage and region, alarms (regional) the stage
    assert "promwatch-prod-eu-west-1-checkout" in rendered["dashboards"]
    assert "promwatch-prod-checkout-latency" in rendered["alarms"]
    # and every dashboard carries the ownership marker in its last widget
    assert all(has_marker(body) for body in rendered["dashboards"].values())
    assert all(body["widgets"][-1]["type"] == "text" for body in rendered["dashboards"].values())


def test_composites_refer_to_full_names_and_depend_on_them() -> None:
    # given the golden spec rendered, when its composite alarm is looked at
    composite = _rendered()["alarms"]["promwatch-prod-checkout-degraded"]
    # then it refers to the full names of its children and depends on them
    assert composite["type"] == "composite"
    assert composite["request"]["AlarmRule"] == (
        'ALARM("promwatch-prod-checkout-latency") AND ALARM("promwatch-prod-checkout-error-ratio")'
    )
    assert composite["depends_on"] == ["promwatch-prod-checkout-latency", "promwatch-prod-checkout-error-ratio"]


def test_percentile_alarms_use_extended_statistic() -> None:
    # given the golden spec rendered, when its p99 latency alarm is looked at
    request = _rendered()["alarms"]["promwatch-prod-checkout-latency"]["request"]
    # then it uses ExtendedStatistic and no Statistic
    assert request["ExtendedStatistic"] == "p99" and "Statistic" not in request


def test_a_star_dimension_becomes_a_search_over_the_exact_dimension_set() -> None:
    # given a metric with a '*' dimension and a fixed one
    metric = MetricSpec(namespace="prod/task-service", name="nodejs_heap_space_size_used_bytes",
                        dimensions={"space": "*", "job": "prod/task-service"})
    # when rendered as a search, then names needing quotes are quoted and the fixed value is a term
    assert search_expression(metric, "Average", 60) == (
        "SEARCH('{\"prod/task-service\",space,job} MetricName=\"nodejs_heap_space_size_used_bytes\" "
        "job=\"prod/task-service\"', 'Average', 60)"
    )


def test_match_any_searches_every_dimension_set_of_the_metric() -> None:
    # given a metric matching any dimension set
    metric = MetricSpec(namespace="ns", name="up", match="any")
    # when its search expression is made, then it searches by namespace and name only
    assert search_expression(metric, "Minimum", 60) == "SEARCH('Namespace=\"ns\" MetricName=\"up\"', 'Minimum', 60)"


def test_a_dashboard_body_larger_than_putdashboard_takes_is_refused() -> None:
    # given a dashboard whose widgets' text adds up to more than 1 MB
    widgets = [WidgetSpec(markdown="x" * 90_000) for _ in range(12)]
    spec = Spec(dashboards=(DashboardSpec(name="huge", widgets=widgets),), sources={"dashboard:huge": "huge.yaml"})
    # when rendered, then it is refused naming the file, the dashboard and the size
    with pytest.raises(SpecError, match=r"huge.yaml: dashboard 'promwatch-prod-eu-west-1-huge': its body is 1,08"):
        render(spec, SETTINGS)


def test_a_name_longer_than_cloudwatch_takes_with_its_prefix_is_refused_before_any_call() -> None:
    # given a long stage, and a dashboard and an alarm whose spec names are valid but, with the
    # stage (and region) prefix, longer than the 255 characters CloudWatch takes
    settings = SETTINGS.model_copy(update={"stage": "s" * 45})
    dashboard, alarm, fits = "d" * 190, "a" * 200, "f" * 199
    spec = Spec(
        dashboards=(DashboardSpec(name=dashboard, widgets=[WidgetSpec(markdown="x")]),),
        alarms=(AlarmSpec(name=alarm, namespace="ns", metric="m", stat="Average", comparison=">", threshold=1.0),
                AlarmSpec(name=fits, namespace="ns", metric="m", stat="Average", comparison=">", threshold=1.0)),
        sources={f"dashboard:{dashboard}": "long.yaml", f"alarm:{alarm}": "long.yaml", f"alarm:{fits}": "fits.yaml"},
    )
    # when rendered
    with pytest.raises(SpecError) as refused:
        render(spec, settings)
    # then both are refused in one error naming the file, the kind, the full name and its length;
    # the alarm of exactly 255 characters is not
    message = str(refused.value)
    stage = "s" * 45
    assert f"long.yaml: dashboard name 'promwatch-{stage}-eu-west-1-{dashboard}' is 256 characters" in message
    assert f"long.yaml: alarm name 'promwatch-{stage}-{alarm}' is 256 characters" in message
    assert "fits.yaml" not in message
