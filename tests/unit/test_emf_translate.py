"""Translation rules besides counters and histograms: types, dimensions, limits, timestamps, drops."""
from __future__ import annotations

from typing import Any

import pytest
from promwatch.emf import EmfSettings, TargetInfo, Translation, translate, validate
from promwatch.exposition.model import Exemplar, Family, Sample
from promwatch.limits import EMF_MAX_EVENT_BYTES

T0 = 1_700_000_000_000
TARGET = TargetInfo("prod/task-service", "10.0.0.1:3000")


def run(families: list[Family], settings: EmfSettings | None = None, target: TargetInfo = TARGET) -> Translation:
    result = translate(families, target=target, previous=None, settings=settings or EmfSettings(), now_ms=T0)
    for document in result.documents:
        validate(document)
    return result


def gauge(name: str, samples: list[tuple[dict[str, str], float]], unit: str = "") -> Family:
    return Family(name, "gauge", "", unit, [Sample(name, labels, value) for labels, value in samples])


def directive(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["_aws"]["CloudWatchMetrics"][0]  # type: ignore[no-any-return]


def test_gauges_sharing_a_label_set_share_one_document() -> None:
    # given two gauges and an untyped metric with the same labels, and one with other labels
    families = [
        gauge("heap_used_bytes", [({"space": "old"}, 10.0), ({"space": "new"}, 1.0)]),
        gauge("heap_size_bytes", [({"space": "old"}, 20.0)]),
        Family("mystery", "unknown", "", "", [Sample("mystery", {"space": "old"}, 3.0)]),
    ]
    # when translated
    docs = run(families).documents
    # then the three "old" metrics share a document and "new" has its own
    by_space = {d["space"]: d for d in docs}
    assert set(by_space) == {"old", "new"} and len(docs) == 2
    assert [m["Name"] for m in directive(by_space["old"])["Metrics"]] == ["heap_used_bytes", "heap_size_bytes", "mystery"]
    assert by_space["old"]["mystery"] == 3 and directive(by_space["old"])["Metrics"][0]["Unit"] == "Bytes"


def test_target_labels_fill_in_and_series_labels_win() -> None:
    # given target labels and a series that already has its own "team"
    target = TARGET._replace(labels={"team": "platform", "az": "a"})
    [doc] = run([gauge("g", [({"team": "checkout", "empty": ""}, 1.0)])], target=target).documents
    # then the series keeps its team, gains az, and the empty label is no label
    assert (doc["team"], doc["az"]) == ("checkout", "a") and "empty" not in doc
    assert directive(doc)["Dimensions"] == [["job", "instance", "az", "team"]]


def test_info_is_a_gauge_with_its_labels_as_dimensions() -> None:
    # given an OpenMetrics info family
    family = Family("build", "info", "", "", [Sample("build_info", {"version": "1.2.3", "commit": "abc"}, 1.0)])
    [doc] = run([family]).documents
    # then build_info = 1 is published by version and commit
    assert doc["build_info"] == 1
    assert directive(doc)["Dimensions"] == [["job", "instance", "commit", "version"]]


def test_stateset_is_one_gauge_per_state_with_a_state_dimension() -> None:
    # given an OpenMetrics stateset
    family = Family("feature", "stateset", "", "", [
        Sample("feature", {"feature": "a"}, 1.0), Sample("feature", {"feature": "b"}, 0.0),
    ])
    docs = run([family]).documents
    # then each state is a 0/1 gauge named as the family, by "state"
    assert {d["state"]: d["feature"] for d in docs} == {"a": 1, "b": 0}
    assert all(directive(d)["Dimensions"] == [["job", "instance", "state"]] for d in docs)


def test_label_named_like_a_metric_in_the_same_document_is_renamed() -> None:
    # given a gauge "color" with a label "color"
    [doc] = run([gauge("color", [({"color": "red"}, 1.0)])]).documents
    # then the label becomes color_label (one JSON member cannot hold both)
    assert doc["color"] == 1 and doc["color_label"] == "red"
    assert directive(doc)["Dimensions"] == [["job", "instance", "color_label"]]


def test_exemplar_trace_ids_are_log_only_properties() -> None:
    # given a counter sample with an exemplar, scraped twice
    def page(value: float) -> list[Family]:
        exemplar = Exemplar({"trace_id": "4bf92f3577b34da6"}, 0.2, 1_700_000_000.5)
        return [Family("req", "counter", "", "", [Sample("req_total", {}, value, None, exemplar)])]

    first = translate(page(1.0), target=TARGET, previous=None, settings=EmfSettings(), now_ms=T0)
    [doc] = translate(page(2.0), target=TARGET, previous=first.baselines, settings=EmfSettings(), now_ms=T0 + 1).documents
    validate(doc)
    # then the trace id is in the event, not a dimension
    assert doc["exemplars"] == [
        {"metric": "req_total", "trace_id": "4bf92f3577b34da6", "value": 0.2, "timestamp": 1_700_000_000.5}
    ]
    assert directive(doc)["Dimensions"] == [["job", "instance"]]


def test_metric_declarations_select_metrics_and_dimension_sets() -> None:
    # given awsemfexporter-style declarations
    settings = EmfSettings.model_validate({"metric_declarations": [{
        "dimensions": [["job", "route"], ["job"], ["job", "missing"]],
        "metric_name_selectors": ["^http_"],
        "label_matchers": [{"label_names": ["status"], "regex": "^5"}],
    }]})
    families = [
        gauge("http_inflight", [({"route": "/a", "status": "500"}, 1.0), ({"route": "/a", "status": "200"}, 2.0)]),
        gauge("other", [({"route": "/a", "status": "500"}, 3.0)]),
    ]
    result = run(families, settings)
    # then only the selected series is published, with the declared sets it has all keys for
    [doc] = result.documents
    assert doc["http_inflight"] == 1 and "other" not in doc
    assert directive(doc)["Dimensions"] == [["job", "route"], ["job"]]
    # and the others are counted as not declared
    assert result.drop_counts() == {"not_declared": 2}


def test_dimension_rollup_adds_single_and_zero_sets() -> None:
    # given ZeroAndSingleDimensionRollup
    settings = EmfSettings(dimension_rollup_option="ZeroAndSingleDimensionRollup", log_only_labels=["instance"])
    [doc] = run([gauge("g", [({"route": "/a"}, 1.0)])], settings).documents
    # then the full set, the empty set and one set per dimension are published
    assert directive(doc)["Dimensions"] == [["job", "route"], [], ["job"], ["route"]]


def test_rollup_base_dimensions_stay_in_every_rolled_up_set_as_awsemf_keeps_otellib() -> None:
    # given the awsemfexporter's shape: job and instance log-only, an OTelLib label on every
    # series, ZeroAndSingleDimensionRollup keeping OTelLib
    settings = EmfSettings(dimension_rollup_option="ZeroAndSingleDimensionRollup", log_only_labels=["job", "instance"],
                           rollup_base_dimensions=["OTelLib"])
    lib = {"OTelLib": "prometheusreceiver"}
    families = [gauge("g", [({**lib, "route": "/a", "code": "200"}, 1.0)]), gauge("one", [({**lib, "a": "x"}, 1.0)]),
                gauge("bare", [(lib, 1.0)])]
    # when translated
    dims = {next(iter(directive(d)["Metrics"]))["Name"]: directive(d)["Dimensions"] for d in run(families, settings).documents}
    # then the full set, OTelLib alone, and OTelLib with each other label are published
    assert dims["g"] == [["OTelLib", "code", "route"], ["OTelLib"], ["OTelLib", "code"], ["OTelLib", "route"]]
    # and a series with one other label, or none, gets each set once
    assert dims["one"] == [["OTelLib", "a"], ["OTelLib"]]
    assert dims["bare"] == [["OTelLib"]]


def test_rollup_with_declarations_leaves_out_labels_that_cannot_be_dimensions() -> None:
    # given declarations, a single-dimension roll-up and a series with a non-ASCII label name
    # (found by fuzzing: the roll-up made it a dimension set, and the document invalid EMF)
    settings = EmfSettings.model_validate({
        "dimension_rollup_option": "SingleDimensionRollup",
        "metric_declarations": [{"dimensions": [["job", "code"]], "metric_name_selectors": ["^g$"]}],
    })
    [doc] = run([gauge("g", [({"code": "200", "hé.route": "/a"}, 1.0)])], settings).documents
    # then the declared set and the roll-up of every other label are published, that label is not
    assert directive(doc)["Dimensions"] == [["job", "code"], ["job"], ["instance"], ["code"]]


def test_log_only_labels_stay_in_the_event_but_not_in_dimensions() -> None:
    # given a high-cardinality label marked log-only (regex allowed)
    settings = EmfSettings(log_only_labels=["pod_.*"])
    [doc] = run([gauge("g", [({"pod_uid": "1234", "route": "/a"}, 1.0)])], settings).documents
    # then pod_uid is a property
    assert doc["pod_uid"] == "1234"
    assert directive(doc)["Dimensions"] == [["job", "instance", "route"]]


def test_more_than_30_labels_keep_30_dimensions_and_the_rest_as_properties() -> None:
    # given a series with 40 labels (+ job and instance)
    labels = {f"l{i:02d}": str(i) for i in range(40)}
    [doc] = run([gauge("wide", [(labels, 1.0)])]).documents
    # then job, instance and the first 28 labels by name are dimensions, all 42 are in the event
    [dimensions] = directive(doc)["Dimensions"]
    assert dimensions == ["job", "instance", *[f"l{i:02d}" for i in range(28)]]
    assert all(doc[k] == v for k, v in labels.items())


def test_non_ascii_dimension_values_are_escaped() -> None:
    # given a label value with non-ASCII characters
    [doc] = run([gauge("g", [({"city": "Zürich"}, 1.0)])]).documents
    # then it is published escaped
    assert doc["city"] == "Z\\xfcrich"


def test_blank_and_overlong_dimension_values_drop_the_series() -> None:
    # given a blank value and a value over 1024 characters, next to a good series
    families = [gauge("g", [({"a": "   "}, 1.0), ({"a": "x" * 1025}, 2.0), ({"a": "ok"}, 3.0)])]
    result = run(families)
    # then those two series are dropped and counted, the good one goes through
    assert result.drop_counts() == {"invalid_dimension": 2}
    assert [d["g"] for d in result.documents] == [3]


def test_nan_and_inf_gauges_are_dropped_and_counted() -> None:
    # given a gauge with a NaN, an infinite and a finite sample, when translated
    result = run([gauge("g", [({"a": "1"}, float("nan")), ({"a": "2"}, float("inf")), ({"a": "3"}, 1.5)])])
    # then the two non-finite samples are dropped and counted, the finite one written
    assert result.drop_counts() == {"non_finite": 2} and [d["g"] for d in result.documents] == [1.5]


def test_honored_timestamps_are_used_and_out_of_range_ones_dropped() -> None:
    # given honor_timestamps and samples 1 minute old, 15 days old, and 3 hours ahead
    target = TARGET._replace(honor_timestamps=True)
    family = Family("g", "gauge", "", "", [
        Sample("g", {"a": "recent"}, 1.0, (T0 - 60_000) / 1000),
        Sample("g", {"a": "old"}, 2.0, (T0 - 15 * 86_400_000) / 1000),
        Sample("g", {"a": "future"}, 3.0, (T0 + 3 * 3_600_000) / 1000),
        Sample("g", {"a": "none"}, 4.0),
    ])
    result = run([family], target=target)
    # then the recent one keeps its timestamp, the unstamped one gets the scrape time
    assert {d["a"]: d["_aws"]["Timestamp"] for d in result.documents} == {"recent": T0 - 60_000, "none": T0}
    assert result.drop_counts() == {"timestamp_too_old": 1, "timestamp_in_future": 1}
    # and without honor_timestamps every sample is stamped with the scrape time
    assert {d["_aws"]["Timestamp"] for d in run([family]).documents} == {T0}


def test_units_and_storage_resolution_from_settings() -> None:
    # given settings giving a unit to queue_* and high resolution to queue_depth
    settings = EmfSettings(units={"queue_.*": "Count"}, storage_resolution={"^queue_depth$": 1})
    # when a queue gauge and another gauge are translated
    [doc] = run([gauge("queue_depth", [({}, 5.0)]), gauge("temp_celsius", [({}, 20.0)])], settings).documents
    # then only the queue gauge carries the unit and the resolution
    assert directive(doc)["Metrics"] == [
        {"Name": "queue_depth", "Unit": "Count", "StorageResolution": 1}, {"Name": "temp_celsius"}
    ]


def test_namespace_defaults_to_the_job_with_invalid_characters_replaced() -> None:
    # given a job holding '=', and no namespace set, when translated
    [doc] = run([gauge("g", [({}, 1.0)])], target=TARGET._replace(job="team=a/app")).documents
    # then the namespace is the job with the character replaced
    assert directive(doc)["Namespace"] == "team_a/app"
    # and a namespace set in the settings is used as it is
    [doc] = run([gauge("g", [({}, 1.0)])], EmfSettings(namespace="Custom/NS")).documents
    assert directive(doc)["Namespace"] == "Custom/NS"


def test_series_too_large_for_an_event_is_dropped_and_counted() -> None:
    # given a log-only label value bigger than an EMF event
    settings = EmfSettings(log_only_labels=["blob"])
    result = run([gauge("g", [({"blob": "x" * EMF_MAX_EVENT_BYTES}, 1.0), ({"blob": "small"}, 2.0)])], settings)
    # then that series is dropped and counted; the other goes through
    assert result.drop_counts() == {"too_large": 1} and [d["g"] for d in result.documents] == [2]


def test_target_info_default_labels_cannot_be_changed_through_one_instance() -> None:
    # Given two targets made without labels
    first, second = TargetInfo("job", "a:1"), TargetInfo("job", "b:1")
    # When code tries to add a label to the first's default labels
    # Then it is refused (the default is one object for every instance: it must not change)
    with pytest.raises(TypeError):
        first.labels["team"] = "x"  # type: ignore[index]
    assert dict(second.labels) == {}
