"""Fault injection: delivering EMF to CloudWatch Logs (PutLogEvents) in a scrape cycle.

Each test moves the targets' counter 0 -> 30 -> 80 over cycles, injects a fault on the way,
and checks the sum of the published increases against the true increase once AWS recovers.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from promwatch.scrape.runtime import CycleDeliveryError

from tests.support.faultproxy import FaultProxy
from tests.support.scrapeworld import (
    COUNTER,
    GAUGE,
    SCHEDULE,
    ScrapeWorld,
    increases,
    published,
    self_metric,
    sqs_event,
    stdout_documents,
)

Worlds = Callable[..., ScrapeWorld]


def test_throttled_then_accepted_delivery_loses_nothing(proxy: FaultProxy, worlds: Worlds,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # Given two targets scraped once (counter at 0), and PutLogEvents throttled twice in the next cycle,
    world = worlds(2)
    env = world.environment()
    world.run(env)
    world.set(30)
    throttled = proxy.add("throttle", service="logs", operation="PutLogEvents", times=2)
    # when the counters reach 30 and then 80,
    second = world.run(env)
    world.set(80)
    world.run(env)
    # then the sink retried the batch (retried: throttling, 5xx and connection errors, with
    # backoff and jitter, up to 6 tries) and delivered it: nothing is reported undelivered,
    assert throttled.fired == 2 and proxy.count("logs", "PutLogEvents", fault=None) >= 3
    assert second.undelivered_documents == 0 and not any(t.undelivered for t in second.targets)
    # and the published increases are exactly the true ones: +30, then +50.
    delivered = world.delivered()
    assert increases(delivered) == {host: 80 for host in world.hosts}
    assert sorted(v for _, v in published(delivered, COUNTER)) == [30, 30, 50, 50]
    assert stdout_documents(capsys.readouterr().out) == []


def test_logs_down_for_a_cycle_keeps_baselines_and_next_cycle_covers_it(
        proxy: FaultProxy, worlds: Worlds, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a target scraped once (counter at 0), and CloudWatch Logs failing every
    # PutLogEvents (HTTP 503) for the whole next cycle (#14 defect 11),
    world = worlds(1)
    (host,) = world.hosts
    env = world.environment()
    world.run(env)
    saved_before = world.baseline_version(host)
    world.set(30)
    # when that cycle runs with the counter at 30,
    with proxy.fault("error503", service="logs", operation="PutLogEvents", times=None), \
            caplog.at_level(logging.ERROR, logger="promwatch"):
        failed = world.run(env)
    # then the sink tried the batch 6 times (botocore's own retries off: exactly 6 requests),
    # gave up, and the cycle reported the loss: the target is
    # undelivered and retryable, its baselines were NOT saved (the next cycle covers the interval),
    (target,) = failed.targets
    assert proxy.count("logs", "PutLogEvents", fault="error503") == 6
    assert target.undelivered and target.retryable and failed.undelivered_documents > 0
    assert world.baseline_version(host) == saved_before
    assert any("EMF delivery failed" in r.getMessage() for r in caplog.records)
    # and the self-metrics saying so went to stdout (the function's own log), not to the failed sink;
    fallback = stdout_documents(capsys.readouterr().out)
    assert self_metric(fallback, "TargetsUndelivered", job="app") == 1
    assert self_metric(fallback, "UndeliveredDocuments") == failed.undelivered_documents
    assert all("Component" in d for d in fallback)
    # and when Logs is back and the counter is at 80, the next cycle publishes +80 in one go.
    world.set(80)
    recovered = world.run(env)
    assert recovered.undelivered_documents == 0
    delivered = world.delivered()
    assert published(delivered, COUNTER) == [(host, 80)]
    assert increases(delivered) == {host: 80}


def test_schedule_invocation_fails_after_reporting_an_undelivered_cycle(
        proxy: FaultProxy, worlds: Worlds, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the scrape function's runtime (DynamoDB state, Logs output) and a target scraped once,
    world = worlds(1)
    (host,) = world.hosts
    env = world.environment()
    world.run(env)
    runtime = world.runtime(env, tmp_path)
    world.set(30)
    # when the schedule fires while PutLogEvents fails,
    with proxy.fault("error500", service="logs", operation="PutLogEvents", times=None), \
            pytest.raises(CycleDeliveryError, match="1 targets could not be delivered"):
        runtime.handle(SCHEDULE)
    # then the invocation fails (Lambda's Errors metric, after the self-metrics went to stdout),
    assert self_metric(stdout_documents(capsys.readouterr().out), "TargetsUndelivered") == 1
    # and the next one, with Logs back, covers the whole interval.
    world.set(80)
    runtime.handle(SCHEDULE)
    assert published(world.delivered(), COUNTER) == [(host, 80)]


def test_sqs_batch_with_an_undelivered_target_is_handed_back(
        proxy: FaultProxy, worlds: Worlds, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given two fan-out messages of one target each, both targets scraped once,
    world = worlds(2)
    env = world.environment()
    world.run(env)
    runtime = world.runtime(env, tmp_path)
    first, second = world.hosts
    event = sqs_event(f'{{"v":1,"targets":["{world.key(first)}"]}}', f'{{"v":1,"targets":["{world.key(second)}"]}}')
    world.set(30)
    # when the batch is handled while every PutLogEvents fails,
    with proxy.fault("reset", service="logs", operation="PutLogEvents", times=None):
        response = runtime.handle(event)
    # then both messages are batch item failures (SQS delivers them again),
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
    assert self_metric(stdout_documents(capsys.readouterr().out), "TargetsUndelivered") == 2
    # and the redelivery, with Logs back and the counters at 80, publishes +80 for each.
    world.set(80)
    assert runtime.handle(event) == {"batchItemFailures": []}
    assert increases(world.delivered()) == {first: 80, second: 80}


def test_emulator_gone_mid_cycle_before_delivery(proxy: FaultProxy, worlds: Worlds,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # Given two targets scraped once, and the emulator going away at the cycle's first
    # PutLogEvents (after the claims and loads: every later call is refused or reset),
    world = worlds(2)
    env = world.environment()
    world.run(env)
    world.set(30)
    proxy.add("down", service="logs", operation="PutLogEvents")
    # when the cycle runs,
    gone = world.run(env)
    # then nothing was delivered, nothing saved, the claims could not be released (they lapse
    # at the cycle's deadline: reported ClaimsNotReleased), and the self-metrics are on stdout;
    assert all(t.undelivered and t.retryable for t in gone.targets)
    assert all(world.baseline_version(host) == 1 for host in world.hosts)
    fallback = stdout_documents(capsys.readouterr().out)
    assert self_metric(fallback, "TargetsUndelivered") == 2
    assert self_metric(fallback, "ClaimsNotReleased") == 2
    # and when it is back (a new execution environment: the old one's connections are gone),
    # the next cycle publishes each target's whole increase once.
    proxy.come_back()
    proxy.clear()
    world.set(80)
    world.run(world.environment())
    assert increases(world.delivered()) == {host: 80 for host in world.hosts}


def test_log_stream_creation_failing_is_an_undelivered_cycle(proxy: FaultProxy, worlds: Worlds,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # Given a target scraped once, a new execution environment whose log stream does not exist
    # yet, and CreateLogStream throttled for good,
    world = worlds(1)
    (host,) = world.hosts
    world.run(world.environment())
    env = world.environment(stream="another-environment")
    world.set(30)
    # when the new environment's first cycle runs,
    with proxy.fault("throttle", service="logs", operation="CreateLogStream", times=None):
        first = world.run(env)
    # then the cycle ends normally and reports its target undelivered (the sink never raises
    # from write, and flush reports the loss with its tickets), self-metrics on stdout;
    assert first.targets[0].undelivered and first.undelivered_documents > 0
    assert self_metric(stdout_documents(capsys.readouterr().out), "TargetsUndelivered") == 1
    # and the next cycle creates the stream and publishes the whole interval.
    world.set(80)
    world.run(env)
    assert increases(world.delivered()) == {host: 80}


def test_answer_lost_after_delivery_is_sent_again(proxy: FaultProxy, worlds: Worlds) -> None:
    # Given a target scraped once, and the answer of the next PutLogEvents lost after
    # CloudWatch Logs stored its events (the connection reset on the way back),
    world = worlds(1)
    (host,) = world.hosts
    env = world.environment()
    world.run(env)
    world.set(30)
    proxy.add("lost", service="logs", operation="PutLogEvents")
    # when the cycle runs,
    world.run(env)
    # then the sink cannot know the batch arrived and sends it again: PutLogEvents has no
    # idempotency token, so this one case is delivered twice -- the limit of what AWS offers,
    # stated in the README ("Failures and what happens").
    assert published(world.delivered(), COUNTER) == [(host, 30), (host, 30)]
    assert published(world.delivered(), GAUGE) == [(host, 21.5)] * 3
