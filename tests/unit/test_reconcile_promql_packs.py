"""The packs' PromQL variants, for jobs whose output is OTLP: chosen per pack, checked like written ones (pure)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from promwatch.reconcile import ReconcileSettings, SpecError, load_spec, render, templates
from promwatch.reconcile.promql import result_type
from promwatch.reconcile.templates_promql import JOB_LABEL, job_labels, selector

PAGE = """# TYPE http_requests counter
http_requests_total{code="200"} 3
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 1
latency_seconds_bucket{le="+Inf"} 2
latency_seconds_sum 0.3
latency_seconds_count 2
# TYPE queue_depth gauge
queue_depth 4
"""


def _load(tmp_path: Path, generate: list[dict[str, object]]) -> ReconcileSettings:
    (tmp_path / "packs.yaml").write_text(yaml.safe_dump({"generate": generate}), encoding="utf-8")
    (tmp_path / "page.txt").write_text(PAGE, encoding="utf-8")
    return ReconcileSettings(spec_dir=tmp_path)


def test_a_promql_nodejs_pack_draws_charts_and_alarms_in_promql(tmp_path: Path) -> None:
    # given the Node.js pack of a job whose output is OTLP
    settings = _load(tmp_path, [{"pack": "nodejs", "job": "prod/api", "query_language": "promql"}])
    # when the spec is loaded and rendered
    desired = render(load_spec(settings.spec_dir), settings)
    (dashboard,) = desired.dashboards
    (alarm,) = desired.alarms
    charts = [w for w in dashboard.body["widgets"] if w["type"] == "chart"]
    queries = [q["query"] for w in charts for q in w["properties"]["data"]["queries"]]
    # then every graph is a PromQL chart: rate() for counters, histogram_quantile() over the buckets
    assert len(charts) == len(dashboard.body["widgets"]) - 1  # all but the marker
    bucket = selector("http_request_duration_seconds_bucket", "prod/api")
    assert f"histogram_quantile(0.99, sum by (le) (rate({bucket}[5m])))" in queries
    assert ('sum (rate({"process_cpu_user_seconds_total", "@resource.service.namespace"="prod", '
            '"@resource.service.name"="api"}[5m]))') in queries
    # and the up alarm is a PromQL alarm on up == 0 (or up gone), 3 minutes pending
    up = selector("up", "prod/api")
    assert alarm.name == "promwatch-dev-prod-api-up"
    assert alarm.request["EvaluationCriteria"] == {"PromQLCriteria": {
        "Query": f"{up} == 0 or absent({up})", "PendingPeriod": 180, "RecoveryPeriod": 0}}
    assert "Metrics" not in alarm.request


def test_every_promql_pack_query_is_valid_promql() -> None:
    # given every pack in its PromQL variant
    families = [("http_requests", "counter"), ("latency_seconds", "histogram"), ("queue_depth", "gauge"),
                ("rpc", "summary"), ("build", "info")]
    widgets = [*templates.nodejs_dashboard("api", query_language="promql").widgets,
               *templates.node_exporter_dashboard("node", query_language="promql").widgets,
               *templates.dashboard_for_families("api", families, query_language="promql")[0].widgets]
    queries = [q.query for w in widgets for q in w.promql]
    # then each query is an instant vector (the models checked them as they were made)
    assert len(queries) > 25
    assert {result_type(q) for q in queries} == {"instant vector"}


def test_the_exposition_pack_in_promql_charts_each_family_by_its_type(tmp_path: Path) -> None:
    # given the exposition pack in PromQL for a page with a counter, a histogram and a gauge
    settings = _load(tmp_path, [{"pack": "exposition", "job": "svc", "exposition": "page.txt",
                                 "query_language": "promql", "up_alarm": False}])
    # when rendered
    (dashboard,) = render(load_spec(settings.spec_dir), settings).dashboards
    # then the counter is charted per second, the histogram as three percentiles and the gauge as it is
    titles = {w["properties"].get("title"): [q["query"] for q in w["properties"]["data"]["queries"]]
              for w in dashboard.body["widgets"] if w["type"] == "chart"}
    assert titles["http_requests_total (per second)"] == [
        'sum (rate({"http_requests_total", "@resource.service.name"="svc"}[5m]))']
    assert len(titles["latency_seconds (p50/p90/p99)"]) == 3
    assert titles["queue_depth"] == ['{"queue_depth", "@resource.service.name"="svc"}']


def test_the_metrics_variant_is_the_default_and_unchanged(tmp_path: Path) -> None:
    # given the same pack without query_language, and with query_language: metrics
    default = render(load_spec(_load(tmp_path, [{"pack": "node_exporter", "job": "node"}]).spec_dir),
                     ReconcileSettings(spec_dir=tmp_path))
    explicit = render(load_spec(_load(tmp_path, [{"pack": "node_exporter", "job": "node",
                                                  "query_language": "metrics"}]).spec_dir),
                      ReconcileSettings(spec_dir=tmp_path))
    # then both are classic metric graphs and a Metrics Insights up alarm
    assert default == explicit
    assert {w["type"] for w in default.dashboards[0].body["widgets"]} == {"metric", "text"}
    assert default.alarms[0].request["Metrics"][0]["Expression"].startswith("SELECT MIN(up)")


@pytest.mark.parametrize("pack", ["insights", "health"])
def test_packs_of_classic_metrics_refuse_promql(tmp_path: Path, pack: str) -> None:
    # given the insights or health pack asked in PromQL
    settings = _load(tmp_path, [{"pack": pack, "query_language": "promql"}])
    # when the spec loads, then it is refused as the pack reads classic metrics only
    with pytest.raises(SpecError, match=rf"generate\[0\]\.query_language: the {pack} pack reads classic "
                                        "CloudWatch metrics only"):
        load_spec(settings.spec_dir)


def test_a_job_name_is_quoted_safely_in_the_selector() -> None:
    # given a job name with a quote and a backslash
    query = selector("up", 'a"b\\c')
    # then the selector still parses, the value escaped
    assert query == '{"up", "' + JOB_LABEL + '"="a\\"b\\\\c"}'
    assert result_type(query) == "instant vector"


@pytest.mark.parametrize(("job", "labels"), [
    ("prod/api", {"@resource.service.namespace": "prod", "@resource.service.name": "api"}),
    ("a/b/c", {"@resource.service.namespace": "a/b", "@resource.service.name": "c"}),
    ("api", {"@resource.service.name": "api"}),
    ("/api", {"@resource.service.name": "/api"}),
    ("api/", {"@resource.service.name": "api/"}),
])
def test_a_job_is_selected_as_the_otlp_output_names_its_resource(job: str, labels: dict[str, str]) -> None:
    # given a job name, when made into selector labels, then they are the resource labels the OTLP output gives it
    # the OTLP output maps job "ns/name" to service.namespace "ns" and service.name "name"
    assert job_labels(job) == labels


def test_gauge_histograms_get_no_promql_chart() -> None:
    # the OTLP output drops gauge histograms (the OpenTelemetry specification does): nothing to chart
    # given a gauge histogram family, when a PromQL dashboard is made for it
    (dashboard,) = templates.dashboard_for_families("j", [("depth", "gaugehistogram")], query_language="promql")
    # then it has no chart, only the text widget
    assert [w.kind for w in dashboard.widgets] == ["text"]


def test_a_job_pack_with_max_series_adds_the_series_budget_alarm(tmp_path: Path) -> None:
    # Given a node_exporter pack naming its job's max_series,
    settings = _load(tmp_path, [{"pack": "node_exporter", "job": "node", "max_series": 2000}])
    # when loaded and rendered, then the up alarm and a series budget alarm at 1600 are made.
    alarms = {a.name: a.request for a in render(load_spec(settings.spec_dir), settings).alarms}
    assert set(alarms) == {"promwatch-dev-node-up", "promwatch-dev-node-series-budget"}
    assert alarms["promwatch-dev-node-series-budget"]["Threshold"] == 1600.0


@pytest.mark.parametrize("generate", [{"pack": "nodejs", "job": "api", "query_language": "promql", "max_series": 10},
                                      {"pack": "health", "max_series": 10}])
def test_the_series_budget_alarm_needs_a_job_promwatch_scrapes(tmp_path: Path, generate: dict[str, object]) -> None:
    # given a series budget on a PromQL job pack or on the health pack
    settings = _load(tmp_path, [generate])
    # when the spec loads, then it is refused as the alarm needs a job pack in metrics
    with pytest.raises(SpecError, match=r"generate\[0\]\.max_series: the series budget alarm needs a job pack "
                                        "with query_language: metrics"):
        load_spec(settings.spec_dir)
