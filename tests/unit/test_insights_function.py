"""InsightsFunction: remote rules are re-read after the TTL; a failed re-read keeps the old ones."""
from __future__ import annotations

from typing import Any

import pytest
from promwatch.insights import InsightsFunction, InsightsSettings

ONE_RULE = "rules: [{name: ns, types: [Pod], group_by: [Namespace], metrics: [cpu]}]"
TWO_RULES = ONE_RULE[:-1] + ", {name: node, types: [Node], metrics: [cpu]}]"


class Ssm:
    class exceptions:
        class ParameterNotFound(Exception):
            pass

    def __init__(self, text: str) -> None:
        self.text: str | None = text
        self.reads = 0

    def get_parameter(self, *, Name: str, WithDecryption: bool) -> dict[str, Any]:
        self.reads += 1
        if self.text is None:
            raise self.exceptions.ParameterNotFound(Name)
        return {"Parameter": {"Value": self.text}}


class NullSink:
    def write(self, documents: list[dict[str, Any]], *, ticket: object = None) -> None:
        """Discarded."""

    def flush(self) -> None:
        """Nothing buffered."""


@pytest.fixture
def clock() -> list[float]:
    return [1000.0]


def test_remote_rules_are_reread_after_the_ttl(clock: list[float]) -> None:
    # Given rules in SSM and a 300 s TTL
    ssm = Ssm(ONE_RULE)
    function = InsightsFunction(InsightsSettings(rules="ssm:/promwatch/insights", config_ttl_seconds=300),
                                sink=NullSink(), ssm=ssm, clock=lambda: clock[0])
    ssm.text = TWO_RULES
    # When less than the TTL has passed, Then the rules in hand are used without a read
    clock[0] += 299
    function.refresh_rules()
    assert (len(function.rules), ssm.reads) == (1, 1)
    # When the TTL has passed, Then the changed parameter is read and used
    clock[0] += 1
    function.refresh_rules()
    assert (len(function.rules), ssm.reads) == (2, 2)


def test_a_failed_reread_keeps_the_rules(clock: list[float], caplog: pytest.LogCaptureFixture) -> None:
    ssm = Ssm(ONE_RULE)
    function = InsightsFunction(InsightsSettings(rules="ssm:/promwatch/insights", config_ttl_seconds=0),
                                sink=NullSink(), ssm=ssm, clock=lambda: clock[0])
    ssm.text = None
    function.refresh_rules()
    assert len(function.rules) == 1
    assert "not refreshed" in caplog.text


def test_file_rules_are_never_reread(clock: list[float]) -> None:
    function = InsightsFunction(InsightsSettings(config_ttl_seconds=0), sink=NullSink(), clock=lambda: clock[0])
    before = function.rules
    clock[0] += 10_000
    function.refresh_rules()
    assert function.rules is before
