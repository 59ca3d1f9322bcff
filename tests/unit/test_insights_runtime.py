"""InsightsRuntime: rules read by the first invocation, not at INIT; remote rules are re-read after
the TTL; a failed re-read keeps the old ones, a failed first read fails the invocation."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from promwatch.insights import InsightsRuntime, InsightsSettings, RulesError

ROOT = Path(__file__).resolve().parents[2]
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


def control_message() -> dict[str, Any]:
    """A Logs subscription's control message (no events): an invocation that needs the rules only."""
    return dict(json.loads((ROOT / "events" / "insights" / "control_message.json").read_text()))


@pytest.fixture
def clock() -> list[float]:
    return [1000.0]


def test_remote_rules_are_reread_after_the_ttl(clock: list[float]) -> None:
    # Given rules in SSM and a 300 s TTL
    ssm = Ssm(ONE_RULE)
    function = InsightsRuntime(InsightsSettings(rules="ssm:/promwatch/insights", config_ttl_seconds=300),
                                sink=NullSink(), ssm=ssm, clock=lambda: clock[0])
    function.refresh_rules()
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
    # given rules read from SSM, re-read on every refresh
    ssm = Ssm(ONE_RULE)
    function = InsightsRuntime(InsightsSettings(rules="ssm:/promwatch/insights", config_ttl_seconds=0),
                                sink=NullSink(), ssm=ssm, clock=lambda: clock[0])
    # when SSM stops answering after the first read
    function.refresh_rules()
    ssm.text = None
    # and the rules are refreshed again
    function.refresh_rules()
    # then the rules read first are kept, and the log says they were not refreshed
    assert len(function.rules) == 1
    assert "not refreshed" in caplog.text


def test_file_rules_are_never_reread(clock: list[float]) -> None:
    # given rules from the packaged file
    function = InsightsRuntime(InsightsSettings(config_ttl_seconds=0), sink=NullSink(), clock=lambda: clock[0])
    before = function.rules
    # when time passes and the rules are refreshed
    clock[0] += 10_000
    function.refresh_rules()
    # then they are the same rules, not re-read
    assert function.rules is before


def test_rules_are_read_by_the_first_invocation_not_at_init(clock: list[float]) -> None:
    # Given rules in SSM
    ssm = Ssm(ONE_RULE)
    # When the runtime is built (the handler's INIT)
    function = InsightsRuntime(InsightsSettings(rules="ssm:/promwatch/insights"), sink=NullSink(), ssm=ssm,
                               clock=lambda: clock[0])
    # Then nothing was read yet; the first invocation reads them, once
    assert ssm.reads == 0
    function.handle(control_message())
    function.handle(control_message())
    assert (ssm.reads, len(function.rules)) == (1, 1)


def test_a_failed_first_read_fails_the_invocation_and_the_next_one_tries_again(clock: list[float]) -> None:
    # Given a rules parameter that does not exist yet
    ssm = Ssm(ONE_RULE)
    ssm.text = None
    function = InsightsRuntime(InsightsSettings(rules="ssm:/promwatch/insights"), sink=NullSink(), ssm=ssm,
                               clock=lambda: clock[0])
    # When an invocation comes, Then it fails naming the parameter
    with pytest.raises(RulesError, match="/promwatch/insights"):
        function.handle(control_message())
    # and once the parameter exists, the next invocation reads it
    ssm.text = ONE_RULE
    function.handle(control_message())
    assert len(function.rules) == 1
