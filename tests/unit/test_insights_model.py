"""Performance event model: both layouts, every Type, workloads, malformed events."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from promwatch.insights import MalformedEventError, parse_event, workload_of
from promwatch.insights.model import Kubernetes, PodOwner

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "insights"


def _lines(name: str) -> list[str]:
    return [line for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


def test_agent_layout_reads_string_timestamp_and_fields() -> None:
    # Given a CloudWatch agent (Version "0") Pod event with Timestamp as a string
    line = next(line for line in _lines("v0_events.jsonl") if '"Type": "Pod"' in line)
    # When it is parsed
    event = parse_event(line)
    # Then the timestamp is an int, names and metric values are readable
    assert event.version == "0"
    assert event.timestamp_ms == 1795168803000
    assert event.text("ClusterName") == "prod-eks"
    assert event.text("PodName") == "web"
    assert event.kubernetes is not None and event.kubernetes.pod_name == "web-7d9f8c6b5-x2k4p"
    assert event.number("pod_cpu_usage_total") == 120.0
    assert event.number("pod_status") is None  # a string is not a metric value


def test_adot_layout_takes_timestamp_from_aws_block() -> None:
    # Given an ADOT (Version "1") event with no top-level Timestamp
    raw = json.loads(_lines("v1_events.jsonl")[0])
    assert "Timestamp" not in raw
    # When parsed
    event = parse_event(raw)
    # Then _aws.Timestamp is the event time and _aws is not a field
    assert event.version == "1"
    assert event.timestamp_ms == raw["_aws"]["Timestamp"]
    assert "_aws" not in event.fields


def test_every_type_of_the_fixtures_parses_including_unknown_ones() -> None:
    # Given every well-formed fixture line of both layouts
    events = [parse_event(line) for line in _lines("v0_events.jsonl") + _lines("v1_events.jsonl")]
    # Then all parse, and the set of Types covers the documented ones plus enhanced/unknown
    types = {event.type for event in events}
    assert {"Cluster", "ClusterNamespace", "ClusterService", "Node", "NodeFS", "NodeDiskIO", "NodeNet",
            "Pod", "PodNet", "Container", "ContainerFS", "ContainerGPU", "NodeGPU", "NodeEFA"} <= types


def test_booleans_are_not_metric_values() -> None:
    # given an event with a boolean field and a number field, when parsed
    event = parse_event({"Type": "Pod", "Timestamp": "1", "flag": True, "n": 3})
    # then the boolean is no metric value and the number is
    assert event.number("flag") is None
    assert event.number("n") == 3


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "Invalid JSON"),
        ('{"Timestamp": "1"}', "Type"),
        ('{"Type": "Pod"}', "no Timestamp"),
        ('{"Type": "Pod", "Timestamp": "yesterday"}', "Timestamp"),
        ('{"Type": "Pod", "Timestamp": "-5"}', "negative"),
        ('{"Type": "", "Timestamp": "1"}', "Type"),
        ('{"Type": "Pod", "Timestamp": "1", "kubernetes": {"labels": ["a"]}}', "kubernetes.labels"),
        ('{"Type": "Pod", "_aws": {}}', "_aws.Timestamp"),
        ('["Pod"]', "object"),
    ],
)
def test_malformed_events_name_the_problem(line: str, reason: str) -> None:
    # When a malformed message is parsed, Then MalformedEventError says what is wrong
    with pytest.raises(MalformedEventError) as caught:
        parse_event(line)
    assert reason in caught.value.reason


def test_every_malformed_fixture_line_is_rejected() -> None:
    # given each line of the malformed events fixture, when parsed, then it is rejected
    for line in _lines("malformed_events.jsonl"):
        with pytest.raises(MalformedEventError):
            parse_event(line)


def _kube(kind: str, name: str, **labels: str) -> Kubernetes:
    return Kubernetes(labels=labels, pod_owners=[PodOwner(owner_kind=kind, owner_name=name)])


@pytest.mark.parametrize(
    ("kube", "workload"),
    [
        (_kube("Deployment", "web"), "Deployment/web"),
        (_kube("ReplicaSet", "web-7d9f8c6b5", **{"pod-template-hash": "7d9f8c6b5"}), "Deployment/web"),
        (_kube("ReplicaSet", "api-server-6c8b9d7f4"), "Deployment/api-server"),
        (_kube("ReplicaSet", "legacy"), "ReplicaSet/legacy"),  # no hash suffix: a bare ReplicaSet
        (_kube("StatefulSet", "postgres"), "StatefulSet/postgres"),
        (_kube("Job", "report-28891234"), "CronJob/report"),
        (_kube("Job", "migrate"), "Job/migrate"),
        (Kubernetes(), None),
        (None, None),
    ],
)
def test_workload_resolution(kube: Kubernetes | None, workload: str | None) -> None:
    # given a pod's Kubernetes owner, when its workload is resolved, then it is the owning controller (or none)
    assert workload_of(kube) == workload
