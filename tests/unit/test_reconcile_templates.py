"""Generated dashboards: per scrape job from its families, packs, Container Insights, health."""
from __future__ import annotations

from pathlib import Path

import yaml
from promwatch.reconcile import ReconcileSettings, render
from promwatch.reconcile.model import Spec
from promwatch.reconcile.templates import (
    dashboard_for_families,
    health_dashboard,
    insights_dashboard,
    node_exporter_dashboard,
    series_budget_alarm,
    up_alarm,
)

ROOT = Path(__file__).resolve().parents[2]


def _graphs(dashboard: object) -> dict[str, list[tuple[str, str | None]]]:
    return {w.title: [(m.name, m.stat) for m in w.metrics] for w in dashboard.widgets if w.kind == "graph"}  # type: ignore[attr-defined]


def test_a_job_dashboard_shows_gauges_counter_increases_and_histogram_percentiles() -> None:
    # given the families a job exposes
    families = [("nodejs_heap_size_used_bytes", "gauge"), ("http_requests", "counter"),
                ("process_cpu_seconds_total", "counter"), ("http_request_duration_seconds", "histogram"),
                ("build_info", "info")]
    # when a dashboard is generated
    (dashboard,) = dashboard_for_families("prod/task-service", families)
    graphs = _graphs(dashboard)
    # then gauges are averaged lines, counters summed increases (named as EMF names them), histograms p50/p90/p99
    assert dashboard.name == "prod-task-service-metrics"
    assert graphs["nodejs_heap_size_used_bytes"] == [("nodejs_heap_size_used_bytes", "Average")]
    assert graphs["http_requests_total (increase)"] == [("http_requests_total", "Sum")]
    assert graphs["process_cpu_seconds_total (increase)"] == [("process_cpu_seconds_total", "Sum")]
    assert graphs["http_request_duration_seconds (p50/p90/p99)"] == [
        ("http_request_duration_seconds", "p50"), ("http_request_duration_seconds", "p90"),
        ("http_request_duration_seconds", "p99")]
    assert len(graphs) == 4  # the info family carries no values worth a graph


def test_a_job_with_more_families_than_a_dashboard_holds_gets_several() -> None:
    # given a job with 1200 gauge families
    families = [(f"gauge_{i}", "gauge") for i in range(1200)]
    # when dashboards are made for it
    dashboards = dashboard_for_families("big", families)
    # then there are three, numbered, holding every family's widget between them
    assert [d.name for d in dashboards] == ["big-metrics", "big-metrics-2", "big-metrics-3"]
    assert sum(len(d.widgets) - 1 for d in dashboards) == 1200


def test_the_up_alarm_covers_every_target_of_the_job() -> None:
    # given the up alarm of a job
    alarm = up_alarm("prod/task-service")
    settings = ReconcileSettings(spec_dir=ROOT)
    # when rendered
    (rendered,) = render(Spec(alarms=(alarm,)), settings).alarms
    # then it is named after the job
    assert rendered.name == "promwatch-dev-prod-task-service-up"
    request = rendered.request
    # and it is the minimum of up over every target, breaching below 1 for three minutes or when missing
    assert request["Metrics"] == [{"Id": "result", "Label": "prod/task-service up", "Period": 60, "ReturnData": True,
                                   "Expression": "SELECT MIN(up) FROM \"prod/task-service\" "
                                                 "WHERE job = 'prod/task-service'"}]
    assert (request["ComparisonOperator"], request["Threshold"], request["EvaluationPeriods"],
            request["TreatMissingData"]) == ("LessThanThreshold", 1.0, 3, "breaching")


def test_the_up_alarm_names_the_job_as_its_series_publish_it() -> None:
    # Given a job name with a non-ASCII character, When its up alarm is made
    alarm = up_alarm("café", namespace="cafe")
    # Then the query matches the job dimension as published: escaped
    assert alarm.expression is not None and alarm.expression.endswith("WHERE job = 'caf\\xe9'")


