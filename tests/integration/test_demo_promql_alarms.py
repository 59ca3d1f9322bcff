"""The demo applies a spec with PromQL alarms to the emulator without leaving moto's empty copies."""
from __future__ import annotations

from pathlib import Path

import boto3
import yaml
from promwatch_tools.local.demo_results import apply_dashboards_spec


def test_promql_alarms_are_withheld_and_the_spec_converges_otherwise(aws: str, tmp_path: Path) -> None:
    # given a spec whose nodejs pack is PromQL, with its up alarm (moto drops EvaluationCriteria)
    spec_dir = tmp_path / "dashboards"
    spec_dir.mkdir()
    (spec_dir / "otel.yaml").write_text(yaml.safe_dump(
        {"generate": [{"pack": "nodejs", "job": "prod/api", "query_language": "promql"}]}))
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    # when the demo applies it to the emulator
    line, withheld = apply_dashboards_spec(spec_dir, region="us-east-1", client=cloudwatch,
                                           ssm_client=boto3.client("ssm", region_name="us-east-1"))
    # then the dashboard is there, the PromQL alarm is named as withheld, and no empty alarm was stored
    assert withheld == ["promwatch-dev-prod-api-up"]
    assert "1 created or updated, 0 failed, 1 PromQL alarms withheld" in line, line
    assert "a second plan finds 1 changes (the withheld alarms)" in line, line
    assert cloudwatch.describe_alarms()["MetricAlarms"] == []
    assert [e["DashboardName"] for e in cloudwatch.list_dashboards()["DashboardEntries"]] == [
        "promwatch-dev-us-east-1-prod-api-nodejs"]
