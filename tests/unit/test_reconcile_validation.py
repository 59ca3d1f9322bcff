"""Spec validation: everything PutDashboard/PutMetricAlarm would refuse is refused first, located."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from promwatch.reconcile import SpecError, load_spec
from promwatch.reconcile.checks import check_statistic
from promwatch.reconcile.spec import AlarmSpec

ALARM: dict[str, Any] = {
    "name": "task-service-down", "namespace": "prod/task-service", "metric": "up",
    "dimensions": {"job": "prod/task-service"}, "stat": "Minimum", "period": 60, "evaluation_periods": 3,
    "comparison": "<", "threshold": 1, "treat_missing_data": "breaching",
}
GRAPH: dict[str, Any] = {"title": "Heap", "metrics": [{"namespace": "ns", "name": "heap", "stat": "Average"}]}


def _write(directory: Path, name: str, content: dict[str, Any]) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    return path


def _problems(directory: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(directory)
    return caught.value.problems


def test_a_misspelt_statistic_names_the_file_the_key_and_the_likely_fix(tmp_path: Path) -> None:
    # given an alarm whose stat is 'Minimun'
    path = _write(tmp_path, "task-service.yaml", {"alarms": [{**ALARM, "stat": "Minimun"}]})
    # when the spec is loaded
    problems = _problems(tmp_path)
    # then one problem names the file, the key path and the value, with the expected forms and a hint
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: alarms[0].stat: 'Minimun' is not a statistic; expected one of Average, Sum,")
    assert problems[0].endswith("did you mean 'Minimum'?")


def test_problems_of_every_file_are_reported_together(tmp_path: Path) -> None:
    # given two files, each with a mistake
    _write(tmp_path, "a.yaml", {"alarms": [{**ALARM, "comparison": "=<"}]})
    _write(tmp_path, "b.yaml", {"dashboards": [{"name": "d", "widgets": [{**GRAPH, "period": 45}]}]})
    # when the spec is loaded
    problems = _problems(tmp_path)
    # then both are reported, each located in its own file
    assert [p.split(": ")[0].rsplit("/", 1)[1] for p in problems] == ["a.yaml", "b.yaml"]
    assert "alarms[0].comparison: '=<' is not a comparison" in problems[0]
    assert "dashboards[0].widgets[0].period: Value error" not in problems[1]
    assert "period 45 is not allowed; expected 1, 5, 10, 20, 30 or a multiple of 60" in problems[1]


@pytest.mark.parametrize(
    ("change", "location", "message"),
    [
        ({"stats": "Minimum"}, "alarms[0]", "unknown key 'stats'; expected one of name, description"),
        ({"period": 90}, "alarms[0].period", "period 90 is not allowed; expected 10, 20, 30 or a multiple of 60"),
        ({"treat_missing_data": "breach"}, "alarms[0].treat_missing_data", "did you mean 'breaching'?"),
        ({"datapoints_to_alarm": 4}, "alarms[0].datapoints_to_alarm", "4 is more than evaluation_periods (3)"),
        ({"evaluation_periods": 1441}, "alarms[0].evaluation_periods", "expected at most 86400 s"),
        ({"evaluation_periods": 0}, "alarms[0].evaluation_periods", "greater than or equal to 1; got 0"),
        ({"name": "has space"}, "alarms[0].name", "name 'has space' is not allowed"),
        ({"threshold": None}, "alarms[0].threshold", "a metric alarm needs 'threshold'"),
        ({"rule": "ALARM(x)"}, "alarms[0].comparison", "a composite alarm takes no 'comparison'"),
        ({"anomaly_band": 2, "threshold": None, "comparison": ">"}, "alarms[0].comparison",
         "'>' is not an anomaly-band comparison"),
        ({"actions": {"alarm": ["arn:aws:sns:us-east-1:123456789012:t"] * 6}}, "alarms[0].actions.alarm",
         "at most 5 items"),
        ({"actions": {"alarm": ["not-an-arn"]}}, "alarms[0].actions.alarm[0]", "is not an SNS topic ARN"),
        ({"dimensions": {"job": "prod\n"}}, "alarms[0].dimensions.job", "write a label value as promwatch publishes it"),
        ({"dimensions": {"job": "café"}}, "alarms[0].dimensions.job", "escaped (caf\\xe9"),
        ({"dimensions": {"jo\tb": "x"}}, "alarms[0].dimensions.jo\tb.[key]", "no control character"),
    ],
)
def test_alarm_fields_the_api_would_refuse_are_refused(tmp_path: Path, change: dict[str, Any], location: str,
                                                       message: str) -> None:
    # given an alarm with one bad field
    alarm = {k: v for k, v in {**ALARM, **change}.items() if v is not None}
    _write(tmp_path, "alarms.yaml", {"alarms": [alarm]})
    # when the spec is loaded
    problems = _problems(tmp_path)
    # then the problem is located at that field and says what is expected
    assert any(f"alarms.yaml: {location}: " in p and message in p for p in problems), problems


def test_a_math_alarm_takes_at_most_ten_metrics(tmp_path: Path) -> None:
    # given a metric-math alarm over 11 metrics
    metrics = [{"id": f"m{i}", "namespace": "ns", "name": "x", "stat": "Sum"} for i in range(11)]
    alarm = {"name": "sum", "expression": "SUM(METRICS())", "metrics": metrics, "comparison": ">", "threshold": 1}
    _write(tmp_path, "a.yaml", {"alarms": [alarm]})
    # when loaded, then it is refused at 'metrics'
    assert any("alarms[0].metrics: List should have at most 10 items" in p for p in _problems(tmp_path))


@pytest.mark.parametrize(
    ("widget", "location", "message"),
    [
        ({"markdown": "hi", "metrics": GRAPH["metrics"]}, "widgets[0].metrics", "a text widget takes no 'metrics'"),
        ({"title": "empty"}, "widgets[0].metrics", "a graph widget needs at least one metric"),
        ({**GRAPH, "width": 25}, "widgets[0].width", "less than or equal to 24"),
        ({**GRAPH, "view": "line"}, "widgets[0].view", "got 'line'"),
        ({"metrics": [{"namespace": "ns", "name": "x", "stat": "p99.999"}]}, "widgets[0].metrics[0].stat",
         "'p99.999' is not a statistic"),
        ({"metrics": [{"namespace": "ns", "name": "x", "dimensions": {"a": "*"}, "anomaly_band": 2}]},
         "widgets[0].metrics[0].anomaly_band", "an anomaly band needs a single metric"),
    ],
)
def test_widget_shapes_the_api_would_refuse_are_refused(tmp_path: Path, widget: dict[str, Any], location: str,
                                                        message: str) -> None:
    # given a dashboard with one bad widget
    _write(tmp_path, "d.yaml", {"dashboards": [{"name": "d", "widgets": [widget]}]})
    # when loaded, then the problem is located in the widget
    problems = _problems(tmp_path)
    assert any(f"dashboards[0].{location}: " in p and message in p for p in problems), problems


def test_a_dashboard_holds_at_most_499_widgets_of_the_spec(tmp_path: Path) -> None:
    # given 500 widgets (the 500th slot is the ownership marker's)
    _write(tmp_path, "d.yaml", {"dashboards": [{"name": "d", "widgets": [GRAPH] * 500}]})
    # when loaded, then the widget count is refused
    assert any("dashboards[0].widgets: List should have at most 499 items" in p for p in _problems(tmp_path))


def test_cross_file_references_and_names_are_checked(tmp_path: Path) -> None:
    # given a duplicate alarm, a composite naming a missing alarm, a cycle and a status widget naming a missing alarm
    _write(tmp_path, "a.yaml", {"alarms": [ALARM, {"name": "c1", "rule": "ALARM(c2) OR ALARM(nope)"},
                                           {"name": "c2", "rule": "ALARM(c1)"}]})
    _write(tmp_path, "b.yaml", {"alarms": [ALARM],
                                "dashboards": [{"name": "d", "widgets": [{"alarms": ["missing"]}]}]})
    # when loaded
    problems = "\n".join(_problems(tmp_path))
    # then each is reported
    assert "b.yaml: alarms[0].name: alarm 'task-service-down' is also declared in" in problems
    assert "a.yaml: alarms[1].rule: alarm 'nope' is not in the spec" in problems
    assert "depends on itself" in problems
    assert "b.yaml: dashboards[0].widgets[0].alarms: alarm 'missing' is not in the spec" in problems


def test_hostile_spec_files_are_problems_of_their_file(tmp_path: Path) -> None:
    # Given a file nested 100 000 deep (a RecursionError traceback before), one with a duplicate
    # key (silently the last one before) and one that is not UTF-8, When loaded,
    # Then each is a located problem of its own file and the others are still checked.
    (tmp_path / "deep.yaml").write_text("alarms: " + "[" * 100_000, encoding="utf-8")
    (tmp_path / "dup.yaml").write_text("alarms: []\ndashboards: []\nalarms: []\n", encoding="utf-8")
    (tmp_path / "latin1.yaml").write_bytes(b"# caf\xe9\nalarms: []\n")
    _write(tmp_path, "ok.yaml", {"alarms": [{**ALARM, "stat": "Minimun"}]})
    problems = _problems(tmp_path)
    assert problems[0] == f"{tmp_path / 'deep.yaml'}: line 1: nested deeper than 64 levels; expected at most 64"
    assert problems[1] == f"{tmp_path / 'dup.yaml'}: line 3: duplicate key 'alarms'; expected each key once in a mapping"
    assert problems[2].startswith(f"{tmp_path / 'latin1.yaml'}: byte 5 is not UTF-8")
    assert problems[3].startswith(f"{tmp_path / 'ok.yaml'}: alarms[0].stat")


@pytest.mark.parametrize(
    ("change", "location"),
    [({"threshold": float("inf")}, "alarms[0].threshold"), ({"threshold": float("nan")}, "alarms[0].threshold")],
)
def test_thresholds_are_finite(tmp_path: Path, change: dict[str, Any], location: str) -> None:
    # Given an alarm threshold of .inf or .nan (accepted, then refused by PutMetricAlarm at apply),
    # When loaded, Then it is a located problem.
    _write(tmp_path, "a.yaml", {"alarms": [{**ALARM, **change}]})
    (problem,) = _problems(tmp_path)
    assert f"a.yaml: {location}: Input should be a finite number" in problem


def test_invalid_yaml_is_located_by_line(tmp_path: Path) -> None:
    # given a file that is not YAML
    (tmp_path / "bad.yaml").write_text("alarms:\n  - name: [unclosed\n", encoding="utf-8")
    # when loaded, then the file and line are named
    (problem,) = _problems(tmp_path)
    assert "bad.yaml: line " in problem and "not valid YAML" in problem


@pytest.mark.parametrize("stat", ["Average", "Sum", "Minimum", "Maximum", "SampleCount", "p99", "p99.9", "p0",
                                  "p100", "tm90", "wm99", "tc90", "ts99", "IQM", "TM(10%:90%)", "TM(:95%)",
                                  "PR(100:2000)", "TC(0.005:0.030)", "WM(:0.5)"])
def test_every_statistic_form_cloudwatch_accepts_is_accepted(stat: str) -> None:
    # given a statistic in a form CloudWatch accepts, when checked, then it is accepted as written
    assert check_statistic(stat) == stat


@pytest.mark.parametrize("stat", ["average", "p101", "p99.999", "P99", "tm", "TM(10:90%)", "IQR", ""])
def test_malformed_statistics_are_refused(stat: str) -> None:
    # given a statistic misspelt, out of range or malformed, when checked, then it is refused
    with pytest.raises(ValueError, match="is not a statistic"):
        check_statistic(stat)


@pytest.mark.parametrize(("given", "expected"), [("<", "LessThanThreshold"), ("<=", "LessThanOrEqualToThreshold"),
                                                 (">", "GreaterThanThreshold"),
                                                 ("GreaterThanOrEqualToThreshold", "GreaterThanOrEqualToThreshold")])
def test_comparisons_accept_symbols_and_api_names(given: str, expected: str) -> None:
    assert AlarmSpec.model_validate({**ALARM, "comparison": given}).comparison_operator == expected


def test_the_shipped_spec_is_valid() -> None:
    # given the repository's config/dashboards, when loaded, then it holds the seed's dashboard and alarm
    spec = load_spec(Path(__file__).resolve().parents[2] / "config" / "dashboards")
    assert "task-service" in {d.name for d in spec.dashboards}
    assert "task-service-down" in {a.name for a in spec.alarms}
