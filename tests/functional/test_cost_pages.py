"""``promwatch cost --pages DIR``: saved pages through the real scrape cycle (in-process CLI)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from promwatch_tools.cli import main

ROOT = Path(__file__).resolve().parents[2]
NODE_PAGE = ROOT / "benchmarks" / "data" / "node_exporter.prom"
TASK_PAGE = ROOT / "tests" / "golden" / "emf" / "task_service.2.prom"
SELF_METRICS = 7
"""A job's Promwatch self-metrics when nothing is dropped: TargetsScraped, TargetsUp, TargetsFailed,
TargetsRefused, TargetsDroppedByRelabel, ParseErrors, SamplesScraped."""


def _cost(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    status = main(["cost", *args])
    out, err = capsys.readouterr()
    return status, (json.loads(out) if status == 0 and out.startswith("{") else out), err


def _fleet_config(tmp_path: Path, nodes: int, scheme: str = "http") -> Path:
    targets = ", ".join(f'"10.1.0.{i}:9100"' for i in range(1, nodes + 1))
    path = tmp_path / f"fleet-{nodes}-{scheme}.yaml"  # a new file each: load_config caches by source
    path.write_text(f"scrape_configs:\n  - job_name: node\n    scheme: {scheme}\n"
                    f"    static_configs: [{{targets: [{targets}]}}]\n")
    return path


def test_one_saved_page_stands_for_every_target_of_a_fleet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a node_exporter page saved as DIR/node.prom, and fleets of 1 and 3 nodes
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(NODE_PAGE, pages / "node.prom")
    one = _cost(capsys, "--config", str(_fleet_config(tmp_path, 1)), "--pages", str(pages), "--output", "json")[1]
    three = _cost(capsys, "--config", str(_fleet_config(tmp_path, 3)), "--pages", str(pages), "--output", "json")[1]
    # then every node's series are metrics of their own (instance is a dimension): three nodes
    # have three times one node's metrics, but the job's self-metrics once
    assert three["jobs"][0]["metrics"] - SELF_METRICS == 3 * (one["jobs"][0]["metrics"] - SELF_METRICS)
    # and the sidecar costs three pods' worth, the function and DynamoDB three targets' worth
    usd_one, usd_three = one["jobs"][0]["usd_per_month"], three["jobs"][0]["usd_per_month"]
    assert usd_three["adot_sidecar"] == pytest.approx(3 * usd_one["adot_sidecar"], rel=1e-3)
    assert usd_three["dynamodb"] == pytest.approx(3 * usd_one["dynamodb"], rel=0.05)
    assert usd_three["otlp"] == pytest.approx(3 * usd_one["otlp"], rel=0.05)


def test_a_target_page_wins_over_the_job_page_and_https_targets_are_served(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an https fleet of 2 whose first node has its own (small) page, the other the job's
    pages = tmp_path / "pages"
    (pages / "node").mkdir(parents=True)
    shutil.copy(NODE_PAGE, pages / "node.prom")
    (pages / "node" / "10.1.0.1:9100.prom").write_text("# TYPE only_gauge gauge\nonly_gauge 1\n")
    status, report, err = _cost(capsys, "--config", str(_fleet_config(tmp_path, 2, "https")), "--pages", str(pages),
                                "--output", "table")
    # then both are scraped (no target down), the small page giving few metrics
    assert status == 0, err
    assert "did not answer" not in report
    status, one_small, _ = _cost(capsys, "--config", str(_fleet_config(tmp_path, 1, "https")), "--pages", str(pages),
                                 "--output", "json")
    # only_gauge, up and the three scrape metrics, plus the self-metrics
    assert one_small["jobs"][0]["metrics"] == 5 + SELF_METRICS


def test_a_missing_page_fails_naming_the_files_tried(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a pages directory with no page for the fleet's job
    pages = tmp_path / "pages"
    pages.mkdir()
    # when cost is run with it
    status, _, err = _cost(capsys, "--config", str(_fleet_config(tmp_path, 1)), "--pages", str(pages))
    # then it fails naming the job, the target and every file it tried
    assert status == 1
    assert "no saved page for job 'node' target '10.1.0.1:9100'; expected one of" in err
    assert str(pages / "node" / "10.1.0.1:9100.prom") in err and str(pages / "node.prom") in err


def test_prices_file_overrides_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given the demo's task-service page and a prices file making metrics free
    pages = tmp_path / "pages"
    (pages / "prod").mkdir(parents=True)
    shutil.copy(TASK_PAGE, pages / "prod" / "task-service.prom")
    shutil.copy(NODE_PAGE, pages / "node.prom")
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({f"metric_month_tier{i}": 0 for i in range(1, 5)}))
    config = str(ROOT / "config" / "scrape.yaml")
    listed = _cost(capsys, "--config", config, "--pages", str(pages), "--output", "json")[1]
    free = _cost(capsys, "--config", config, "--pages", str(pages), "--output", "json", "--prices", str(prices))[1]
    # then only the logs are left of the EMF path, and nothing else changes
    for paid, unpaid in zip(listed["jobs"], free["jobs"], strict=True):
        assert unpaid["usd_per_month"]["emf"] == pytest.approx(
            paid["usd_per_month"]["emf"] - 0.30 * paid["metrics"], abs=1e-3)
        assert unpaid["usd_per_month"]["otlp"] == pytest.approx(paid["usd_per_month"]["otlp"], rel=0.02)
    # and a bad prices file is refused, naming it
    prices.write_text('{"metric_month": 1}')
    status, _, err = _cost(capsys, "--config", config, "--pages", str(pages), "--prices", str(prices))
    assert status == 1 and "prices.json: unknown price 'metric_month'" in err


def test_no_target_answering_exits_1_naming_the_targets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a live job whose only target refuses connections
    config = tmp_path / "down.yaml"
    config.write_text("scrape_configs:\n  - job_name: down\n    static_configs: [{targets: ['127.0.0.1:1']}]\n")
    # When its cost is estimated
    status, out, err = _cost(capsys, "--config", str(config))
    # Then the table is printed, but the exit status is 1, naming the job and its failed target
    assert status == 1 and "USD per month" in out
    assert "no target answered for job down (127.0.0.1:1:" in err
