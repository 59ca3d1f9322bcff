"""The demo's two CloudWatch paths: its scrape config, the per-path summary, PromQL alarms withheld
from the emulator, chart widgets read for the preview, and packs choosing their language (pure)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber
from promwatch.reconcile import SpecError, load_spec
from promwatch.scrape import parse_config
from promwatch_tools.local.demo import scrape_config
from promwatch_tools.local.demo_otlp import OtlpTotals, emf_bytes
from promwatch_tools.local.demo_results import WithoutPromQLAlarms
from promwatch_tools.local.errors import EmulatorGap
from promwatch_tools.local.report import DemoReport, path_lines
from promwatch_tools.local.widgets import widget_spec

ROOT = Path(__file__).resolve().parents[2]
ENDPOINT = "http://127.0.0.1:4318/v1/metrics"


def test_the_demo_sends_the_task_service_both_ways_and_the_others_as_before() -> None:
    # given the project's scrape config
    project = yaml.safe_load((ROOT / "config" / "scrape.yaml").read_text())
    # when the demo writes its config with the receiver's endpoint
    config = scrape_config("127.0.0.1:3000", "127.0.0.1:9100", interval_s=5, project=project, otlp_endpoint=ENDPOINT)
    # then it loads, the task-service job sends EMF and OTLP to the receiver, and node EMF only
    loaded = parse_config(yaml.safe_dump(config))
    task, node = loaded.job("prod/task-service"), loaded.job("node")
    assert task.sends_emf and task.otlp is not None and task.otlp.endpoint == ENDPOINT
    assert node.sends_emf and node.otlp is None
    # and without an endpoint (the bundled default) no job sends OTLP
    bundled = parse_config((ROOT / "config" / "scrape.yaml").read_text())
    assert all(job.otlp is None for job in bundled.scrape_configs)


def test_emf_bytes_count_only_the_documents_of_the_namespace() -> None:
    # given EMF documents of two namespaces and a plain log line
    def doc(namespace: str) -> str:
        return json.dumps({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": [],
                                                                            "Metrics": []}]}, "x": 1})
    mine, other = doc("prod/task-service"), doc("Promwatch")
    # when counted for the task-service, then only its document's bytes count
    assert emf_bytes([mine, other, "START RequestId: 1"], namespace="prod/task-service") == len(mine.encode())


def test_the_summary_names_both_paths_and_what_the_receiver_refused() -> None:
    # given a run whose OTLP requests all passed the signature check, and one where one was refused
    report = DemoReport(started=0, emf_datums=87, emf_bytes=18000, namespaces={"prod/task-service": 31},
                        otlp_url=ENDPOINT, otlp=OtlpTotals(3, 213, 80, 6300, 0))
    refused = DemoReport(started=0, otlp=OtlpTotals(0, 0, 0, 0, 2, "signature does not match"),
                         promql_alarms=["promwatch-dev-api-up"])
    # when summarised
    lines, refused_lines = path_lines(report), path_lines(refused)
    # then each path has its line, the OTLP one saying the signatures were verified
    assert lines[0].startswith("EMF:  prod/task-service: 87 metric data extracted, 31 metrics, 18000 bytes")
    assert lines[1] == (f"OTLP: prod/task-service: 3 requests (signature verified), 213 points, 80 series, "
                        f"6300 bytes (gzip) to {ENDPOINT}")
    # and refusals and withheld PromQL alarms are said, not hidden
    assert "(2 refused: signature does not match)" in refused_lines[1]
    assert "not applied to the emulator" in refused_lines[2] and "promwatch-dev-api-up" in refused_lines[2]


def _cloudwatch() -> Any:
    return boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


PROMQL_ALARM = {"AlarmName": "api-up", "EvaluationInterval": 60, "EvaluationCriteria": {
    "PromQLCriteria": {"Query": "up == 0", "PendingPeriod": 180}}}


def test_promql_alarms_are_validated_then_withheld_from_the_emulator() -> None:
    # given the emulator's client, guarded; a metric alarm reaches it (stubbed here)
    client = _cloudwatch()
    guarded = WithoutPromQLAlarms(client)
    metric_alarm = {"AlarmName": "api-down", "MetricName": "up", "Namespace": "api", "Statistic": "Minimum",
                    "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0, "ComparisonOperator": "LessThanThreshold"}
    with Stubber(client) as stub:
        stub.add_response("put_metric_alarm", {}, metric_alarm)
        guarded.put_metric_alarm(**metric_alarm)
        # when a PromQL alarm is put, then it is refused naming moto's gap, and recorded
        with pytest.raises(EmulatorGap, match=r"moto has no EvaluationCriteria\.PromQLCriteria"):
            guarded.put_metric_alarm(**PROMQL_ALARM)
        stub.assert_no_pending_responses()
    assert guarded.withheld == ["api-up"]
    # and a PromQL alarm botocore's model refuses fails as botocore would fail it
    with pytest.raises(ParamValidationError):
        guarded.put_metric_alarm(**{**PROMQL_ALARM, "EvaluationInterval": "1m"})


def test_a_chart_widget_lists_its_promql_queries_and_names_the_others() -> None:
    # given a chart widget as promwatch renders PromQL charts
    widget = {"type": "chart", "properties": {"title": "Latency", "data": {"queries": [
        {"id": "q1", "type": "cloudwatch-metrics", "language": "PromQL", "query": "up", "label": "up"},
        {"id": "q2", "language": "SQL", "query": "SELECT 1"}]}}}
    # when read for the preview
    spec = widget_spec(widget)
    # then the PromQL query is kept with its label and the other is named in a note
    assert spec.kind == "chart" and spec.promql == [("up", "up")]
    assert spec.notes and "not PromQL" in spec.notes[0]


def _spec(tmp_path: Path, outputs: list[Any] | None, **generate: Any) -> Path:
    job: dict[str, Any] = {"job_name": "prod/api", "static_configs": [{"targets": ["a:1"]}]}
    if outputs is not None:
        job["outputs"] = outputs
    (tmp_path / "scrape.yaml").write_text(yaml.safe_dump({"scrape_configs": [job]}))
    spec_dir = tmp_path / "dashboards"
    spec_dir.mkdir()
    pack = {"pack": "nodejs", "job": "prod/api", "query_language": "auto", **generate}
    (spec_dir / "packs.yaml").write_text(yaml.safe_dump({"generate": [pack]}))
    return spec_dir


@pytest.mark.parametrize(("outputs", "dashboards", "alarms"), [
    (None, ["prod-api-nodejs"], [("prod-api-up", False)]),
    (["emf"], ["prod-api-nodejs"], [("prod-api-up", False)]),
    ([{"type": "otlp"}], ["prod-api-nodejs"], [("prod-api-up", True)]),
    (["emf", {"type": "otlp"}], ["prod-api-nodejs", "prod-api-nodejs-promql"],
     [("prod-api-up", False), ("prod-api-up-promql", True)]),
])
def test_query_language_auto_follows_the_jobs_outputs(tmp_path: Path, outputs: list[Any] | None,
                                                      dashboards: list[str], alarms: list[tuple[str, bool]]) -> None:
    # given a pack with query_language auto and the job's outputs in ../scrape.yaml
    spec = load_spec(_spec(tmp_path, outputs))
    # then EMF jobs get classic metrics, OTLP jobs PromQL, jobs sending both get both (PromQL ones renamed)
    assert [d.name for d in spec.dashboards] == dashboards
    assert [(a.name, a.promql is not None) for a in spec.alarms] == alarms
    kinds = {d.name: {w.kind for w in d.widgets} - {"text"} for d in spec.dashboards}
    assert all(kind == ({"promql"} if name.endswith("promql") or outputs == [{"type": "otlp"}] else {"graph"})
               for name, kind in kinds.items())


def test_query_language_auto_names_a_job_missing_from_the_scrape_config(tmp_path: Path) -> None:
    # given an auto pack for a job the scrape config does not have
    spec_dir = _spec(tmp_path, ["emf"], job="prod/other")
    # when loaded, then the problem names the scrape config and the job
    with pytest.raises(SpecError, match=r"scrape.yaml has no job 'prod/other'"):
        load_spec(spec_dir)


def test_a_scrape_config_without_auto_is_refused(tmp_path: Path) -> None:
    # given a pack naming a scrape config but a fixed language
    spec_dir = _spec(tmp_path, ["emf"], query_language="metrics", scrape_config="../scrape.yaml")
    # when loaded, then the key is named and auto expected
    with pytest.raises(SpecError, match=r"scrape_config.*expected query_language: auto"):
        load_spec(spec_dir)


def test_query_language_auto_refuses_max_series_for_a_job_sending_otlp_only(tmp_path: Path) -> None:
    # given an auto pack with a series budget for a job whose only output is OTLP
    spec_dir = _spec(tmp_path, [{"type": "otlp"}], max_series=100)
    # when loaded, then the key is named and why (as query_language: promql refuses it)
    with pytest.raises(SpecError, match=r"generate\[0\]\.max_series: job 'prod/api' sends OTLP only .*the series "
                                        r"budget alarm watches the EMF series the budget trims; expected no max_series"):
        load_spec(spec_dir)


def test_query_language_auto_keeps_the_budget_alarm_of_a_job_sending_emf_too(tmp_path: Path) -> None:
    # given an auto pack with a series budget for a job sending EMF and OTLP
    spec = load_spec(_spec(tmp_path, ["emf", {"type": "otlp"}], max_series=100))
    # then the budget alarm (on promwatch's EMF self-metrics) is made once, beside the up alarms
    assert [a.name for a in spec.alarms] == ["prod-api-up", "prod-api-series-budget", "prod-api-up-promql"]


def test_query_language_auto_names_the_scrape_config_it_could_not_read(tmp_path: Path) -> None:
    # given an auto pack and no scrape config beside the spec directory
    spec_dir = _spec(tmp_path, ["emf"])
    (tmp_path / "scrape.yaml").unlink()
    # when loaded, then the key, the path tried and what was expected are named
    with pytest.raises(SpecError) as refused:
        load_spec(spec_dir)
    assert (f"generate[0].scrape_config: query_language auto reads the job's outputs from "
            f"{spec_dir / '../scrape.yaml'} (no scrape_config, so the default ../scrape.yaml), which cannot be "
            "read: No such file or directory; expected a scrape config there, or scrape_config: PATH") in str(refused.value)


@pytest.mark.parametrize(("pack", "where", "expected"), [
    ({"pack": "exposition", "job": "j", "exposition": "page.txt"}, "generate[0].exposition",
     "expected a saved /metrics page there"),
    ({"pack": "insights"}, "generate[0].rules",
     "(no rules, so the default ../insights.yaml), which cannot be read: No such file or directory; expected the "
     "roll-up rules file there, or rules: PATH"),
])
def test_a_file_a_pack_cannot_read_is_named_at_its_key(tmp_path: Path, pack: dict[str, Any], where: str,
                                                       expected: str) -> None:
    # given a pack whose file is missing
    (tmp_path / "packs.yaml").write_text(yaml.safe_dump({"generate": [pack]}))
    # when loaded, then the problem is at the pack's key, names the path and what was expected
    with pytest.raises(SpecError) as refused:
        load_spec(tmp_path)
    (problem,) = refused.value.problems
    assert problem.startswith(f"{tmp_path / 'packs.yaml'}: {where}: ") and expected in problem
