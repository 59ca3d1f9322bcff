"""Fault injection: the DynamoDB state store of a scrape cycle (claim, load, save, release).

Each test moves the targets' counter 0 -> 30 -> 80 over cycles, injects a fault on one of the
cycle's DynamoDB calls, and checks the sum of the published increases (read back from the
CloudWatch Logs log group) against the true increase.

The cycle's calls per target: PutItem of the claim (``#claim#`` item), GetItem of the
baselines, then after delivery PutItem of the baselines (the item with ``scraped_at``) and
DeleteItem of the claim. botocore retries throttling, 5xx, resets and timeouts (standard
mode, 3 tries); what is left after that is the cycle's to handle.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest
from promwatch.scrape.report import CycleReport

from tests.support.faultproxy import FaultProxy
from tests.support.scrapeworld import (
    COUNTER,
    GAUGE,
    ScrapeWorld,
    increases,
    published,
    self_metric,
)

Worlds = Callable[..., ScrapeWorld]
CLAIM = "#claim#"
SAVE = "scraped_at"


def _three_cycles(world: ScrapeWorld, during_second: Callable[[], object] | None = None) -> None:
    env = world.environment()
    world.run(env)
    world.set(30)
    if during_second is not None:
        during_second()
    world.run(env)
    world.set(80)
    world.run(env)


@pytest.mark.parametrize(("kind", "operation", "contains"), [
    ("throttle", "GetItem", None),
    ("error500", "GetItem", None),
    ("reset", "GetItem", None),
    ("hang", "GetItem", None),
    ("throttle", "PutItem", CLAIM),
    ("reset", "PutItem", CLAIM),
    ("lost", "PutItem", CLAIM),
    ("throttle", "PutItem", SAVE),
    ("error503", "PutItem", SAVE),
    ("drop", "PutItem", SAVE),
    ("throttle", "DeleteItem", None),
])
def test_a_transient_fault_is_retried_and_counts_stay_exact(proxy: FaultProxy, worlds: Worlds, kind: str,
                                                            operation: str, contains: str | None) -> None:
    # Given two targets, and one DynamoDB call of the second cycle failing twice (throttled,
    # 5xx, reset, hung past the read timeout, dropped; "lost": applied but its answer lost),
    world = worlds(2)
    fault = None

    def inject() -> None:
        nonlocal fault
        fault = proxy.add(kind, service="dynamodb", operation=operation, contains=contains,
                          times=1 if kind == "lost" else 2, seconds=1.0)

    # when three cycles run (the counter at 0, 30, 80),
    _three_cycles(world, inject)
    # then botocore retried the call (retried: throttling, 5xx, connection errors, timeouts),
    assert fault is not None and fault.fired == (1 if kind == "lost" else 2)
    # nothing is reported (no state error, no commit failure), and the increases are exact.
    delivered = world.delivered()
    for name in ("StateErrors", "StateCommitFailures", "TargetsBusy", "ClaimsNotReleased"):
        assert self_metric(delivered, name) == 0, name
    assert increases(delivered) == {host: 80 for host in world.hosts}


def test_save_applied_but_answer_lost_is_known_as_saved(proxy: FaultProxy, worlds: Worlds,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    # Given a target, and the baselines' PutItem of the second cycle applied by DynamoDB with
    # its answer lost, so that botocore sends it again and the condition (version unchanged)
    # now fails against the cycle's own write,
    world = worlds(1)
    (host,) = world.hosts
    # when three cycles run,
    with caplog.at_level(logging.ERROR, logger="promwatch.scrape"):
        _three_cycles(world, lambda: proxy.add("lost", service="dynamodb", operation="PutItem", contains=SAVE))
    # then the store recognises its own write (same version, same data): no commit failure
    # reported, no "counted twice" warning, and the increases are exact.
    delivered = world.delivered()
    assert self_metric(delivered, "StateCommitFailures") == 0
    assert not [r for r in caplog.records if "counted twice" in r.getMessage()]
    assert increases(delivered) == {host: 80}
    assert world.baseline_version(host) == 3


def test_save_failing_for_good_is_reported_as_a_commit_failure(proxy: FaultProxy, worlds: Worlds,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    # Given a target, and every baselines PutItem of the second cycle failing (HTTP 500, after
    # botocore's 3 tries) -- the documents were delivered before the save, by design,
    world = worlds(1)
    (host,) = world.hosts
    env = world.environment()
    world.run(env)
    world.set(30)
    # when the second cycle runs,
    with proxy.fault("error500", service="dynamodb", operation="PutItem", contains=SAVE, times=None), \
            caplog.at_level(logging.ERROR, logger="promwatch.scrape"):
        failed = world.run(env)
    # then the target is reported: StateCommitFailures (self-metric), an error naming it, not
    # retryable (a retry would publish the interval a third time),
    (target,) = failed.targets
    assert target.commit_failed and not target.retryable and not target.undelivered
    assert self_metric(world.delivered(), "StateCommitFailures", job="app") == 1
    assert any(host in r.getMessage() and "counts this interval again" in r.getMessage() for r in caplog.records)
    # and the next cycle counts from the baselines still stored: the interval of the failed
    # save (+30) is published twice -- the reported over-count, exactly that interval.
    world.set(80)
    world.run(env)
    assert published(world.delivered(), COUNTER) == [(host, 30), (host, 80)]


def test_release_failing_for_good_lets_the_claim_lapse(proxy: FaultProxy, worlds: Worlds) -> None:
    # Given a target, and every DeleteItem of the second cycle failing (HTTP 503),
    world = worlds(1)
    (host,) = world.hosts
    # when three cycles run (each one CYCLE_SECONDS after the other, longer than a claim lasts),
    _three_cycles(world, lambda: proxy.add("error503", service="dynamodb", operation="DeleteItem", times=3))
    # then the unreleased claim is reported (ClaimsNotReleased), it lapsed before the third
    # cycle (no TargetsBusy), and the increases are exact.
    delivered = world.delivered()
    assert self_metric(delivered, "ClaimsNotReleased") == 1
    assert self_metric(delivered, "TargetsBusy") == 0
    assert increases(delivered) == {host: 80}


def test_a_dead_invocations_claim_makes_the_target_busy_until_it_lapses(proxy: FaultProxy, worlds: Worlds) -> None:
    # Given a target whose second cycle died after claiming it (the emulator went away at its
    # PutLogEvents: nothing delivered, nothing saved, the claim never released),
    world = worlds(1)
    (host,) = world.hosts
    world.run(world.environment())
    world.set(30)
    proxy.add("down", service="logs", operation="PutLogEvents")
    world.run(world.environment())
    proxy.come_back()
    proxy.clear()
    # when an invocation runs 30 s later, while the claim holds, and another after it lapsed,
    world.set(80)
    world.cycle += 0.25  # 30 s on
    early = world.run(world.environment(), advance=False)
    world.cycle += 0.75
    world.run(world.environment(), advance=False)
    # then the first leaves the target to the claim's holder (TargetsBusy, not retryable: the
    # holder would publish it), and the second publishes the whole interval once.
    (target,) = early.targets
    assert target.busy and not target.retryable and not target.up
    delivered = world.delivered()
    assert self_metric(delivered, "TargetsBusy") == 1
    assert published(delivered, COUNTER) == [(host, 80)]


def test_state_store_down_for_a_cycle_still_publishes_up_and_gauges(proxy: FaultProxy, worlds: Worlds) -> None:
    # Given two targets scraped once, and every DynamoDB call of the next cycle failing (#14 defect 12),
    world = worlds(2)
    env = world.environment()
    world.run(env)
    world.set(30)
    # when that cycle runs,
    with proxy.fault("error503", service="dynamodb", times=None):
        failed = world.run(env)
    # then each target's up, scrape metrics and gauge are published; its counter is dropped
    # and counted (DroppedSamples{Reason=state_error}), StateErrors reported, retryable (SQS);
    assert all(t.up and t.retryable and (t.error or "").startswith("state store: ") for t in failed.targets)
    delivered = world.delivered()
    assert sorted(published(delivered, "up")) == sorted([(h, 1) for h in world.hosts] * 2)
    assert sorted(published(delivered, GAUGE)) == sorted([(h, 21.5) for h in world.hosts] * 2)
    assert self_metric(delivered, "StateErrors", job="app") == 2
    assert self_metric(delivered, "DroppedSamples", Reason="state_error") == 2
    # and the next cycle, with DynamoDB back, covers the whole interval: +80 each, once.
    world.set(80)
    world.run(env)
    assert sorted(published(world.delivered(), COUNTER)) == sorted((h, 80) for h in world.hosts)


def test_two_invocations_at_once_publish_each_target_once(proxy: FaultProxy, worlds: Worlds) -> None:
    # Given two targets and two execution environments scraping them at the same moment:
    # their claims reach DynamoDB together (the proxy holds them until both arrived),
    world = worlds(2)
    first, second = world.environment(), world.environment(stream="second")
    busy = 0
    for value in (0, 30, 80):
        world.set(value)
        world.cycle += 1
        gathers = [proxy.add("together", service="dynamodb", operation="PutItem", contains=f"{CLAIM}app#{host}",
                             times=2, seconds=5.0) for host in world.hosts]
        reports: list[CycleReport] = []
        # when both invocations run their cycle at once, at 0, 30 and 80,
        threads = [threading.Thread(target=lambda env=env, out=reports: out.append(world.run(env, advance=False)))
                   for env in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        proxy.clear()
        # then for each target exactly one wins the claim and the other leaves it (TargetsBusy),
        assert all(g.fired == 2 for g in gathers)
        for host in world.hosts:
            outcomes = [t for report in reports for t in report.targets if t.instance == host]
            assert sorted(t.busy for t in outcomes) == [False, True]
        busy += sum(t.busy for report in reports for t in report.targets)
    # and the increases published are exact: no interval counted twice.
    delivered = world.delivered()
    assert increases(delivered) == {host: 80 for host in world.hosts}
    assert self_metric(delivered, "TargetsBusy") == busy == 6
