"""Rules every test run enforces (a pytest plugin: tests/conftest.py loads it).

No test skips, and none is expected to fail: a test that skips, xfails or xpasses fails instead,
with the reason. A skip in CI would pass a run in which the test never ran, an xfail one in which
it did not do what it checks; a test that needs a program uses :mod:`tests.support.system_deps`,
which fails and names what to install.

The unit tier is pure: :class:`UnitTierGuard` (installed around every test of tests/unit, and
around importing its modules, by its conftest) fails a test that starts a process or uses an internet socket. What it covers, and
what it cannot see, is said on the class.
"""
from __future__ import annotations

import _posixsubprocess
import ipaddress
import os
import socket
import subprocess
from collections.abc import Callable, Generator
from typing import Any

import pytest

INTERNET_FAMILIES = frozenset({socket.AF_INET, socket.AF_INET6})
PHASE_FAILED = pytest.StashKey[bool]()
"""On a test item: whether its setup or call phase failed (so the guard's check need not fail it again)."""
TIER_HINT = ("tests/unit is pure (no process, no network): move this test to tests/functional, "
             "tests/integration or tests/e2e, or give the code a fake")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport,
                                                                                            pytest.TestReport]:
    report = yield
    if hasattr(report, "wasxfail"):
        # xfailed (reported skipped) or xpassed (passed, or failed when strict): either way the
        # test did not check what it says; the reporting plugins must not count it as an xfail.
        outcome = "xfailed" if report.skipped else "xpassed"
        reason = report.wasxfail
        del report.wasxfail
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} {outcome} ({reason}); tests here are never expected to fail: "
                           f"fix the test or the code")
    elif report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} skipped ({reason}); tests here never skip: a missing program "
                           f"fails the test (tests/support/system_deps.py, `make system-deps`)")
    if report.when in ("setup", "call"):
        item.stash[PHASE_FAILED] = item.stash.get(PHASE_FAILED, False) or report.failed
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, pytest.CollectReport,
                                                                         pytest.CollectReport]:
    report = yield
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"{collector.nodeid} skipped ({reason}); tests here never skip"
    return report


class UnitTierGuard:
    """Fails the test that starts a process or uses an internet socket, while installed.

    Covered: every way the standard library starts a process (``subprocess`` whether it forks
    or uses ``posix_spawn``, ``multiprocessing``'s fork and spawn, ``os.fork``, ``os.system``)
    every connect, listen or send of an AF_INET / AF_INET6 socket made by Python code, hence
    HTTP clients (urllib, requests, botocore) and promwatch's own DNS client; and the system
    resolver (``socket.getaddrinfo`` / ``gethostbyname`` of a name, not of an address). Unix
    sockets stay allowed: ``socket.socketpair`` is how tests/support/canned.py serves pages
    without a network; so does a bind alone, which reaches nobody (urllib3 probes IPv6 with a
    bind to ``::1`` when first imported). tests/unit/conftest.py installs it while the tier's modules
    are imported and from the start of each test's setup to the end of its teardown, so fixtures
    of every scope set up or torn down there are covered (the last test's teardown also ends the
    session's fixtures of other tiers: those must end without a process or a connection, as the
    moto server's does). Not covered: C extensions doing their own I/O, and a resolver function
    imported by name before the guard (``from socket import getaddrinfo``).

    The violating call raises ``pytest.fail.Exception``, a BaseException that code under test
    catching ``Exception`` does not swallow; :meth:`check` fails the test at teardown when the
    exception did not fail it (raised on another thread, or caught).
    """

    def __init__(self) -> None:
        self.violations: list[str] = []

    def _refuse(self, what: str) -> None:
        self.violations.append(what)
        pytest.fail(f"{what}: {TIER_HINT}", pytrace=True)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Refuse process starts and internet sockets until ``monkeypatch`` is undone."""

        def refuse_process(name: str) -> Callable[..., Any]:
            def refused(*args: Any, **kwargs: Any) -> Any:
                self._refuse(f"started a process ({name}{_first_argument(args)})")

            return refused

        monkeypatch.setattr(subprocess, "_fork_exec", refuse_process("subprocess"))
        monkeypatch.setattr(_posixsubprocess, "fork_exec", refuse_process("fork_exec"))
        for name in ("fork", "forkpty", "system", "posix_spawn", "posix_spawnp"):
            monkeypatch.setattr(os, name, refuse_process(f"os.{name}"))

        def refuse_internet(name: str) -> None:
            original = getattr(socket.socket, name)

            def checked(sock: socket.socket, *args: Any, **kwargs: Any) -> Any:
                if sock.family in INTERNET_FAMILIES:
                    self._refuse(f"used the network (socket.{name}({', '.join(map(repr, args))[:80]}))")
                return original(sock, *args, **kwargs)

            monkeypatch.setattr(socket.socket, name, checked)

        for name in ("connect", "connect_ex", "listen", "sendto", "sendmsg"):
            refuse_internet(name)

        def refuse_lookup(name: str) -> None:
            original = getattr(socket, name)

            def checked(host: str | bytes | None, *args: Any, **kwargs: Any) -> Any:
                if host is not None and not _is_address(host):
                    self._refuse(f"looked up a name (socket.{name} {host!r})")
                return original(host, *args, **kwargs)

            monkeypatch.setattr(socket, name, checked)

        for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
            refuse_lookup(name)

    def check(self, *, test_failed: bool = False) -> None:
        """Fail when a refused call happened and the test did not already fail."""
        if self.violations and not test_failed:
            pytest.fail(f"{'; '.join(self.violations)}: {TIER_HINT}", pytrace=False)


def _is_address(host: str | bytes) -> bool:
    try:
        ipaddress.ip_address(host.decode() if isinstance(host, bytes) else host)
    except ValueError:
        return False
    return True


def _first_argument(args: tuple[Any, ...]) -> str:
    return f": {str(args[0])[:80]}" if args else ""
