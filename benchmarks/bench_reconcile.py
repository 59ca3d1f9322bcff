"""Reconcile: validating, rendering and planning a large spec (pure code, no I/O).

The subject is a spec at CloudWatch's limits: 20 dashboards of 499 widgets and 1,000 alarms
(metric, metric-math and composite). The plan is made against the state an apply leaves, so
it is the cost of the schedule's drift check before any call to CloudWatch.
"""
from __future__ import annotations

import copy
import time
import tracemalloc
from pathlib import Path
from typing import Any

from promwatch.reconcile import Current, ReconcileSettings, plan, render
from promwatch.reconcile.model import CurrentAlarm, CurrentDashboard, Spec
from promwatch.reconcile.spec import SpecFile


def _spec_document(dashboards: int, widgets: int, alarms: int) -> dict[str, Any]:
    metric = {"namespace": "prod/app", "name": "latency", "dimensions": {"route": "*"}, "stat": "p99"}
    return {
        "dashboards": [{"name": f"d{d}", "widgets": [{"title": f"w{w}", "metrics": [metric]} for w in range(widgets)]}
                       for d in range(dashboards)],
        "alarms": [
            *({"name": f"a{i}", "namespace": "prod/app", "metric": "up", "dimensions": {"instance": f"i{i}"},
               "stat": "Minimum", "comparison": "<", "threshold": 1} for i in range(alarms - alarms // 10)),
            *({"name": f"c{i}", "rule": f"ALARM(a{i}) OR ALARM(a{i + 1})"} for i in range(alarms // 10)),
        ],
    }


def _timed(function: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def run(quick: bool = False) -> list[dict]:
    """Rows: seconds to validate, render and plan, and peak memory, for one large spec."""
    dashboards, alarms = (4, 200) if quick else (20, 1000)
    document = _spec_document(dashboards, 499, alarms)
    settings = ReconcileSettings(spec_dir=Path("."))
    tracemalloc.start()
    validate_s, spec_file = _timed(lambda: SpecFile.model_validate(document))
    spec = Spec(dashboards=tuple(spec_file.dashboards), alarms=tuple(spec_file.alarms))
    render_s, desired = _timed(lambda: render(spec, settings))
    current = Current(
        dashboards={d.name: CurrentDashboard(d.name, copy.deepcopy(d.body), True) for d in desired.dashboards},
        alarms={a.name: CurrentAlarm(a.name, a.type, dict(a.request), True) for a in desired.alarms},
    )
    plan_s, result = _timed(lambda: plan(desired, current))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if result.pending:
        raise RuntimeError(f"a plan against the applied state must be empty; got {len(result.pending)} changes")
    widgets = dashboards * 499
    return [{
        "benchmark": "reconcile: validate + render + plan (no I/O)",
        "subject": f"{dashboards} dashboards x 499 widgets, {alarms} alarms",
        "validate_s": validate_s,
        "render_s": render_s,
        "plan_s": plan_s,
        "widgets_per_s": widgets / (validate_s + render_s + plan_s),
        "peak_mb": peak / 2**20,
    }]
