"""Pacing and throttling retries, on a fake clock."""
from __future__ import annotations

import itertools

import pytest
from botocore.exceptions import ClientError
from promwatch.reconcile import Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def _throttled() -> ClientError:
    return ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "PutMetricAlarm")


def test_calls_are_paced_at_three_per_second() -> None:
    # given a pacer at the default rate and instant calls
    fake = FakeTime()
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    # when four calls are made back to back
    stamps = []
    for _ in range(4):
        pacer.call(lambda: stamps.append(fake.now))
    # then they are a third of a second apart
    assert [round(b - a, 6) for a, b in itertools.pairwise(stamps)] == [0.333333] * 3


def test_throttled_calls_are_retried_with_growing_backoff() -> None:
    # given a call throttled twice, then accepted
    fake = FakeTime()
    pacer = Pacer(rate=1000, clock=fake.clock, sleep=fake.sleep, backoff=0.5)
    outcomes: list[Exception | str] = [_throttled(), _throttled(), "ok"]

    def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    # when called, then it succeeds after backing off 0.5 s then 1 s
    assert pacer.call(call) == "ok"
    assert [s for s in fake.slept if s >= 0.5] == [0.5, 1.0]
    assert pacer.retries == 2


def test_other_errors_and_the_last_throttle_are_raised() -> None:
    # given a pacer allowing two attempts, a call refused for access and a call always throttled
    fake = FakeTime()
    pacer = Pacer(rate=1000, clock=fake.clock, sleep=fake.sleep, attempts=2)
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutDashboard")

    def refuse() -> None:
        raise denied

    def throttle() -> None:
        raise _throttled()

    # when the refused call is made, then it is raised at once
    with pytest.raises(ClientError, match="AccessDenied"):
        pacer.call(refuse)
    assert pacer.calls == 1
    # when the throttled call is made, then the last throttle is raised after both attempts
    with pytest.raises(ClientError, match="Throttling"):
        pacer.call(throttle)
    assert pacer.calls == 3
