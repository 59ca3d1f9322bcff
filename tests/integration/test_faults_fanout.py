"""Fault injection: the fan-out queue (SQS SendMessageBatch), messages delivered twice, and the
Lambda deadline reached mid-cycle.

The scheduled invocation scrapes ``max_targets_per_invocation`` targets and sends the rest to
the fan-out queue; the queue's invocations scrape them. Each test moves the counters
0 -> 30 -> 80 and checks that every target's published increases add up to 80 once the
queue's messages are handled: nothing silently skipped, nothing counted twice.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from promwatch.scrape import ScrapeRuntime

from tests.support.faultproxy import FaultProxy
from tests.support.scrapeworld import (
    COUNTER,
    SCHEDULE,
    ScrapeWorld,
    increases,
    published,
    self_metric,
    sqs_event,
)

Worlds = Callable[..., ScrapeWorld]


@pytest.fixture
def queue(aws: str) -> str:
    """The fan-out queue (made directly on moto)."""
    return str(boto3.client("sqs", endpoint_url=aws).create_queue(QueueName="promwatch-fanout")["QueueUrl"])


def batch_body(hosts: list[str], world: ScrapeWorld) -> str:
    """A fan-out message body naming these targets."""
    return json.dumps({"v": 1, "targets": [world.key(h) for h in hosts]})


def drain(aws: str, queue_url: str) -> dict[str, Any]:
    """Every message waiting in the queue, taken off it, as one SQS event."""
    sqs = boto3.client("sqs", endpoint_url=aws)
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return sqs_event(*(m["Body"] for m in messages), ids=(m["MessageId"] for m in messages))
        messages += batch
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])


def schedule_then_queue(runtime: ScrapeRuntime, aws: str, queue_url: str, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The scheduled invocation, then one queue invocation with what it sent."""
    report = runtime.handle(SCHEDULE, **kwargs)
    event = drain(aws, queue_url)
    return report, (runtime.handle(event) if event["Records"] else {"batchItemFailures": []})


