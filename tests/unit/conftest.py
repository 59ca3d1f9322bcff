"""The unit tier is pure: no process, no network (tests/support/hygiene.py), and no AWS account.

boto3 and botocore clients made here get fake credentials and no instance metadata: without
them botocore looks for credentials in ~/.aws and asks the EC2 metadata service at
169.254.169.254, over the network.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.hygiene import CALL_FAILED, UnitTierGuard


@pytest.fixture(autouse=True)
def _unit_tier_is_pure(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    guard = UnitTierGuard()
    guard.install(monkeypatch)
    yield
    guard.check(test_failed=request.node.stash.get(CALL_FAILED, False))