def test_the_insights_dashboard_follows_the_rules_file() -> None:
    # given the insights rules file
    rules = yaml.safe_load((ROOT / "config" / "insights.yaml").read_text())
    # when its dashboard is made
    dashboard = insights_dashboard(rules)
    expected = sum(len(r["metrics"]) for r in rules["rules"])
    # then it has one graph per rule metric, in the rules' namespace, grouped by the rule's labels
    graphs = [w for w in dashboard.widgets if w.kind == "graph"]
    assert len(graphs) == expected
    first = graphs[0].metrics[0]
    assert first.namespace == rules["namespace"]
    assert set(first.dimensions) == {g.removeprefix("label:") for g in rules["rules"][0]["group_by"]}


def test_packs_render_valid_dashboards() -> None:
    # given the node exporter and health pack dashboards
    settings = ReconcileSettings(spec_dir=ROOT)
    spec = Spec(dashboards=(node_exporter_dashboard("node"), health_dashboard(dead_letter_queue="dlq")))
    # when rendered
    names = [d.name for d in render(spec, settings).dashboards]
    # then they carry the stage and region in their names
    assert names == ["promwatch-dev-us-east-1-node-node", "promwatch-dev-us-east-1-health"]
    # and the health dashboard charts the dead-letter queue and reconcile drift
    titles = [w.title for w in health_dashboard().widgets]
    assert "Dead-letter queue depth" in titles and "Reconcile: drift corrected" in titles


def test_an_untyped_total_yields_to_the_counter_of_the_same_metric() -> None:
    # given an untyped jobs_total and a counter jobs of the same metric, when dashboards are made
    (dashboard,) = dashboard_for_families("j", [("jobs_total", "unknown"), ("jobs", "counter")])
    # then only the counter's increase is charted
    assert _graphs(dashboard) == {"jobs_total (increase)": [("jobs_total", "Sum")]}


def test_the_exposition_pack_makes_a_dashboard_from_a_saved_page(tmp_path: Path) -> None:
    # given a spec generating from a saved /metrics page of the task-service
    page = ROOT / "tests" / "golden" / "emf" / "task_service.1.prom"
    (tmp_path / "page.prom").write_text(page.read_text())
    (tmp_path / "gen.yaml").write_text(yaml.safe_dump(
        {"generate": [{"pack": "exposition", "job": "prod/task-service", "exposition": "page.prom"}]}))
    # when loaded
    from promwatch.reconcile import load_spec

    spec = load_spec(tmp_path)
    # then there is a dashboard of its families and the job's up alarm
    (dashboard,) = spec.dashboards
    graphs = _graphs(dashboard)
    assert graphs["http_request_duration_seconds (p50/p90/p99)"][2] == ("http_request_duration_seconds", "p99")
    assert [a.name for a in spec.alarms] == ["prod-task-service-up"]
    assert spec.sources["dashboard:prod-task-service-metrics"] == "gen.yaml"


def test_the_series_budget_alarm_fires_at_80_percent_of_the_budget() -> None:
    # Given a job with max_series 5000, When its series budget alarm is rendered
    alarm = series_budget_alarm("prod/task-service", 5000)
    (rendered,) = render(Spec(alarms=(alarm,)), ReconcileSettings(spec_dir=ROOT)).alarms
    # Then it compares the fullest target's ActiveSeries self-metric with 4000, whatever the Stage
    assert rendered.name == "promwatch-dev-prod-task-service-series-budget"
    request = rendered.request
    assert request["Metrics"] == [{"Id": "result", "Label": "prod/task-service active series", "Period": 300,
                                   "ReturnData": True,
                                   "Expression": "SELECT MAX(ActiveSeries) FROM \"Promwatch\" "
                                                 "WHERE Component = 'scrape' AND job = 'prod/task-service'"}]
    assert (request["ComparisonOperator"], request["Threshold"], request["EvaluationPeriods"],
            request["TreatMissingData"]) == ("GreaterThanOrEqualToThreshold", 4000.0, 1, "notBreaching")
    assert "4000 series or more, 80% of its max_series 5000" in request["AlarmDescription"]