def test_fanout_failing_for_good_reports_the_targets_and_the_next_cycle_covers_them(
        proxy: FaultProxy, worlds: Worlds, aws: str, queue: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    # Given three targets, one scraped by the scheduled invocation and two fanned out, all
    # scraped once (counter at 0),
    world = worlds(3)
    runtime = world.runtime(world.environment(), tmp_path, fanout_queue_url=queue, max_targets_per_invocation=1)
    schedule_then_queue(runtime, aws, queue)
    world.set(30)
    # when the next schedule's SendMessageBatch fails for good (HTTP 500, after botocore's 3 tries),
    with proxy.fault("error500", service="sqs", operation="SendMessageBatch", times=None), \
            caplog.at_level(logging.ERROR, logger="promwatch.scrape"):
        report, _ = schedule_then_queue(runtime, aws, queue)
    # then the invocation still scrapes its own target and reports the two it could not send:
    # FanoutFailedTargets (self-metric), an error log; they are not scraped this cycle,
    assert (report["targets"], report["fanned_out_targets"], report["fanout_failed_targets"]) == (1, 0, 2)
    assert proxy.count("sqs", "SendMessageBatch", fault="error500") == 3
    assert self_metric(world.delivered(), "FanoutFailedTargets") == 2
    assert any("fan-out of 2 targets failed" in r.getMessage() for r in caplog.records)
    # and their baselines are untouched, so the next cycle covers their whole interval.
    world.set(80)
    schedule_then_queue(runtime, aws, queue)
    assert increases(world.delivered()) == {host: 80 for host in world.hosts}


def test_fanout_failing_in_part_sends_the_rest_and_reports_only_the_unsent(
        proxy: FaultProxy, worlds: Worlds, aws: str, queue: str, tmp_path: Path) -> None:
    # Given 13 targets, one per invocation: 12 messages, sent as two SendMessageBatch calls (10 + 2),
    world = worlds(13)
    runtime = world.runtime(world.environment(), tmp_path, fanout_queue_url=queue, max_targets_per_invocation=1)
    schedule_then_queue(runtime, aws, queue)
    world.set(30)
    # when the second call fails for good,
    proxy.add("error503", service="sqs", operation="SendMessageBatch", first=2, times=3)
    report, handled = schedule_then_queue(runtime, aws, queue)
    # then the first ten messages went out and were scraped, and exactly the two unsent
    # targets are reported (FanoutTargets 10, FanoutFailedTargets 2),
    assert (report["fanned_out_targets"], report["fanout_messages"], report["fanout_failed_targets"]) == (10, 10, 2)
    assert handled == {"batchItemFailures": []}
    delivered = world.delivered()
    assert self_metric(delivered, "FanoutTargets") == 12 + 10 and self_metric(delivered, "FanoutFailedTargets") == 2
    # and the next cycle covers every target's interval exactly once.
    world.set(80)
    schedule_then_queue(runtime, aws, queue)
    assert increases(world.delivered()) == {host: 80 for host in world.hosts}


def test_a_message_delivered_twice_counts_nothing_twice(proxy: FaultProxy, worlds: Worlds, tmp_path: Path) -> None:
    # Given a fan-out message naming two targets, both scraped once,
    world = worlds(2)
    runtime = world.runtime(world.environment(), tmp_path)
    event = sqs_event(batch_body(world.hosts, world))
    runtime.handle(event)
    # when SQS delivers it twice (at-least-once) at 30, then once more at 80,
    world.set(30)
    assert runtime.handle(event) == {"batchItemFailures": []}
    assert runtime.handle(event) == {"batchItemFailures": []}
    world.set(80)
    runtime.handle(event)
    # then the second delivery found the baselines the first saved: it published +0, and the
    # sums are exact.
    delivered = world.delivered()
    assert sorted(v for _, v in published(delivered, COUNTER)) == [0, 0, 30, 30, 50, 50]
    assert increases(delivered) == {host: 80 for host in world.hosts}


def test_a_message_delivered_twice_at_once_is_scraped_by_one(proxy: FaultProxy, worlds: Worlds, tmp_path: Path) -> None:
    # Given a fan-out message naming two targets, both scraped once, handled by two execution
    # environments at the same moment (their claims reach DynamoDB together),
    world = worlds(2)
    runtimes = [world.runtime(world.environment(stream), tmp_path) for stream in ("first", "second")]
    event = sqs_event(batch_body(world.hosts, world))
    runtimes[0].handle(event)
    responses: list[dict[str, Any]] = []
    for value in (30, 80):
        world.set(value)
        for host in world.hosts:
            proxy.add("together", service="dynamodb", operation="PutItem", contains=f"#claim#app#{host}",
                      times=2, seconds=5.0)
        # when both handle it,
        threads = [threading.Thread(target=lambda r=r: responses.append(r.handle(event))) for r in runtimes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        proxy.clear()
    # then neither hands the message back (the busy one left each target to the other: not a
    # failure), TargetsBusy is reported once per target and round, and the sums are exact.
    assert responses == [{"batchItemFailures": []}] * 4
    delivered = world.delivered()
    assert self_metric(delivered, "TargetsBusy") == 4
    assert increases(delivered) == {host: 80 for host in world.hosts}


def test_deadline_sends_unstarted_targets_to_the_queue(proxy: FaultProxy, worlds: Worlds, aws: str, queue: str,
                                                       tmp_path: Path) -> None:
    # Given 8 slow targets (0.4 s each, on the world's clock), all scraped by the scheduled
    # invocation (one worker: they start one after the other),
    world = worlds(8, delay=0.4)
    runtime = world.runtime(world.environment(), tmp_path, fanout_queue_url=queue, max_targets_per_invocation=8,
                            max_workers=1)
    runtime.handle(SCHEDULE)
    world.set(30)
    # when the next invocation has 2 s left (its work ends at 1.5 s, no target starts after
    # 1 s: the first three start, at 0, 0.4 and 0.8 s),
    report, handled = schedule_then_queue(runtime, aws, queue, deadline=world.clock() + 2.0)
    # then the five it did not start went to the fan-out queue (TargetsSkipped, FanoutTargets)
    # and the queue's invocation scraped them,
    skipped = [t for t in report["target_reports"] if t["skipped"]]
    assert [t["instance"] for t in skipped] == world.hosts[3:]
    assert report["fanned_out_targets"] == 5
    assert all(not t["retryable"] and "fan-out queue" in t["error"] for t in skipped)
    assert handled == {"batchItemFailures": []}
    delivered = world.delivered()
    assert self_metric(delivered, "TargetsSkipped") == 5
    # and every target's increase is published exactly once.
    assert sorted(published(delivered, COUNTER)) == sorted((h, 30) for h in world.hosts)
    world.set(80)
    runtime.handle(SCHEDULE)
    assert increases(world.delivered()) == {host: 80 for host in world.hosts}


def test_deadline_hands_unstarted_targets_of_a_batch_back_to_sqs(proxy: FaultProxy, worlds: Worlds,
                                                                  tmp_path: Path) -> None:
    # Given 6 slow targets (0.6 s each, on the world's clock) in 6 fan-out messages, all
    # scraped once (one worker: one target after the other),
    world = worlds(6, delay=0.6)
    runtime = world.runtime(world.environment(), tmp_path, max_workers=1)
    event = sqs_event(*(batch_body([h], world) for h in world.hosts))
    runtime.handle(event)
    world.set(30)
    # when the batch is handled with 2 s left (no target starts after 1 s: the first two
    # start, at 0 and 0.6 s),
    response = runtime.handle(event, deadline=world.clock() + 2.0)
    # then the messages of the four targets it did not scrape are batch item failures (SQS
    # delivers them again), and only those;
    failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    assert failed == {"m2", "m3", "m4", "m5"}
    assert sorted(h for h, v in published(world.delivered(), COUNTER) if v == 30) == sorted(world.hosts[:2])
    # and their redelivery publishes their increase: every target +30 exactly once.
    again = sqs_event(*(r["body"] for r in event["Records"] if r["messageId"] in failed), ids=sorted(failed))
    assert runtime.handle(again) == {"batchItemFailures": []}
    assert sorted(published(world.delivered(), COUNTER)) == sorted((h, 30) for h in world.hosts)


def test_a_fetch_the_deadline_cuts_short_is_not_reported_down(proxy: FaultProxy, worlds: Worlds, aws: str, queue: str,
                                                             tmp_path: Path) -> None:
    # Given a target that takes 2 s to answer (on the world's clock; well within its 10 s
    # scrape timeout), scraped once,
    world = worlds(1, delay=2.0)
    (host,) = world.hosts
    runtime = world.runtime(world.environment(), tmp_path, fanout_queue_url=queue)
    runtime.handle(SCHEDULE)
    world.set(30)
    # when an invocation with 2 s left starts it (its fetch must end by the deadline's reserve,
    # at 1.5 s),
    report, handled = schedule_then_queue(runtime, aws, queue, deadline=world.clock() + 2.0)
    # then the target is not reported down (up 0 would be the invocation's doing, not the
    # target's): it is skipped for the deadline and sent to the fan-out queue, whose
    # invocation scrapes it and publishes its whole increase.
    (target,) = report["target_reports"]
    assert target["skipped"] == "deadline" and report["fanned_out_targets"] == 1
    assert handled == {"batchItemFailures": []}
    delivered = world.delivered()
    assert published(delivered, "up") == [(host, 1), (host, 1)]
    assert published(delivered, COUNTER) == [(host, 30)]


def test_deadline_with_the_queue_down_reports_the_skipped_targets(proxy: FaultProxy, worlds: Worlds, aws: str,
                                                                  queue: str, tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    # Given 6 slow targets (0.6 s each, on the world's clock) scraped once (one worker: one
    # after the other), and the fan-out queue failing for good,
    world = worlds(6, delay=0.6)
    runtime = world.runtime(world.environment(), tmp_path, fanout_queue_url=queue, max_workers=1)
    runtime.handle(SCHEDULE)
    world.set(30)
    # when an invocation with 2 s left (the first two start) cannot send the four it did not start,
    with proxy.fault("error500", service="sqs", times=None), caplog.at_level(logging.ERROR, logger="promwatch.scrape"):
        report = runtime.handle(SCHEDULE, deadline=world.clock() + 2.0)
    # then they are reported, never silently skipped: TargetsSkipped and FanoutFailedTargets
    # (self-metrics), an error log naming how many,
    skipped = [t for t in report["target_reports"] if t["skipped"]]
    assert [t["instance"] for t in skipped] == world.hosts[2:]
    assert report["fanout_failed_targets"] == 4
    delivered = world.delivered()
    assert self_metric(delivered, "TargetsSkipped") == 4 == self_metric(delivered, "FanoutFailedTargets")
    assert any("fan-out of 4 targets failed" in r.getMessage() for r in caplog.records)
    # and their baselines are untouched: the next cycle covers the interval.
    world.set(80)
    runtime.handle(SCHEDULE)
    assert increases(world.delivered()) == {host: 80 for host in world.hosts}
