"""Cold start: each handler module's import (Lambda's INIT) against ``import boto3`` alone.

Every figure is the median of several fresh interpreters (``python -I``), interpreter start-up
excluded; the subjects take turns, round after round, so machine noise affects all alike.
A handler's ratio is the median of its per-round ratios to the ``import boto3`` of the same
round, so a busy stretch of the shared machine, which slows a whole round, cancels out.
Handlers are imported with the environment template.yaml gives their function and tracing
on, as deployed: the figure is their whole INIT, module-scope work included (such as the
reconcile function's CloudWatch client). The issue's goal: each handler import <= 2.5x
``import boto3``.
"""
from __future__ import annotations

import statistics
from pathlib import Path

from promwatch_tools.local.invoke import LocalFunction, probe_import
from promwatch_tools.local.stack import load_template

ROOT = Path(__file__).resolve().parents[1]
GOAL_RATIO = 2.5


def run(quick: bool = False) -> list[dict]:
    """Rows: the boto3 baseline, then one per function of template.yaml."""
    runs = 3 if quick else 11
    template = ROOT / "template.yaml"
    functions = [
        LocalFunction(lid, template=template)
        for lid, body in sorted(load_template(template)["Resources"].items())
        if body["Type"] == "AWS::Serverless::Function"
    ]
    subjects: list[LocalFunction | str] = ["boto3", *functions]
    # Rounds interleave the subjects, so a busy moment of the machine slows all of them alike.
    seconds: list[list[float]] = [[] for _ in subjects]
    modules = [0 for _ in subjects]
    for _ in range(runs):
        for index, subject in enumerate(subjects):
            probe = probe_import(subject)
            seconds[index].append(probe.seconds)
            modules[index] = len(probe.modules)
    baseline = statistics.median(seconds[0])
    rows: list[dict] = [{
        "benchmark": "coldstart", "subject": "import boto3", "median_ms": baseline * 1000,
        "modules": modules[0], "x_boto3": 1.0, "goal": "baseline",
    }]
    for index, local in enumerate(functions, start=1):
        median = statistics.median(seconds[index])
        ratio = statistics.median(s / b for s, b in zip(seconds[index], seconds[0], strict=True))
        rows.append({
            "benchmark": "coldstart",
            "subject": f"{local.spec.code_dir.relative_to(ROOT)}/{local.spec.handler.rpartition('.')[0]}.py",
            "median_ms": median * 1000,
            "modules": modules[index],
            "x_boto3": ratio,
            "goal": f"<= {GOAL_RATIO}x: {'met' if ratio <= GOAL_RATIO else 'NOT met'}",
        })
    return rows
