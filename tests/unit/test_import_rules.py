"""Prometheus alerting rules -> spec alarms: each translation rule (PromQL alarm, the EMF metric
alarm forms) and each refusal reason (pure)."""
from __future__ import annotations

from typing import Any

import pytest
from promwatch.emf import EmfSettings
from promwatch.reconcile.spec_file import SpecFile
from promwatch_tools.importers import ImportInputError
from promwatch_tools.importers.rules import RulesOptions, import_rules, nearest_interval

ONCALL = "arn:aws:sns:us-east-1:123456789012:oncall"


def _import(*rules: dict[str, Any], target: str = "emf", interval: str | None = None,
            **options: Any) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Alarms by name and findings (path -> its messages, one a line) of one group holding ``rules``."""
    group: dict[str, Any] = {"name": "g", "rules": list(rules)}
    if interval:
        group["interval"] = interval
    result = import_rules([("r.yml", {"groups": [group]})],
                          RulesOptions(target=target, **{"namespace": "ns", **options}))
    SpecFile.model_validate(result.config)  # every output is a valid spec file
    found: dict[str, str] = {}
    for finding in result.findings:
        found[finding.path] = "\n".join(filter(None, [found.get(finding.path), finding.message]))
    return {a["name"]: a for a in result.config["alarms"]}, found


def _alert(expr: str, **fields: Any) -> dict[str, Any]:
    return {"alert": "A", "expr": expr, **fields}


# --- OTLP: a PromQL alarm per rule


def test_a_rule_becomes_a_promql_alarm_with_its_periods() -> None:
    # given an alert with for, keep_firing_for, in a group evaluated every 30s
    alarms, _ = _import(_alert('up{job="api"} == 0', **{"for": "3m", "keep_firing_for": "10m"}), target="otlp",
                        interval="30s")
    # then it is a PromQL alarm: for -> pending, keep_firing_for -> recovery, interval -> evaluation interval
    assert alarms["A"]["promql"] == {"query": 'up{"@resource.service.name"="api"} == 0', "pending_period": 180,
                                     "recovery_period": 600, "evaluation_interval": 30}


def test_a_job_with_a_slash_is_the_namespace_and_name_resource_labels() -> None:
    # given an alert on a job "prod/api", when imported for OTLP
    alarms, found = _import(_alert('rate(x_total{job="prod/api"}[5m]) > 1'), target="otlp")
    # then the job becomes the service namespace and name resource labels, and the mapping is reported
    assert alarms["A"]["promql"]["query"] == ('rate(x_total{"@resource.service.namespace"="prod", '
                                              '"@resource.service.name"="api"}[5m]) > 1')
    assert "over OTLP" in found["r.yml:groups[0].rules[0].expr"]


def test_a_job_regex_is_kept_and_named() -> None:
    # given an alert with a regex job matcher, when imported for OTLP
    alarms, found = _import(_alert('up{job=~"api|web"} == 0'), target="otlp")
    # then the matcher is kept as written and a finding says so
    assert alarms["A"]["promql"]["query"] == 'up{job=~"api|web"} == 0'
    assert "kept as written" in found["r.yml:groups[0].rules[0].expr"]


@pytest.mark.parametrize(("expr", "query"), [
    ("sum by (job) (rate(x[5m])) > 1",
     'sum by ("@resource.service.namespace", "@resource.service.name") (rate(x[5m])) > 1'),
    ("sum(x) without (job, instance) > 1",
     'sum(x) without ("@resource.service.namespace", "@resource.service.name", instance) > 1'),
    ("a / on(job) group_left b > 1",
     'a / on("@resource.service.namespace", "@resource.service.name") group_left b > 1'),
    ('max by ("job") (x) > 1', 'max by ("@resource.service.namespace", "@resource.service.name") (x) > 1'),
])
def test_job_in_a_label_list_is_the_resource_labels_over_otlp(expr: str, query: str) -> None:
    # given a query grouping or matching by job, which is no label over OTLP
    alarms, found = _import(_alert(expr), target="otlp")
    # then it names the resource labels the job is sent with, and says so
    assert alarms["A"]["promql"]["query"] == query
    assert "job is no label there" in found["r.yml:groups[0].rules[0].expr"]


@pytest.mark.parametrize(("interval", "expected"), [("15s", 20), ("45s", 60), ("90s", 120), ("5s", 10),
                                                    ("2h", 3600)])
def test_an_evaluation_interval_is_clamped_to_one_cloudwatch_takes(interval: str, expected: int) -> None:
    # given a group evaluation interval CloudWatch does not take, when imported for OTLP
    alarms, found = _import(_alert("up == 0"), target="otlp", interval=interval)
    # then the interval is clamped to the nearest one it takes, and the finding names it
    assert alarms["A"]["promql"]["evaluation_interval"] == expected
    assert f"{expected}s" in found["r.yml:groups[0].interval"]


@pytest.mark.parametrize(("interval", "expected"), [(None, 60), ("20s", 20), ("5m", 300)])
def test_an_interval_cloudwatch_takes_is_kept_silently(interval: str | None, expected: int) -> None:
    # given an interval CloudWatch takes (or none: the 60s default), when imported for OTLP
    alarms, found = _import(_alert("up == 0"), target="otlp", interval=interval)
    # then it is kept and no finding is made for it
    assert alarms["A"]["promql"]["evaluation_interval"] == expected == nearest_interval(expected)
    assert "r.yml:groups[0].interval" not in found


def test_a_pending_period_longer_than_a_day_is_cut_and_reported() -> None:
    # given an alert pending for 2 days, when imported for OTLP
    alarms, found = _import(_alert("up == 0", **{"for": "2d"}), target="otlp")
    # then the pending period is cut to one day and the cut is reported
    assert alarms["A"]["promql"]["pending_period"] == 86_400
    assert "cut to it" in found["r.yml:groups[0].rules[0].for"]


def test_annotations_and_labels_make_the_description_and_severity_the_actions() -> None:
    # given a rule with summary, description (templated), a runbook and labels
    rule = _alert("up == 0", labels={"severity": "critical", "team": "api"},
                  annotations={"summary": "Down.", "description": "{{ $labels.instance }} is down",
                               "runbook_url": "https://runbooks/down"})
    alarms, found = _import(rule, target="otlp", actions={"critical": (ONCALL,)})
    # then the description holds them all, the template reported, and critical notifies oncall
    assert alarms["A"]["description"] == ("Down.\n{{ $labels.instance }} is down\nrunbook_url: https://runbooks/down\n"
                                          "labels: severity=critical, team=api")
    assert "not expanded" in found["r.yml:groups[0].rules[0].annotations"]
    assert alarms["A"]["actions"] == {"alarm": [ONCALL]}
    assert "no tags" in found["labels"]


def test_a_severity_without_actions_is_reported() -> None:
    # given a severity label with no actions given for it, when imported
    alarms, found = _import(_alert("up == 0", labels={"severity": "page"}), target="otlp")
    # then the alarm has no actions and the finding says how to give them
    assert alarms["A"]["actions"] == {}
    assert "--actions page=ARN" in found["r.yml:groups[0].rules[0].labels.severity"]


def test_an_alert_without_severity_is_reported_as_notifying_no_one() -> None:
    # given an alert with labels but no severity, and actions only for critical, when imported
    alarms, found = _import(_alert("x > 1", labels={"team": "a"}), actions={"critical": (ONCALL,)})
    # then the alarm has no actions and a finding says it notifies no one
    assert alarms["A"]["actions"] == {}
    assert "no severity label" in found["r.yml:groups[0].rules[0].labels"]
    assert "notifies no one" in found["r.yml:groups[0].rules[0].labels"]


def test_both_targets_give_two_alarms_and_repeated_names_are_numbered() -> None:
    # given the same alert twice, when imported for both targets
    alarms, found = _import(_alert("up == 0"), _alert("up == 0"), target="both")
    # then each gives an EMF and an OTLP alarm, the second numbered, and the taken name is reported
    assert sorted(alarms) == ["A-emf", "A-emf-2", "A-otlp", "A-otlp-2"]
    assert "is taken" in found["r.yml:groups[0].rules[1]"]


# --- EMF: metric alarms where one means the same


def test_up_equal_zero_is_the_minimum_of_up_below_one() -> None:
    # given up == 0 pending 3 minutes, when imported for EMF
    alarms, _ = _import(_alert('up{job="api"} == 0', **{"for": "3m"}))
    # then it is a Metrics Insights MIN(up) < 1 over three one-minute periods
    assert alarms["A"] | {"description": ""} == {
        "name": "A", "description": "", "actions": {},
        "expression": "SELECT MIN(up) FROM \"ns\" WHERE job = 'api'", "period": 60, "comparison": "<",
        "threshold": 1.0, "treat_missing_data": "notBreaching", "evaluation_periods": 3, "datapoints_to_alarm": 3}


@pytest.mark.parametrize(("expr", "query", "comparison"), [
    ('node_load1{job="node"} > 8', "SELECT MAX(node_load1) FROM \"ns\" WHERE job = 'node'", ">"),
    ('8 < node_load1{job="node"}', "SELECT MAX(node_load1) FROM \"ns\" WHERE job = 'node'", ">"),
    ('free{mount="/"} <= 5', "SELECT MIN(free) FROM \"ns\" WHERE mount = '/'", "<="),
    ('x{a=~"lit"} >= 1', "SELECT MAX(x) FROM \"ns\" WHERE a = 'lit'", ">="),
    ('x{"a.b"="v"} > 1', "SELECT MAX(x) FROM \"ns\" WHERE \"a.b\" = 'v'", ">"),
])
def test_a_gauge_comparison_is_a_metrics_insights_max_or_min(expr: str, query: str, comparison: str) -> None:
    # given a gauge compared with a number (either way round), when imported
    alarms, _ = _import(_alert(expr))
    # then the query is the MAX or MIN of the metric with its matchers and the comparison kept
    assert (alarms["A"]["expression"], alarms["A"]["comparison"]) == (query, comparison)


@pytest.mark.parametrize(("expr", "query", "comparison"), [
    ('max(node_load1{job="node"}) < 1', "SELECT MAX(node_load1) FROM \"ns\" WHERE job = 'node'", "<"),
    ("min(free) > 5", "SELECT MIN(free) FROM \"ns\"", ">"),
    ('max by (job) (x{job="a"}) >= 2', "SELECT MAX(x) FROM \"ns\" WHERE job = 'a'", ">="),
])
def test_max_or_min_across_series_is_the_metrics_insights_max_or_min_whatever_the_comparison(
        expr: str, query: str, comparison: str) -> None:
    # given max() or min() of series compared with a number, when imported
    alarms, _ = _import(_alert(expr))
    # then the query is the same aggregate whatever the comparison
    assert (alarms["A"]["expression"], alarms["A"]["comparison"]) == (query, comparison)


@pytest.mark.parametrize(("expr", "stat"), [
    ('sum(rate(x_total{job="a"}[5m])) > 1', "Sum"),
    ('sum(count_over_time(x{job="a"}[5m])) < 3', "SampleCount"),
    ('max(max_over_time(x{job="a"}[5m])) > 1', "Maximum"),
    ('min(min_over_time(x{job="a"}[5m])) < 1', "Minimum"),
    ('avg(x{job="a"}) > 1', "Average"),
])
def test_an_aggregation_across_series_keeps_the_statistic_that_aggregates_so(expr: str, stat: str) -> None:
    # given an aggregation across series of a range function, when imported
    alarms, _ = _import(_alert(expr))
    # then the alarm's statistic is the one that aggregates the same way
    alarm = alarms["A"]
    assert alarm.get("stat", alarm.get("metrics", [{}])[0].get("stat")) == stat


def test_a_recorded_sum_of_a_gauge_is_refused() -> None:
    # given recording rule job:up:sum = sum(up), used bare by an alert
    _, found = _import({"record": "job:up:sum", "expr": "sum(up)"}, _alert("job:up:sum < 1"))
    # then no Average(up) alarm: the sum of targets' up has no CloudWatch statistic
    assert "not their sum" in found["r.yml:groups[0].rules[1].expr"]


def test_absent_is_a_sample_count_below_one_with_missing_data_breaching() -> None:
    # given absent(up{...}), when imported
    alarms, _ = _import(_alert('absent(up{job="api"})'))
    # then it is COUNT(up) < 1 with missing data treated as breaching
    assert (alarms["A"]["expression"], alarms["A"]["comparison"], alarms["A"]["threshold"],
            alarms["A"]["treat_missing_data"]) == ("SELECT COUNT(up) FROM \"ns\" WHERE job = 'api'", "<", 1, "breaching")


def test_increase_is_the_sum_over_its_range() -> None:
    # given increase() over 2 minutes pending 10 minutes, when imported
    alarms, _ = _import(_alert('increase(errs_total{job="n", device="eth0"}[2m]) > 10', **{"for": "10m"}))
    # then it is the Sum of the metric over 120s periods, five of them
    alarm = alarms["A"]
    assert {k: alarm[k] for k in ("namespace", "metric", "dimensions", "stat", "period", "threshold",
                                  "evaluation_periods")} == {
        "namespace": "ns", "metric": "errs_total", "dimensions": {"job": "n", "device": "eth0"}, "stat": "Sum",
        "period": 120, "threshold": 10.0, "evaluation_periods": 5}


def test_rate_is_the_sum_divided_by_the_period() -> None:
    # given rate() over 5 minutes, when imported
    alarms, found = _import(_alert('rate(faults{job="n"}[5m]) > 500'))
    # then it is metric math: the 300s Sum divided by the period
    alarm = alarms["A"]
    assert alarm["expression"] == "(m1 / PERIOD(m1))"
    assert alarm["metrics"] == [{"id": "m1", "namespace": "ns", "name": "faults", "dimensions": {"job": "n"},
                                 "stat": "Sum", "period": 300}]
    # and the exact dimension set is pointed out (no scrape config to check it against)
    assert "exactly the dimensions {job}" in found["r.yml:groups[0].rules[0].expr"]


def test_a_ratio_of_rates_times_100_is_metric_math() -> None:
    # given a ratio of summed rates times 100
    expr = 'sum(rate(failed_total{queue="q"}[5m])) / sum(rate(done_total{queue="q"}[5m])) * 100 > 10'
    # when imported
    alarms, _ = _import(_alert(expr))
    # then it is metric math over the two metrics, in order
    assert alarms["A"]["expression"] == "(m1 / PERIOD(m1)) / (m2 / PERIOD(m2)) * 100"
    assert [m["name"] for m in alarms["A"]["metrics"]] == ["failed_total", "done_total"]


def test_a_gauge_ratio_is_metric_math_of_averages() -> None:
    # given a ratio of two gauges, when imported
    alarms, _ = _import(_alert("(conntrack / conntrack_limit) > 0.75"))
    # then it is metric math of their Averages
    assert alarms["A"]["expression"] == "m1 / m2"
    assert {m["stat"] for m in alarms["A"]["metrics"]} == {"Average"}


@pytest.mark.parametrize(("expr", "stat"), [
    ('histogram_quantile(0.99, sum by (le) (rate(lat_bucket{job="a"}[5m]))) > 0.5', "p99"),
    ('histogram_quantile(0.9, rate(lat_bucket{job="a"}[5m])) > 0.5', "p90"),
    ('histogram_quantile(0.999, sum(rate(lat_bucket{job="a"}[5m])) by (le)) > 0.5', "p99.9"),
])
def test_histogram_quantile_is_the_percentile_of_the_distribution(expr: str, stat: str) -> None:
    # given histogram_quantile over a rate of buckets, when imported
    alarms, _ = _import(_alert(expr))
    # then the alarm is the matching percentile of the distribution over the rate's range
    assert {k: alarms["A"][k] for k in ("metric", "dimensions", "stat", "period")} == {
        "metric": "lat", "dimensions": {"job": "a"}, "stat": stat, "period": 300}


def test_max_over_time_is_the_maximum_over_its_range() -> None:
    # given max_over_time over 10 minutes, when imported
    alarms, _ = _import(_alert("max_over_time(temp[10m]) > 80"))
    # then it is the Maximum over a 600s period
    assert (alarms["A"]["stat"], alarms["A"]["period"]) == ("Maximum", 600)


def test_and_or_become_a_composite_of_the_parts() -> None:
    # given alerts joined by or/and with a critical severity, when imported
    alarms, found = _import(_alert("a > 1 or (b > 2 and c < 3)", labels={"severity": "critical"}),
                            actions={"critical": (ONCALL,)})
    # then a composite alarm combines one alarm per part and carries the actions
    assert alarms["A"]["rule"] == "(ALARM(A-1) OR (ALARM(A-2) AND ALARM(A-3)))"
    assert alarms["A"]["actions"] == {"alarm": [ONCALL]}
    # and the parts are the comparisons, in order, and the composite is reported
    assert [alarms[f"A-{i}"]["expression"] for i in (1, 2, 3)] == [
        'SELECT MAX(a) FROM "ns"', 'SELECT MAX(b) FROM "ns"', 'SELECT MIN(c) FROM "ns"']
    assert "composite" in found["r.yml:groups[0].rules[0].expr"]


def test_a_namespace_comes_from_the_rules_job_in_the_scrape_config() -> None:
    # given a scrape config whose job api publishes {job} through a single-dimension rollup
    jobs = {"api": EmfSettings(namespace="prod/api", dimension_rollup_option="SingleDimensionRollup")}
    alarms, found = _import(_alert('sum(rate(x_total{job="api"}[1m])) > 1'), namespace=None, jobs=jobs)
    # then the alarm is in the job's namespace, and the set is known to be published (no finding)
    assert alarms["A"]["metrics"][0]["namespace"] == "prod/api"
    assert "r.yml:groups[0].rules[0].expr" not in found


def test_a_series_compared_on_its_own_is_pointed_out_where_the_set_may_hold_several() -> None:
    # given rate() of one job's counter, not summed: Prometheus fires per series
    jobs = {"api": EmfSettings(namespace="prod/api", dimension_rollup_option="SingleDimensionRollup")}
    _, found = _import(_alert('rate(x_total{job="api"}[1m]) > 1'), namespace=None, jobs=jobs)
    # then the import says the alarm's Sum covers every series of the {job} roll-up
    assert "the alarm's Sum covers every series published under the dimension set {job}" in (
        found["r.yml:groups[0].rules[0].expr"])


def test_declared_dimensions_are_published() -> None:
    # given a scrape config declaring dimensions {job, route} for lat
    jobs = {"api": EmfSettings(metric_declarations=[{"dimensions": [["job", "route"]],
                                                     "metric_name_selectors": ["^lat$"]}], namespace="api")}
    # when an alert matches exactly those dimensions
    _, found = _import(_alert('histogram_quantile(0.9, sum by (le) (rate(lat_bucket{job="api", route="/"}[1m]))) '
                              '> 1'), namespace=None, jobs=jobs)
    # then nothing is reported about its dimensions
    assert "r.yml:groups[0].rules[0].expr" not in found


def test_metric_alarm_periods_are_capped_at_a_day() -> None:
    # given a metric alarm pending 2 days, when imported for EMF
    alarms, found = _import(_alert("x > 1", **{"for": "2d"}))
    # then its periods are capped at a day of minutes, and the cut is reported
    assert alarms["A"]["evaluation_periods"] == 1440
    assert "cut to 1440" in found["r.yml:groups[0].rules[0].for"]


def test_a_count_or_sum_rate_says_what_it_is_for_a_histogram() -> None:
    # given rate() of a histogram's _count, when imported
    alarms, found = _import(_alert("rate(lat_count[5m]) > 1"))
    # then the metric is kept and the finding says it is the distribution's SampleCount
    assert alarms["A"]["metrics"][0]["name"] == "lat_count"
    assert "SampleCount of the distribution lat" in found["r.yml:groups[0].rules[0].expr"]


def test_a_group_limit_and_a_renamed_alert_are_reported() -> None:
    # given a group with a limit and an alert name CloudWatch refuses, when imported
    result = import_rules([("r.yml", {"groups": [{"name": "g", "limit": 5, "rules": [_alert("up == 0") | {
        "alert": "Up down!"}]}]})], RulesOptions(namespace="ns"))
    # then the limit is reported as not carried over and the name is made safe and reported
    found = {f.path: f.message for f in result.findings}
    assert "5: not carried over" in found["r.yml:groups[0].limit"]
    assert [a["name"] for a in result.config["alarms"]] == ["Up-down-"]
    assert "became '-'" in found["r.yml:groups[0].rules[0]"]


def test_keep_firing_for_has_no_metric_alarm_form_and_is_reported() -> None:
    # given an alert with keep_firing_for, when imported
    _, found = _import(_alert("x > 1", keep_firing_for="5m"))
    # then it is reported as having no metric alarm form
    assert "no recovery period" in found["r.yml:groups[0].rules[0].keep_firing_for"]


@pytest.mark.parametrize(("expr", "reason"), [
    ("predict_linear(x[6h], 3600) < 0", "regression"),
    ("deriv(x[5m]) > 0", "regression"),
    ("irate(x[5m]) > 0", "irate"),
    ("changes(x[5m]) > 0", "changes"),
    ("time() - x > 60", "clock"),
    ("x == 1", "'== 1'"),
    ("x != 0", "'!= 0'"),
    ("x > bool 1", "bool"),
    ("x", "not a comparison"),
    ("x > y", "two series"),
    ('x{a=~"b.*"} > 1', 'a=~"b.*"'),
    ('rate(x{a!="b"}[5m]) > 1', 'a!="b"'),
    ('x{a=""} > 1', 'a=""'),
    ('x{a!="b"} > 1', 'a!="b"'),
    ("x{a!~\"b\"} > 1", 'a!~"b"'),
    ("x{a=\"it's\"} > 1", "it's"),
    ("rate(x[45s]) > 1", "45s"),
    ("rate(x[5m]) / rate(y[1m]) > 1", "ranges differ"),
    ("x unless y", "unless"),
    ("x > 1 and on(a) y > 1", "on()/ignoring()"),
    ("rate(x[5m] offset 1h) > 1", "offset"),
    ("max_over_time(x[5m:1m]) > 1", "subquery"),
    ("sum by (a) (rate(x[5m])) > 1", "sum by (a)"),
    ("count(x) > 1", "aggregation count"),
    ("topk(1, x) > 1", "aggregation topk"),
    ('sum(node_load1{job="node"}) > 10', "Average of node_load1 over its series is their mean, not their sum"),
    ('sum(up{job="node"}) < 2', "not their sum"),
    ("sum(max_over_time(x[5m])) > 1", "Maximum of x over its series is their maximum, not their sum"),
    ("min(avg_over_time(x[5m])) > 1", "Average of x over its series is their mean, not their min"),
    ("avg(rate(x[5m])) > 1", "Sum of x over its series is their sum, not their avg"),
    ("sum(histogram_quantile(0.9, rate(x_bucket[5m]))) > 1", "percentile of their merged samples"),
    ("sum(rate(a[5m]) / rate(b[5m])) > 1", "of an expression"),
    ("max by (instance) (x) > 1", "max by (instance)"),
    ("count_over_time(up[5m]) < 3", "sum(count_over_time(...))"),
    ("histogram_quantile(0.9, sum(rate(x_bucket[5m]))) > 1", "without le in by (...)"),
    ("histogram_quantile(0.9, sum by (job) (rate(x_bucket{job=\"a\"}[5m]))) > 1", "returns nothing"),
    ("histogram_quantile(0.9, rate(lat[5m])) > 1", "_bucket"),
    ('histogram_quantile(0.9, rate(lat_bucket{le="1"}[5m])) > 1', "le"),
    ("histogram_quantile(0.9, sum by (le, a) (rate(lat_bucket[5m]))) > 1", "per group"),
    ("label_replace(x, 'a', 'b', 'c', 'd') > 1", "rewrites labels"),
    ("{a=\"b\"} > 1", "something other than a metric"),
    ("http_requests_total > 100", "running total"),
    ("max_over_time(errors_total[5m]) > 1", "running total"),
    ("lat_bucket / 2 > 1", "running total"),
])
def test_a_rule_without_a_faithful_form_is_listed_with_the_reason(expr: str, reason: str) -> None:
    # given a rule with no faithful CloudWatch form, when imported
    alarms, found = _import(_alert(expr))
    # then no alarm is made and the finding gives the reason
    assert alarms == {}
    message = found["r.yml:groups[0].rules[0].expr"]
    assert "no faithful CloudWatch form" in message and reason in message


def test_without_a_namespace_the_emf_alarm_is_refused_with_the_reason() -> None:
    # given no namespace and no scrape config, when an alert is imported for EMF
    alarms, found = _import(_alert("x > 1"), namespace=None)
    # then no alarm is made and the finding asks for --namespace
    assert alarms == {}
    assert "give --namespace" in found["r.yml:groups[0].rules[0].expr"]


def test_a_job_missing_from_the_scrape_config_is_named() -> None:
    # given a scrape config without the job the alert matches, when imported
    _, found = _import(_alert('x{job="other"} > 1'), namespace=None, jobs={"api": EmfSettings(namespace="api")})
    # then the finding names the missing job
    assert "job 'other' is not in the scrape config" in found["r.yml:groups[0].rules[0].expr"]


# --- recording rules


def test_recording_rules_are_reported_and_a_bare_use_is_expanded() -> None:
    # given a recording rule and an alert using it bare
    record = {"record": "job:req:rate5m", "expr": 'sum(rate(req_total{job="a"}[5m]))'}
    # when imported
    alarms, found = _import(record, _alert("job:req:rate5m < 0.1"))
    # then the recording rule is reported and its use is replaced by its expression
    assert "recording rule job:req:rate5m: not carried over" in found["r.yml:groups[0].rules[0]"]
    assert "replaced by its expression" in found["r.yml:groups[0].rules[1].expr"]
    assert alarms["A"]["metrics"][0]["name"] == "req_total"


# given a recording rule used with matchers in an alert
def test_a_recording_rule_used_with_matchers_is_not_imported() -> None:
    record = {"record": "r:x", "expr": "sum by (a) (x)"}
    # when imported for OTLP
    alarms, found = _import(record, _alert('r:x{a="b"} > 1'), target="otlp")
    # then no alarm is made and the finding asks to write the expression out
    assert alarms == {}
    assert "write the expression out" in found["r.yml:groups[0].rules[1].expr"]


def test_records_that_use_each_other_in_a_loop_are_refused() -> None:
    # given two recording rules that use each other and an alert on one
    loop = [{"record": "r:a", "expr": "r:b + 1"}, {"record": "r:b", "expr": "r:a + 1"}]
    # when imported for OTLP
    alarms, found = _import(*loop, _alert("r:a > 1"), target="otlp")
    # then no alarm is made and the nesting depth is reported
    assert alarms == {}
    assert "levels deep" in found["r.yml:groups[0].rules[2].expr"]


def test_an_alert_returning_a_scalar_is_not_imported() -> None:
    # given an alert whose expression returns a scalar, when imported for OTLP
    alarms, found = _import(_alert("1 > bool 0"), target="otlp")
    # then no alarm is made and the finding says it returns scalars
    assert alarms == {}
    assert "returns scalars" in found["r.yml:groups[0].rules[0].expr"]


# --- the severity -> actions mapping of the command line


def test_actions_come_from_the_file_and_the_pairs_add_to_it() -> None:
    from promwatch_tools.commands.import_rules import parse_actions

    # given an actions file mapping severities to ARNs
    mapping = {"critical": ["arn:a", "arn:b"], "warning": "arn:c"}
    # when pairs are given on the command line too, then they add to the file's, per severity
    assert parse_actions(["critical=arn:d", "info=arn:e"], mapping) == {
        "critical": ("arn:a", "arn:b", "arn:d"), "warning": ("arn:c",), "info": ("arn:e",)}


@pytest.mark.parametrize(("pairs", "mapping", "message"), [
    (["critical"], None, "expected SEVERITY=ARN"),
    (["=arn:a"], None, "expected SEVERITY=ARN"),
    ([], ["arn:a"], "expected a mapping of severity"),
    ([], {"critical": [{"arn": "a"}]}, "severity 'critical'"),
])
def test_unusable_actions_are_refused_naming_them(pairs: list[str], mapping: Any, message: str) -> None:
    from promwatch_tools.commands.import_rules import parse_actions

    # given unusable action pairs or an unusable mapping, when parsed, then they are refused, naming them
    with pytest.raises(ImportInputError, match=message):
        parse_actions(pairs, mapping)


# --- matchers on labels that are not dimensions of the job's metrics

ADOT_JOB = EmfSettings(namespace="prod/task-service", dimension_rollup_option="ZeroAndSingleDimensionRollup",
                       rollup_base_dimensions=["OTelLib"], log_only_labels=["job", "instance"])
"""The emf settings `promwatch import adot` writes: job and instance are log-only."""


@pytest.mark.parametrize(("expr", "field", "value"), [
    ('x{job="prod/task-service"} > 1e8', "expression", 'SELECT MAX(x) FROM "prod/task-service"'),
    ('absent(x{job="prod/task-service"})', "expression", 'SELECT COUNT(x) FROM "prod/task-service"'),
    ('rate(x_total{job="prod/task-service"}[5m]) > 1', "metrics", [{
        "id": "m1", "namespace": "prod/task-service", "name": "x_total", "dimensions": {}, "stat": "Sum",
        "period": 300}]),
    ('histogram_quantile(0.9, sum by (le) (rate(lat_bucket{job="prod/task-service"}[5m]))) > 1', "dimensions", {}),
])
def test_a_job_matcher_on_a_log_only_job_is_left_out_as_its_namespace_selects_the_job(
        expr: str, field: str, value: Any) -> None:
    # given the scrape config of an imported ADOT setup (job log-only, the namespace the job's alone)
    alarms, found = _import(_alert(expr), namespace=None, jobs={"prod/task-service": ADOT_JOB})
    # then the alarm does not select job = '...', a dimension no metric has; the drop is reported
    assert alarms["A"][field] == value
    assert "job=\"prod/task-service\" is left out: job is not a dimension (in log_only_labels)" in (
        found["r.yml:groups[0].rules[0].expr"])


def test_a_job_matcher_on_a_shared_namespace_with_job_log_only_is_refused() -> None:
    # given a job in a namespace other jobs share, whose labels go to the log only
    jobs = {"prod/task-service": ADOT_JOB, "other": EmfSettings(namespace="prod/task-service")}
    # when an alert matches on that job
    alarms, found = _import(_alert('x{job="prod/task-service"} > 1'), namespace=None, jobs=jobs)
    # then no alarm is made and the finding says the namespace holds other jobs' metrics
    assert alarms == {}
    assert "holds other jobs' metrics too" in found["r.yml:groups[0].rules[0].expr"]


@pytest.mark.parametrize(("expr", "settings", "reason"), [
    ('x{job="prod/task-service", instance="a:1"} > 1', ADOT_JOB,
     "instance is not a dimension of x (in log_only_labels)"),
    ('rate(x_total{job="api", pod="p"}[5m]) > 1',
     EmfSettings(namespace="api", metric_declarations=[{"dimensions": [["job"]], "metric_name_selectors": ["^x_"]}]),
     "pod is not a dimension of x_total (in no dimension set of the metric_declarations selecting it)"),
])
def test_a_matcher_on_a_label_that_is_not_a_dimension_is_refused(expr: str, settings: EmfSettings,
                                                                 reason: str) -> None:
    # given a matcher on a label that the job's EMF settings do not make a dimension
    job = "prod/task-service" if "prod" in expr else "api"
    # when imported
    alarms, found = _import(_alert(expr), namespace=None, jobs={job: settings})
    # then no alarm is made and the reason names the label and why
    assert alarms == {}
    assert reason in found["r.yml:groups[0].rules[0].expr"]


def test_up_keeps_its_job_matcher_as_up_is_dimensioned_by_the_target_labels() -> None:
    # given up matched on a job whose labels otherwise go to the log only, when imported
    alarms, _ = _import(_alert('up{job="prod/task-service"} == 0'), namespace=None,
                        jobs={"prod/task-service": ADOT_JOB})
    # then the job matcher is kept as up is dimensioned by the target labels
    assert alarms["A"]["expression"] == "SELECT MIN(up) FROM \"prod/task-service\" WHERE job = 'prod/task-service'"


def test_a_job_without_a_namespace_in_the_config_is_in_the_namespace_named_after_it() -> None:
    # given a job whose scrape config names no namespace, when an alert on it is imported
    alarms, _ = _import(_alert('x{job="api"} > 1'), namespace=None, jobs={"api": EmfSettings()})
    # then the query reads from the namespace named after the job
    assert alarms["A"]["expression"] == "SELECT MAX(x) FROM \"api\" WHERE job = 'api'"
