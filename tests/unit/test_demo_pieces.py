"""The demo's pure pieces: the events it invokes with, its scrape config, its traffic, its summary."""
from __future__ import annotations

import base64
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import yaml
from promwatch.scrape import parse_config
from promwatch_tools.local.demo import (
    find_project_root,
    kinesis_event,
    scheduled_event,
    scrape_config,
)
from promwatch_tools.local.extract import ExtractedDatum
from promwatch_tools.local.insightsfeed import performance_log_events
from promwatch_tools.local.report import DemoReport, route_latencies, summary_lines
from promwatch_tools.local.sampleapp import TrafficPlanner

ROOT = Path(__file__).resolve().parents[2]


def test_scheduled_event_is_what_eventbridge_sends() -> None:
    # given the clock
    event = scheduled_event(datetime(2026, 11, 24, 15, 0, tzinfo=UTC), region="us-east-1",
                            account_id="123456789012", rule="r")
    # then the event has EventBridge's scheduled-event shape
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-11-24T15:00:00Z" and event["detail"] == {}
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/r"]


def test_kinesis_event_carries_each_record_base64() -> None:
    # given a record as GetRecords returns it (with the shard it came from)
    record = {"PartitionKey": "p", "SequenceNumber": "42", "Data": b"\x1f\x8bdata", "ShardId": "shard-0",
              "ApproximateArrivalTimestamp": datetime(2026, 1, 1, tzinfo=UTC)}
    # when wrapped as an event source mapping would
    (wrapped,) = kinesis_event([record], stream_arn="arn:s", region="us-east-1")["Records"]
    # then the data is base64 and the ids name shard and sequence
    assert base64.b64decode(wrapped["kinesis"]["data"]) == b"\x1f\x8bdata"
    assert wrapped["eventID"] == "shard-0:42" and wrapped["eventSourceARN"] == "arn:s"
    assert wrapped["eventSource"] == "aws:kinesis"


def test_scrape_config_is_valid_and_names_the_jobs() -> None:
    # given the two targets
    config = scrape_config("127.0.0.1:3000", "127.0.0.1:9100", interval_s=2.4)
    # when validated by the scrape package
    parsed = parse_config(yaml.safe_dump(config))
    # then the task-service is job prod/task-service and node_exporter keeps a few families
    assert [job.job_name for job in parsed.scrape_configs] == ["prod/task-service", "node"]
    assert parsed.scrape_configs[1].metric_relabel_configs[0].action == "keep"
    assert config["global"]["scrape_interval"] == "2s"
    # and without node_exporter there is one job
    assert len(scrape_config("127.0.0.1:3000", None, interval_s=5)["scrape_configs"]) == 1


def test_scrape_config_keeps_the_project_jobs_pointed_at_the_running_apps() -> None:
    # given the project's config/scrape.yaml
    project = yaml.safe_load((ROOT / "config" / "scrape.yaml").read_text())
    # when the demo config is made from it, without a node_exporter
    config = scrape_config("127.0.0.1:5555", None, interval_s=3, project=project)
    (job,) = parse_config(yaml.safe_dump(config)).scrape_configs
    original = next(j for j in project["scrape_configs"] if j["job_name"] == "prod/task-service")
    # then only the task-service job is left, aimed at the app, with its own emf section
    assert job.job_name == "prod/task-service"
    assert [c.targets for c in job.static_configs] == [["127.0.0.1:5555"]]
    assert config["scrape_configs"][0]["emf"] == original["emf"]
    assert config["global"]["scrape_interval"] == "3s"


def test_log_events_are_chronological_and_keep_events_without_timestamps() -> None:
    # given events out of order, one without a Timestamp member
    events = [{"Timestamp": "2000"}, {"Type": "x"}, {"Timestamp": "1000"}]
    # when turned into log events
    out = performance_log_events(events, start_ms=500)
    # then they are sorted, and the one without a timestamp takes its predecessor's
    assert [e["timestamp"] for e in out] == [1000, 2000, 2000]
    assert len(out) == 3


def test_traffic_planner_tracks_ids_across_calls() -> None:
    # given a planner over an app holding tasks 1..3
    planner = TrafficPlanner(random.Random(3))
    # when it plans many requests in several calls
    plan = planner.plan(200) + planner.plan(200)
    # then reads and updates target live ids only, except the deliberate misses (>= 1000)
    live = {1, 2, 3}
    next_id = 4
    for request in plan:
        if request.method == "POST":
            live.add(next_id)
            next_id += 1
        elif request.method == "DELETE":
            live.remove(int(request.path.rsplit("/", 1)[1]))
        elif request.route == "/tasks/:id":
            task = int(request.path.rsplit("/", 1)[1])
            assert task in live or task >= 1000
    assert {r.route for r in plan} == {"/tasks", "/tasks/:id"}
    assert {r.method for r in plan} == {"GET", "POST", "PUT", "DELETE"}


def test_summary_compares_requests_made_with_requests_counted() -> None:
    # given latency samples of one route, what was made and what CloudWatch counted
    datum = ExtractedDatum("prod/task-service", "http_request_duration_seconds",
                           (("job", "j"), ("method", "GET"), ("route", "/tasks"), ("code", "200")),
                           0, "Seconds", 60, (0.01, 0.1), (9.0, 1.0), 10.0, 0.2, 0.005, 0.1, True)
    made = Counter({("GET", "/tasks", "200"): 10, ("POST", "/tasks", "201"): 2})
    counted = {("GET", "/tasks", "200"): 10.0, ("POST", "/tasks", "201"): 1.0}
    # when summarised
    rows = route_latencies([datum], made, counted, namespace="prod/task-service")
    report = DemoReport(started=0.0, namespaces={"prod/task-service": 3}, rejected_events=1,
                        rejected_reasons=["metric 'x': no root member holds its value"])
    lines = summary_lines(report, rows)
    # then percentiles come from the samples and a shortfall is called out
    assert (rows[0].p50, rows[0].p99) == (0.01, 0.1)
    assert rows[1].p50 is None
    assert "prod/task-service (3 metrics)" in lines[0]
    assert "EMF events rejected: 1" in lines[1] and "no root member" in lines[2]
    assert next(line for line in lines if "total:" in line).endswith("MISMATCH (-1)")


def test_project_root_is_found_above_the_start_or_in_the_source_tree(tmp_path: Path) -> None:
    # given a project directory and a directory below it
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    below = tmp_path / "a" / "b"
    below.mkdir(parents=True)
    # then the search walks up to the project; from elsewhere it falls back to this source tree
    assert find_project_root(below) == tmp_path
    assert find_project_root(Path("/")) == ROOT
