"""Self-metrics are ordinary, valid EMF in the Promwatch namespace."""
from __future__ import annotations

from promwatch.emf import validate, write_group
from promwatch.selfmetrics import SELF_NAMESPACE, self_metrics


def test_self_metrics_keep_zero_readings_and_validate() -> None:
    # given counts including a zero
    group = self_metrics({"DroppedSamples": 3, "FailedTargets": 0},
                         dimensions={"Component": "scrape", "job": "prod/task-service"},
                         timestamp_ms=1_700_000_000_000)
    # when written
    (doc,) = write_group(group)
    # then both metrics are present, as counts, in the Promwatch namespace
    validate(doc)
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == SELF_NAMESPACE
    assert directive["Dimensions"] == [["Component", "job"]]
    assert doc["DroppedSamples"] == 3 and doc["FailedTargets"] == 0
    assert {m["Unit"] for m in directive["Metrics"]} == {"Count"}
