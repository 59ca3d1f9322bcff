"""Which trigger an event is, and that CloudFormation always gets an answer."""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from promwatch.reconcile import ReconcileRuntime, ReconcileSettings, TriggerError, classify

from tests.unit.reconcile_fakes import MemoryRecord

EVENTS = Path(__file__).resolve().parents[2] / "events" / "reconcile"


@pytest.mark.parametrize(("name", "trigger"), [
    ("custom_resource_create.json", "custom_resource"), ("custom_resource_update.json", "custom_resource"),
    ("custom_resource_delete.json", "custom_resource"), ("schedule.json", "schedule"),
    ("plan.json", "plan"), ("apply.json", "apply"),
])
def test_every_sample_event_is_recognised(name: str, trigger: str) -> None:
    # given a sample event, when classified, then it is the trigger it is for
    assert classify(json.loads((EVENTS / name).read_text())) == trigger


@pytest.mark.parametrize(("event", "message"), [
    ({"mode": "aply"}, "mode: Input should be 'plan' or 'apply'"),
    ({"mode": "plan", "adop": True}, "adop: Extra inputs are not permitted"),
    ({"hello": 1}, "expected a CloudFormation custom resource request"),
])
def test_other_events_are_refused_with_what_is_expected(event: dict[str, Any], message: str) -> None:
    # given an event with a bad mode, an unknown key, or of no known shape, when classified, then it is refused saying what is expected
    with pytest.raises(TriggerError, match=message):
        classify(event)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], Mapping[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.sent.append((url, json.loads(body), headers))
        return 200


class Unreachable:
    """A CloudWatch client that fails every call, as when the endpoint is down."""

    def get_paginator(self, name: str) -> Any:
        raise ConnectionError(f"cannot reach CloudWatch for {name}")


def test_a_failure_of_any_kind_still_answers_cloudformation(tmp_path: Path) -> None:
    # given CloudWatch unreachable
    recorder = Recorder()
    runtime = ReconcileRuntime(ReconcileSettings(spec_dir=tmp_path), client=Unreachable(), record=MemoryRecord(),
                               sender=recorder)
    event = json.loads((EVENTS / "custom_resource_update.json").read_text())
    # when an Update arrives
    summary = runtime.handle(event)
    # then FAILED went to the ResponseURL with the cause and the event's physical id
    ((url, body, headers),) = recorder.sent
    assert url == event["ResponseURL"]
    assert (body["Status"], body["PhysicalResourceId"]) == ("FAILED", "promwatch-dev-us-east-1-dashboards")
    assert body["Reason"] == "ConnectionError: cannot reach CloudWatch for list_dashboards"
    assert headers["Content-Type"] == ""
    assert summary["status"] == "FAILED"


def test_an_unknown_request_type_is_answered_failed(tmp_path: Path) -> None:
    # given the reconcile runtime answering CloudFormation through a recorder
    recorder = Recorder()
    runtime = ReconcileRuntime(ReconcileSettings(spec_dir=tmp_path), client=Unreachable(), record=MemoryRecord(),
                               sender=recorder)
    # when a custom resource request of an unknown type is handled
    event = {**json.loads((EVENTS / "custom_resource_create.json").read_text()), "RequestType": "Rename"}
    runtime.handle(event)
    # then the answer is FAILED, saying the request is invalid
    ((_, body, _),) = recorder.sent
    assert body["Status"] == "FAILED" and "the custom resource request is invalid" in body["Reason"]


def test_an_unreadable_ownership_record_fails_the_deploy_with_the_reason(tmp_path: Path) -> None:
    # given promwatch's record of its dashboards unreadable (SSM throttling past the retries)
    recorder = Recorder()
    runtime = ReconcileRuntime(ReconcileSettings(spec_dir=tmp_path), client=Unreachable(),
                               record=MemoryRecord(unreadable=True), sender=recorder)
    # when an Update arrives
    runtime.handle(json.loads((EVENTS / "custom_resource_update.json").read_text()))
    # then CloudFormation hears FAILED with the record's error (nothing was taken for someone else's)
    ((_, body, _),) = recorder.sent
    assert body["Status"] == "FAILED"
    assert body["Reason"] == "OwnershipRecordError: the record could not be read: ThrottlingException"
