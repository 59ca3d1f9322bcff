"""PromQL in the spec: alarms and chart widgets loaded, refused, rendered, normalised and planned (pure)."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from promwatch.reconcile import Current, ReconcileSettings, SpecError, load_spec, plan, render
from promwatch.reconcile.model import CurrentAlarm, CurrentDashboard
from promwatch.reconcile.normalize import canonical_alarm, canonical_dashboard

ALARM = {"name": "api-errors", "description": "5xx above 5%",
         "promql": {"query": 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) '
                             "> 0.05\n",
                    "pending_period": "2m", "recovery_period": 300, "evaluation_interval": "1m"}}
DASHBOARD = {"name": "otel", "widgets": [
    {"title": "Request rate", "promql": "sum by (job) (rate(http_requests_total[5m]))"},
    {"title": "Latency", "promql": [
        {"query": "histogram_quantile(0.99, sum by (le) (rate(latency_seconds_bucket[5m])))", "label": "p99"},
        "histogram_quantile(0.5, sum by (le) (rate(latency_seconds_bucket[5m])))"]},
]}


def _spec_dir(tmp_path: Path, document: dict[str, Any], name: str = "otel.yaml") -> Path:
    (tmp_path / name).write_text(yaml.safe_dump(document), encoding="utf-8")
    return tmp_path


def _settings(spec_dir: Path) -> ReconcileSettings:
    return ReconcileSettings(spec_dir=spec_dir, stage="prod", region="eu-west-1", account_id="111122223333")


def test_a_promql_alarm_renders_as_evaluation_criteria_and_interval_only(tmp_path: Path) -> None:
    # given a spec with a PromQL alarm, its durations written as PromQL durations and seconds
    settings = _settings(_spec_dir(tmp_path, {"alarms": [ALARM]}))
    # when loaded and rendered
    (alarm,) = render(load_spec(settings.spec_dir), settings).alarms
    # then PutMetricAlarm gets the query (stripped), the periods in seconds and no metric field
    assert alarm.type == "metric"
    assert alarm.request == {
        "AlarmName": "promwatch-prod-api-errors", "AlarmDescription": "5xx above 5%", "ActionsEnabled": True,
        "AlarmActions": [], "OKActions": [], "InsufficientDataActions": [],
        "EvaluationCriteria": {"PromQLCriteria": {"Query": ALARM["promql"]["query"].strip(),  # type: ignore[index]
                                                  "PendingPeriod": 120, "RecoveryPeriod": 300}},
        "EvaluationInterval": 60,
    }


@pytest.mark.parametrize(("promql", "where", "message"), [
    ({"query": "rate(http_requests_total)"}, "alarms[0].promql.query",
     "'rate(http_requests_total)' is not valid PromQL: at column 1, argument 1 of rate is an instant vector; "
     "expected a range vector"),
    ({"query": "sum(rate(x[5m])"}, "alarms[0].promql.query", "expected ')' to close the '(' at column 4"),
    ({"query": "up == 0", "pending_period": "5 minutes"}, "alarms[0].promql.pending_period",
     "'5 minutes' is not a duration"),
    ({"query": "up == 0", "evaluation_interval": "45s"}, "alarms[0].promql.evaluation_interval",
     "evaluation_interval 45 s is not allowed; expected 10s, 20s, 30s or a multiple of 1m up to 60m"),
    ({"query": "up == 0", "recovery_period": "2d"}, "alarms[0].promql.recovery_period",
     "less than or equal to 86400"),
    ({"query": "up == 0", "for": "5m"}, "alarms[0].promql", "unknown key 'for'"),
    ({"query": "foo[5m]"}, "alarms[0].promql.query", "returns a range vector; expected a query returning an instant"),
    ({"query": "up == 0", "pending_period": True}, "alarms[0].promql.pending_period",
     "true is a boolean, not a number; expected a number or a duration such as 30s, 5m, 1h30m"),
    ({"query": "up == 0", "recovery_period": False}, "alarms[0].promql.recovery_period",
     "false is a boolean, not a number"),
    ({"query": "up == 0", "evaluation_interval": True}, "alarms[0].promql.evaluation_interval",
     "true is a boolean, not a number"),
])
def test_an_invalid_promql_alarm_is_refused_naming_file_key_and_value(tmp_path: Path, promql: dict[str, Any],
                                                                       where: str, message: str) -> None:
    # given a spec file whose PromQL alarm is invalid
    spec_dir = _spec_dir(tmp_path, {"alarms": [{"name": "bad", "promql": promql}]}, name="alarms.yaml")
    # when loaded / then it is refused: the file, the key path, the value and what was expected
    with pytest.raises(SpecError) as refused:
        load_spec(spec_dir)
    (problem,) = refused.value.problems
    assert problem.startswith(f"{spec_dir / 'alarms.yaml'}: {where}: ")
    assert message in problem


def test_a_promql_alarm_takes_no_metric_alarm_fields(tmp_path: Path) -> None:
    # given a PromQL alarm that also gives a threshold and a comparison
    spec_dir = _spec_dir(tmp_path, {"alarms": [{**ALARM, "threshold": 1, "comparison": ">"}]})
    # when the spec loads, then it is refused naming the field and the ones a PromQL alarm takes
    with pytest.raises(SpecError, match=r"alarms\[0\]\.comparison: a promql alarm takes no 'comparison'; expected "
                                        "only actions, actions_enabled, description, name, promql"):
        load_spec(spec_dir)


def test_a_promql_widget_renders_as_a_chart_of_promql_queries(tmp_path: Path) -> None:
    # given a dashboard of two PromQL widgets (one query; two, one labelled)
    settings = _settings(_spec_dir(tmp_path, {"dashboards": [DASHBOARD]}))
    # when rendered
    (dashboard,) = render(load_spec(settings.spec_dir), settings).dashboards
    first, second, marker = dashboard.body["widgets"]
    # then each is a chart widget whose queries are cloudwatch-metrics PromQL queries
    assert first == {"type": "chart", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
        "title": "Request rate", "view": "line", "region": "eu-west-1", "data": {"queries": [
            {"id": "q1", "type": "cloudwatch-metrics", "language": "PromQL",
             "query": "sum by (job) (rate(http_requests_total[5m]))"}]}}}
    assert [(q["id"], q.get("label")) for q in second["properties"]["data"]["queries"]] == [("q1", "p99"),
                                                                                            ("q2", None)]
    assert (second["x"], marker["type"]) == (12, "text")


@pytest.mark.parametrize(("widget", "where", "message"), [
    ({"promql": "rate(foo)"}, "dashboards[0].widgets[0].promql[0].query", "argument 1 of rate is an instant vector"),
    ({"promql": [{"query": "up", "lable": "x"}]}, "dashboards[0].widgets[0].promql[0]",
     "unknown key 'lable'; expected one of query, label; did you mean 'label'?"),
    ({"promql": "up", "stat": "Sum"}, "dashboards[0].widgets[0].stat", "a promql widget takes no 'stat'"),
    ({"type": "promql"}, "dashboards[0].widgets[0].promql", "a promql widget needs at least one PromQL query"),
    ({"promql": 'foo{job="a"}[5m]'}, "dashboards[0].widgets[0].promql[0].query",
     "returns a range vector; expected a query returning an instant vector or a scalar"),
    ({"promql": []}, "dashboards[0].widgets[0].promql",
     "an empty list is not allowed; expected a query or a non-empty list of queries"),
    ({"type": "promql", "promql": []}, "dashboards[0].widgets[0].promql", "an empty list is not allowed"),
    ({"alarms": []}, "dashboards[0].widgets[0].alarms", "an empty list is not allowed; expected a non-empty list"),
    ({"promql": "up", "width": True}, "dashboards[0].widgets[0].width", "true is a boolean, not a number"),
])
def test_an_invalid_promql_widget_is_refused_where_it_is(tmp_path: Path, widget: dict[str, Any], where: str,
                                                        message: str) -> None:
    # given a dashboard with one invalid PromQL widget
    spec_dir = _spec_dir(tmp_path, {"dashboards": [{"name": "d", "widgets": [widget]}]})
    # when the spec loads
    with pytest.raises(SpecError) as refused:
        load_spec(spec_dir)
    # then one problem is reported, naming the file and where in it
    (problem,) = refused.value.problems
    assert problem.startswith(f"{spec_dir / 'otel.yaml'}: {where}: ")
    assert message in problem


def _described(request: dict[str, Any]) -> dict[str, Any]:
    """A DescribeAlarms entry of a PromQL alarm: service fields, metric fields it fills in, periods of 0 left out."""
    described = {**copy.deepcopy(request), "AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:x",
                 "StateValue": "OK", "StateReason": "Unchecked", "EvaluationPeriods": 1, "Threshold": 0.0,
                 "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "missing", "Dimensions": [],
                 "EvaluationState": "PARTIAL_DATA"}
    criteria = described["EvaluationCriteria"]["PromQLCriteria"]
    for key in ("PendingPeriod", "RecoveryPeriod"):
        if criteria[key] == 0:
            del criteria[key]
    return described


def test_a_described_promql_alarm_equals_its_request(tmp_path: Path) -> None:
    # given what was put, and what DescribeAlarms returns for it (extra fields, zero periods left out)
    settings = _settings(_spec_dir(tmp_path, {"alarms": [ALARM, {"name": "up", "promql": {"query": "up == 0"}}]}))
    desired = render(load_spec(settings.spec_dir), settings)
    current = Current(alarms={a.name: CurrentAlarm(a.name, "metric", _described(a.request), owned=True)
                              for a in desired.alarms})
    # when normalised and planned / then nothing differs
    for alarm in desired.alarms:
        assert canonical_alarm(_described(alarm.request)) == canonical_alarm(alarm.request)
    assert plan(desired, current).pending == ()


def test_a_promql_alarm_changed_by_hand_is_drift_put_back(tmp_path: Path) -> None:
    # given the applied alarm, whose query and pending period someone changed in the console
    settings = _settings(_spec_dir(tmp_path, {"alarms": [ALARM]}))
    desired = render(load_spec(settings.spec_dir), settings)
    (alarm,) = desired.alarms
    edited = _described(alarm.request)
    edited["EvaluationCriteria"]["PromQLCriteria"].update(Query="up == 0", PendingPeriod=600)
    # when planned
    (change,) = plan(desired, Current(alarms={alarm.name: CurrentAlarm(alarm.name, "metric", edited,
                                                                      owned=True)})).changes
    # then it is an update of exactly those fields, back to the spec's
    assert change.action == "update"
    assert {f.path: (f.before, f.after) for f in change.fields} == {
        "EvaluationCriteria.PromQLCriteria.PendingPeriod": (600.0, 120.0),
        "EvaluationCriteria.PromQLCriteria.Query": ("up == 0", ALARM["promql"]["query"].strip()),  # type: ignore[index]
    }


def test_a_metric_alarm_turned_into_a_promql_alarm_is_an_update(tmp_path: Path) -> None:
    # given a metric alarm of the same name, described with its metric fields
    settings = _settings(_spec_dir(tmp_path, {"alarms": [ALARM]}))
    desired = render(load_spec(settings.spec_dir), settings)
    (alarm,) = desired.alarms
    metric = {"AlarmName": alarm.name, "Namespace": "ns", "MetricName": "errors", "Statistic": "Sum", "Period": 60,
              "EvaluationPeriods": 1, "Threshold": 0.0, "ComparisonOperator": "GreaterThanThreshold"}
    (change,) = plan(desired, Current(alarms={alarm.name: CurrentAlarm(alarm.name, "metric", metric,
                                                                      owned=True)})).changes
    # then the put replaces the metric fields by the PromQL ones
    paths = {f.path for f in change.fields}
    assert change.action == "update" and {"MetricName", "EvaluationInterval", "EvaluationCriteria"} <= paths


def test_a_chart_widget_compares_with_its_region_filled_in(tmp_path: Path) -> None:
    # given the rendered dashboard, and GetDashboard's copy of it without the chart's region
    settings = _settings(_spec_dir(tmp_path, {"dashboards": [DASHBOARD]}))
    desired = render(load_spec(settings.spec_dir), settings)
    (dashboard,) = desired.dashboards
    returned = copy.deepcopy(dashboard.body)
    del returned["widgets"][0]["properties"]["region"]
    # then both are the same dashboard, and a plan has nothing to do
    assert canonical_dashboard(returned, region="eu-west-1") == canonical_dashboard(dashboard.body, region="eu-west-1")
    current = Current(dashboards={dashboard.name: CurrentDashboard(dashboard.name, returned, recorded=True)},
                      dashboard_records=frozenset({dashboard.name}))
    assert plan(desired, current).pending == ()
    # and a query edited by hand is drift
    returned["widgets"][1]["properties"]["data"]["queries"][0]["query"] = "up"
    (change,) = plan(desired, current).changes
    assert [f.path for f in change.fields] == ["widgets[1].properties.data.queries[0].query"]


@pytest.mark.parametrize(("document", "where"), [
    ({"alarms": [{"name": "a", "metric": "m", "namespace": "n", "threshold": True, "comparison": ">"}]},
     "alarms[0].threshold"),
    ({"alarms": [{"name": "a", "metric": "m", "namespace": "n", "threshold": 1, "comparison": ">", "period": True}]},
     "alarms[0].period"),
    ({"alarms": [{"name": "a", "metric": "m", "namespace": "n", "threshold": 1, "comparison": ">",
                  "evaluation_periods": True}]}, "alarms[0].evaluation_periods"),
    ({"dashboards": [{"name": "d", "widgets": [{"metrics": [{"namespace": "n", "metric": "m"}], "height": True}]}]},
     "dashboards[0].widgets[0].height"),
    ({"dashboards": [{"name": "d", "widgets": [{"metrics": [{"namespace": "n", "metric": "m"}],
                                                  "y_axis": {"min": False}}]}]}, "dashboards[0].widgets[0].y_axis.min"),
    ({"generate": [{"pack": "node_exporter", "job": "node", "max_series": True}]}, "generate[0].max_series"),
    ({"generate": [{"pack": "node_exporter", "job": "node", "period": True}]}, "generate[0].period"),
])
def test_a_boolean_is_refused_wherever_the_spec_takes_a_number(tmp_path: Path, document: dict[str, Any],
                                                                where: str) -> None:
    # given a spec whose number is written as true/false (pydantic's lax mode would read true as 1)
    spec_dir = _spec_dir(tmp_path, document)
    # when loaded / then it is refused at that key
    with pytest.raises(SpecError) as refused:
        load_spec(spec_dir)
    assert any(p.startswith(f"{spec_dir / 'otel.yaml'}: {where}: ") and "is a boolean, not a number" in p
               for p in refused.value.problems), refused.value.problems


@pytest.mark.parametrize(("document", "where"), [
    ({"alarms": [{**ALARM, "actions_enabled": 1}]}, "alarms[0].actions_enabled"),
    ({"alarms": [{**ALARM, "actions_enabled": "yes"}]}, "alarms[0].actions_enabled"),
    ({"generate": [{"pack": "node_exporter", "job": "node", "up_alarm": 0}]}, "generate[0].up_alarm"),
    ({"dashboards": [{"name": "d", "widgets": [{"metrics": [{"namespace": "n", "metric": "m"}], "stacked": "on"}]}]},
     "dashboards[0].widgets[0].stacked"),
])
def test_a_number_or_string_is_refused_where_the_spec_takes_a_boolean(tmp_path: Path, document: dict[str, Any],
                                                                      where: str) -> None:
    # given a spec whose boolean is written as a number or a word pydantic's lax mode would convert
    spec_dir = _spec_dir(tmp_path, document)
    # when loaded / then it is refused at that key
    with pytest.raises(SpecError) as refused:
        load_spec(spec_dir)
    assert any(p.startswith(f"{spec_dir / 'otel.yaml'}: {where}: ") and "is not a boolean; expected true or false"
               in p for p in refused.value.problems), refused.value.problems
