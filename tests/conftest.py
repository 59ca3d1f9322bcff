"""Fixtures shared by every tier.

``moto_server`` starts a real moto server on 127.0.0.1 (a free port) once per session and
points boto3 at it through AWS_ENDPOINT_URL, the same code path as production. ``golden``
compares outputs with tests/golden/ (``pytest --update-golden`` rewrites them).
"""
from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.support.golden")

# hygiene: no test skips, and the unit tier's guard; pytester: the tests of both
pytest_plugins = ["tests.support.hygiene", "pytester"]

from tests.support.golden import UPDATE_OPTION, Golden  # noqa: E402 (after the rewrite hook)

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
GOLDEN_KEY = pytest.StashKey[Golden]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(UPDATE_OPTION, action="store_true",
                     help="rewrite the golden files under tests/golden/ that differ from the output, instead of failing")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[GOLDEN_KEY] = Golden(update=bool(config.getoption("update_golden")))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    rewritten = config.stash[GOLDEN_KEY].rewritten
    if rewritten:
        terminalreporter.section("golden files rewritten (review git diff tests/golden)")
        for path in rewritten:
            terminalreporter.line(str(path.relative_to(ROOT)))


@pytest.fixture
def golden(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> Golden:
    """The golden files of tests/golden/ (:class:`tests.support.golden.Golden`), as this test's view."""
    return pytestconfig.stash[GOLDEN_KEY].for_test(request.node.nodeid)


@pytest.fixture(autouse=True)
def _promwatch_logging_restored() -> Iterator[None]:
    """Each test gets the ``promwatch`` logger as it found it: a command run in-process (``promwatch
    scrape``, ``promwatch targets``) sends it to stderr for the rest of its process, which in a test
    run would also echo a later test's logs."""
    logger = logging.getLogger("promwatch")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0, *, success: bool = False) -> None:
    """Wait until ``url`` answers -- with any status, or with ``success`` a 2xx one (a
    readiness endpoint answers 503 while the server starts) -- or fail the test."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError as error:
            if not success:
                return
            problem = f"HTTP {error.code}"
        except OSError as error:
            problem = str(error)
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer{' with success' if success else ''} within {timeout}s: {problem}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto server started for this test session."""
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/moto-api/")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point boto3 at the session's moto server, with fresh state for this test."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for var in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(var, raising=False)
    req = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10).close()
    yield moto_endpoint
