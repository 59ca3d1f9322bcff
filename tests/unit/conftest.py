"""The unit tier is pure: no process, no network (tests/support/hygiene.py), and no AWS account.

The guard is installed by hooks, not by a fixture, so that it covers what a function-scoped
fixture cannot: importing the tier's test modules (their import-time code), and each test's
whole setup, call and teardown, whatever the scope of the fixtures set up or torn down there
(a module-scoped fixture is set up by the setup phase of its module's first test).

boto3 and botocore clients made here get fake credentials and no instance metadata: without
them botocore looks for credentials in ~/.aws and asks the EC2 metadata service at
169.254.169.254, over the network.
"""
from __future__ import annotations

import os
from collections.abc import Generator

import pytest

from tests.support.hygiene import PHASE_FAILED, UnitTierGuard

GUARDED = pytest.StashKey[tuple[UnitTierGuard, pytest.MonkeyPatch]]()
"""On a test item of this tier: its guard and the patch that installed it (setup to teardown)."""


def _guarded() -> tuple[UnitTierGuard, pytest.MonkeyPatch]:
    """A guard installed now, with the fake AWS account; ``patch.undo()`` removes both."""
    patch = pytest.MonkeyPatch()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        patch.setenv(name, "testing")
    patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    patch.setenv("AWS_CONFIG_FILE", os.devnull)
    patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    patch.delenv("AWS_PROFILE", raising=False)
    guard = UnitTierGuard()
    guard.install(patch)
    return guard, patch


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, pytest.CollectReport,
                                                                         pytest.CollectReport]:
    # Collecting a module of this tier imports it: its import-time code runs under the guard.
    guard, patch = _guarded()
    try:
        report = yield
    finally:
        patch.undo()
    if guard.violations and not report.failed:
        report.outcome = "failed"
        report.longrepr = f"{collector.nodeid}: {'; '.join(guard.violations)} while importing it"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    item.stash[GUARDED] = _guarded()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    guard, patch = item.stash[GUARDED]
    try:
        yield
    finally:
        patch.undo()
    guard.check(test_failed=item.stash.get(PHASE_FAILED, False))
