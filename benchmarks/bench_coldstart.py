"""Cold start: each handler module's import (Lambda's INIT) against ``import boto3`` alone.

Every figure is the median of several fresh interpreters (``python -I``), interpreter start-up
excluded, run one after the other in the same session so machine noise affects all alike.
Handlers are imported with the environment template.yaml gives their function and tracing
on, as deployed. The issue's goal: each handler import <= 2.5x ``import boto3``.
"""
from __future__ import annotations

import statistics
from pathlib import Path

from promwatch.local.invoke import LocalFunction, probe_import
from promwatch.local.stack import load_template

ROOT = Path(__file__).resolve().parents[1]
GOAL_RATIO = 2.5


def _median_import(target: LocalFunction | str, runs: int) -> tuple[float, int]:
    probes = [probe_import(target) for _ in range(runs)]
    return statistics.median(p.seconds for p in probes), len(probes[-1].modules)


def run(quick: bool = False) -> list[dict]:
    """Rows: the boto3 baseline, then one per function of template.yaml."""
    runs = 3 if quick else 9
    template = ROOT / "template.yaml"
    baseline_s, baseline_modules = _median_import("boto3", runs)
    rows: list[dict] = [{
        "benchmark": "coldstart", "subject": "import boto3", "median_ms": baseline_s * 1000,
        "modules": baseline_modules, "x_boto3": 1.0, "goal": "baseline",
    }]
    functions = sorted(
        lid for lid, body in load_template(template)["Resources"].items()
        if body["Type"] == "AWS::Serverless::Function"
    )
    for function in functions:
        local = LocalFunction(function, template=template)
        seconds, modules = _median_import(local, runs)
        ratio = seconds / baseline_s
        rows.append({
            "benchmark": "coldstart",
            "subject": f"{local.spec.code_dir.relative_to(ROOT)}/{local.spec.handler.rpartition('.')[0]}.py",
            "median_ms": seconds * 1000,
            "modules": modules,
            "x_boto3": ratio,
            "goal": f"<= {GOAL_RATIO}x: {'met' if ratio <= GOAL_RATIO else 'NOT met'}",
        })
    return rows
