"""``promwatch backfill insights`` in-process against moto: progress, checkpoint, resume."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from promwatch.insights import (
    InsightsRuntime,
    InsightsSettings,
    compile_rules,
    parse_event,
    parse_rules,
    rollup_documents,
)
from promwatch.sinks import FileSink
from promwatch_tools.cli import main
from promwatch_tools.commands.backfill_checkpoint import BackfillKey
from promwatch_tools.insights_sample import sample_cluster_events

from tests.support.clock import recent_hour_ms

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "cli-eks"
LOG_GROUP = f"/aws/containerinsights/{CLUSTER}/performance"


@pytest.fixture
def setup(aws: str, tmp_path: Path) -> dict[str, Any]:
    """20 minutes of events in moto's performance log group, ending at a recent full hour
    (the command's clock is the wall clock, which is past that end whatever its minute), and
    minute-period rules."""
    config = yaml.safe_load((ROOT / "config" / "insights.yaml").read_text())
    config["rules"] = [rule for rule in config["rules"] if not rule.get("period")]
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(config))
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName="node")
    end_ms = recent_hour_ms()
    events = sample_cluster_events(CLUSTER, end_ms - 1_200_000, 20, seed=4)
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName="node", logEvents=[
        {"timestamp": int(e.get("Timestamp") or e["_aws"]["Timestamp"]), "message": json.dumps(e)} for e in events])
    iso = lambda ms: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))  # noqa: E731
    expected = rollup_documents((parse_event(e) for e in events), compile_rules(parse_rules(rules.read_text())))
    return {"rules": rules, "start": iso(end_ms - 1_200_000), "end": iso(end_ms), "end_ms": end_ms, "logs": logs,
            "expected": sorted(json.dumps(d, separators=(",", ":"), ensure_ascii=False) for d in expected)}


def _args(setup: dict[str, Any], out: Path, checkpoint: Path) -> list[str]:
    return ["backfill", "insights", "--cluster", CLUSTER, "--start", setup["start"], "--end", setup["end"],
            "--rules", str(setup["rules"]), "--chunk-seconds", "300", "--output", f"file:{out}",
            "--checkpoint", str(checkpoint)]


def _data(out: Path) -> list[str]:
    return sorted(line for line in out.read_text().splitlines() if '"RollupRule"' in line)


def test_backfill_command_runs_to_completion_with_progress(setup: dict[str, Any], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out, checkpoint = tmp_path / "emf.jsonl", tmp_path / "checkpoint.json"
    # When the command runs in-process
    assert main(_args(setup, out, checkpoint)) == 0
    # Then it reported progress chunk by chunk and wrote every roll-up exactly once
    err = capsys.readouterr().err
    assert "4/4 chunks" in err and "1/4 chunks" in err
    assert _data(out) == setup["expected"]
    # and running it again is refused instead of counting twice
    assert main(_args(setup, out, checkpoint)) == 1
    assert "already complete" in capsys.readouterr().err


def test_backfill_command_resumes_from_the_checkpoint(setup: dict[str, Any], tmp_path: Path) -> None:
    out, checkpoint = tmp_path / "emf.jsonl", tmp_path / "checkpoint.json"
    # Given an earlier run that wrote one chunk and kept its continuation in the checkpoint
    function = InsightsRuntime(InsightsSettings(rules=str(setup["rules"]), backfill_chunk_seconds=300),
                               sink=FileSink(out), logs=setup["logs"], clock=lambda: setup["end_ms"] / 1000 + 60)
    request = {"cluster": CLUSTER, "start": setup["start"], "end": setup["end"], "max_chunks": 1}
    first = function.handle({"backfill": request})["backfill"]
    key = BackfillKey.insights(CLUSTER, None, setup["end_ms"] - 1_200_000, setup["end_ms"])
    checkpoint.write_text(json.dumps({key.text(): first["continuation"]}))
    # When the command runs with that checkpoint
    assert main(_args(setup, out, checkpoint)) == 0
    # Then the finished chunk is not written again: the output holds every roll-up once
    assert _data(out) == setup["expected"]
