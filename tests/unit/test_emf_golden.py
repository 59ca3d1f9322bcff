"""Golden EMF: two scrapes of a page -> the exact documents of the second translation.

Inputs and expected outputs live in tests/golden/emf/: ``<page>.1.<ext>`` and
``<page>.2.<ext>`` are the two scrapes (``.prom`` text format, ``.om`` OpenMetrics);
``<case>.jsonl`` holds the documents (one compact JSON per line, as the sinks write them),
then a ``{"dropped": {...}}`` line with the drop counts.

``pytest --update-golden`` rewrites them after an intended change; review the diff before
committing.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from promwatch.emf import EmfSettings, ScrapeStats, TargetInfo, serialize, translate, validate
from promwatch.exposition import parse

from tests.support.golden import GOLDEN_DIR, Golden

GOLDEN = GOLDEN_DIR / "emf"
T0 = 1_700_000_000_000
TARGET = TargetInfo("prod/task-service", "10.0.0.12:3000", {"job": "prod/task-service", "instance": "10.0.0.12:3000"})

CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    # The seed's Express task-service, default settings.
    "task_service": ("task_service", "prom", {}),
    # The same page with awsemfexporter-style declarations, rollup and log-only labels.
    "task_service_declared": ("task_service", "prom", {
        "namespace": "TaskService",
        "metric_declarations": [
            {"dimensions": [["job", "path", "method"], ["job"]], "metric_name_selectors": ["^http_"]},
            {"dimensions": [["job", "space"]], "metric_name_selectors": ["^nodejs_heap_space_size_used_bytes$"],
             "label_matchers": [{"label_names": ["space"], "regex": "^(old|new)$"}]},
        ],
        "dimension_rollup_option": "SingleDimensionRollup",
        "log_only_labels": ["status_code"],
        "storage_resolution": {"^http_request_duration_seconds$": 1},
    }),
    # Every OpenMetrics type, with _created and exemplars.
    "openmetrics_types": ("openmetrics_types", "om", {}),
}


def _translate(case: str) -> list[str]:
    page, ext, raw_settings = CASES[case]
    settings = EmfSettings.model_validate(raw_settings)
    fmt = "openmetrics" if ext == "om" else "prometheus"
    first = parse((GOLDEN / f"{page}.1.{ext}").read_text(), fmt)
    second = parse((GOLDEN / f"{page}.2.{ext}").read_text(), fmt)
    previous = translate(first, target=TARGET, previous=None, settings=settings, now_ms=T0).baselines
    stats = ScrapeStats(True, 0.042, sum(len(f.samples) for f in second), sum(len(f.samples) for f in second))
    result = translate(second, target=TARGET, previous=previous, settings=settings, now_ms=T0 + 60_000, scrape=stats)
    for document in result.documents:
        validate(document)
    lines = [serialize(d) for d in result.documents]
    lines.append(json.dumps({"dropped": dict(sorted(result.drop_counts().items()))}))
    return lines


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str, golden: Golden) -> None:
    # given two scrapes of a page, when translated, then the documents are exactly the golden ones
    golden.check(f"emf/{case}.jsonl", "\n".join(_translate(case)) + "\n")
