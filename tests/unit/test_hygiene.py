"""The suite's own rules: golden files, no skips, the unit tier's guard (tests/support)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support.golden import Golden
from tests.support.hygiene import UnitTierGuard


def test_golden_output_that_differs_fails_and_names_the_switch(tmp_path: Path) -> None:
    # given a golden file
    (tmp_path / "out.jsonl").write_text("{}\n")
    golden = Golden(root=tmp_path)
    # then the same output passes, another fails naming the file and how to rewrite it
    golden.check("out.jsonl", "{}\n")
    with pytest.raises(AssertionError, match=r"out\.jsonl; if the change is intended, run `pytest --update-golden`"):
        golden.check("out.jsonl", "{}\n{}\n")
    with pytest.raises(AssertionError, match=r"missing\.jsonl is missing; run `pytest --update-golden`"):
        golden.check("missing.jsonl", "{}\n")
    assert not golden.rewritten


def test_update_golden_rewrites_only_the_files_that_differ(tmp_path: Path) -> None:
    # given two golden files, and the update switch on
    (tmp_path / "same.txt").write_text("a\n")
    (tmp_path / "old.txt").write_text("a\n")
    golden = Golden(root=tmp_path, update=True)
    # when one output is unchanged, one changed and one new
    golden.check("same.txt", "a\n")
    golden.check("old.txt", "b\n")
    golden.check("new.txt", "c\n")
    # then the changed and new ones are written and listed
    assert [(tmp_path / name).read_text() for name in ("same.txt", "old.txt", "new.txt")] == ["a\n", "b\n", "c\n"]
    assert golden.rewritten == [tmp_path / "old.txt", tmp_path / "new.txt"]


def test_a_golden_file_checked_by_two_tests_fails_the_second(tmp_path: Path) -> None:
    # given one golden file, and the update switch on (where the last writer would win)
    golden = Golden(root=tmp_path, update=True)
    # when a test checks it, and another test checks it too
    golden.for_test("tests/a.py::test_a").check("shared.jsonl", "a\n")
    golden.for_test("tests/a.py::test_a").check("shared.jsonl", "a\n")
    # then the second test fails, naming both, and the file keeps the first test's output
    with pytest.raises(AssertionError, match=r"shared\.jsonl is checked by tests/a\.py::test_a and by tests/b\.py::test_b"):
        golden.for_test("tests/b.py::test_b").check("shared.jsonl", "b\n")
    assert (tmp_path / "shared.jsonl").read_text() == "a\n"


@pytest.mark.parametrize("where", ["in the test", "in a fixture", "at collection"])
def test_a_skip_fails_the_run(pytester: pytest.Pytester, where: str) -> None:
    # given a test that skips because a program is missing
    pytester.makepyfile({
        "in the test": "import pytest\ndef test_x():\n    pytest.skip('node is not installed')\n",
        "in a fixture": "import pytest\n@pytest.fixture\ndef node():\n    pytest.skip('node is not installed')\n"
                        "def test_x(node):\n    pass\n",
        "at collection": "import pytest\npytest.skip('node is not installed', allow_module_level=True)\n"
                         "def test_x():\n    pass\n",
    }[where])
    # when run with the suite's hygiene plugin
    result = pytester.runpytest_inprocess("-p", "tests.support.hygiene", "-p", "no:cacheprovider")
    # then nothing is reported skipped: the run fails, with the reason
    outcomes = result.parseoutcomes()
    assert "skipped" not in outcomes and outcomes.get("failed", 0) + outcomes.get("errors", 0) == 1, outcomes
    result.stdout.fnmatch_lines(["*skipped (*node is not installed*)*never skip*"])
    assert result.ret != 0


EXPECTED_FAILURE = "*test_x x*ed (*known bug*)*never expected to fail*"


@pytest.mark.parametrize(("test", "message"), [
    ("import pytest\n@pytest.mark.xfail(reason='known bug', strict=False)\ndef test_x():\n    assert False\n",
     EXPECTED_FAILURE),
    ("import pytest\n@pytest.mark.xfail(reason='known bug', strict=False)\ndef test_x():\n    pass\n",
     EXPECTED_FAILURE),
    ("import pytest\n@pytest.mark.xfail(reason='known bug', strict=True)\ndef test_x():\n    pass\n",
     "*XPASS(strict)*known bug*"),
    ("import pytest\ndef test_x():\n    pytest.xfail('known bug')\n", EXPECTED_FAILURE),
    ("import pytest\n@pytest.mark.xfail(reason='known bug', run=False)\ndef test_x():\n    pass\n",
     EXPECTED_FAILURE),
], ids=["xfailed", "xpassed", "xpassed strict", "imperative xfail", "xfail not run"])
def test_an_expected_failure_fails_the_run(pytester: pytest.Pytester, test: str, message: str) -> None:
    # given a test marked (or declaring itself) expected to fail, whether it fails or passes
    pytester.makepyfile(test)
    # when run with the suite's hygiene plugin
    result = pytester.runpytest_inprocess("-p", "tests.support.hygiene", "-p", "no:cacheprovider")
    # then it is counted failed (an error when it failed at setup), neither xfailed nor
    # xpassed, and the message says why
    assert result.parseoutcomes() in ({"failed": 1}, {"errors": 1})
    result.stdout.fnmatch_lines([message])
    assert result.ret != 0


def test_the_suite_makes_non_strict_xfail_strict(pytestconfig: pytest.Config) -> None:
    # given the suite's configuration, then an xpass of an xfail mark fails even without the guard
    assert pytestconfig.getini("xfail_strict") is True


UNIT_TIER_CONFTEST = ("from tests.unit.conftest import "
                      "pytest_make_collect_report, pytest_runtest_setup, pytest_runtest_teardown\n")


@pytest.mark.parametrize("module", [
    "import pytest, socket\n@pytest.fixture(scope='module')\ndef server():\n"
    "    socket.socket().listen()\ndef test_x(server):\n    pass\n",
    "import pytest, socket\n@pytest.fixture(scope='session')\ndef server():\n"
    "    socket.create_connection(('127.0.0.1', 9))\ndef test_x(server):\n    pass\n",
    "import pytest, subprocess\n@pytest.fixture(scope='module')\ndef program():\n    yield\n"
    "    subprocess.run(['true'])\ndef test_x(program):\n    pass\n",
    "import socket\nsocket.getaddrinfo('example.com', 80)\ndef test_x():\n    pass\n",
    "import socket, threading\ndef swallowed():\n    try:\n        socket.socket().listen()\n"
    "    except BaseException:\n        pass\nthread = threading.Thread(target=swallowed)\n"
    "thread.start()\nthread.join()\ndef test_x():\n    pass\n",
], ids=["module fixture setup", "session fixture setup", "module fixture teardown", "import time",
        "import time, swallowed"])
def test_the_unit_guard_covers_fixtures_of_every_scope_and_imports(pytester: pytest.Pytester, module: str) -> None:
    # given a unit-tier conftest, and a test module that reaches for the network or starts a
    # process outside any test function: in a wider fixture or when imported
    pytester.makeconftest(UNIT_TIER_CONFTEST)
    pytester.makepyfile(module)
    # when run
    result = pytester.runpytest_inprocess("-p", "tests.support.hygiene", "-p", "no:cacheprovider")
    # then the run fails once (an error at setup or teardown), saying the tier is pure
    outcomes = result.parseoutcomes()
    assert outcomes.get("errors", 0) + outcomes.get("failed", 0) == 1, outcomes
    result.stdout.fnmatch_lines(["*tests/unit is pure*"] if "threading" not in module
                                else ["*used the network*while importing it*"])
    assert result.ret != 0


def _refused(guard: UnitTierGuard, action: object) -> str:
    """The message with which the installed ``guard`` refuses ``action()``."""
    with pytest.MonkeyPatch.context() as patch:
        guard.install(patch)
        with pytest.raises(pytest.fail.Exception) as refused:
            action()  # type: ignore[operator]
    return str(refused.value)


@pytest.mark.parametrize("action", [
    lambda: subprocess.run([sys.executable, "-c", "pass"], check=False),
    lambda: subprocess.Popen(["/bin/true"], close_fds=False),  # the posix_spawn path
    lambda: os.system("true"),
    lambda: os.fork(),
], ids=["subprocess.run", "Popen posix_spawn", "os.system", "os.fork"])
def test_the_unit_guard_refuses_to_start_a_process(action: object) -> None:
    # given the guard, when a process is started, then the test fails saying where it belongs
    message = _refused(UnitTierGuard(), action)
    assert "started a process" in message
    assert "move this test to tests/functional, tests/integration or tests/e2e" in message


def test_the_unit_guard_refuses_a_multiprocessing_spawn() -> None:
    # given a function starting a process with the spawn method
    import multiprocessing

    def start() -> None:
        multiprocessing.get_context("spawn").Process(target=print).start()

    # when run under the unit tier guard, then it is refused as starting a process
    assert "started a process" in _refused(UnitTierGuard(), start)


def _socket_call(family: int, kind: int, method: str, *args: object) -> None:
    with socket.socket(family, kind) as sock:
        getattr(sock, method)(*args)


@pytest.mark.parametrize("action", [
    lambda: socket.create_connection(("127.0.0.1", 9), timeout=1),
    lambda: _socket_call(socket.AF_INET6, socket.SOCK_STREAM, "connect_ex", ("::1", 9)),
    lambda: _socket_call(socket.AF_INET, socket.SOCK_STREAM, "listen"),
    lambda: _socket_call(socket.AF_INET, socket.SOCK_DGRAM, "sendto", b"dns", ("127.0.0.53", 53)),
    lambda: socket.getaddrinfo("example.com", 80),
    lambda: socket.gethostbyname("localhost"),
], ids=["connect", "connect_ex v6", "listen", "udp sendto", "getaddrinfo of a name", "gethostbyname"])
def test_the_unit_guard_refuses_the_network(action: object) -> None:
    # given the guard, when a socket reaches for the network or a name is resolved, then the test fails
    message = _refused(UnitTierGuard(), action)
    assert "used the network" in message or "looked up a name" in message


def test_the_unit_guard_allows_socketpairs_and_addresses() -> None:
    # given the guard (this test runs under it)
    # then a socketpair (how canned pages are served) works, and so does resolving an address
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.sendall(b"GET / HTTP/1.1\r\n")
        assert theirs.recv(64) == b"GET / HTTP/1.1\r\n"
    assert socket.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)[0][4] == ("127.0.0.1", 80)


def test_the_unit_guard_fails_a_test_whose_thread_swallowed_the_refusal() -> None:
    # given a worker thread that catches everything, the refusal included
    guard = UnitTierGuard()

    def worker() -> None:
        try:
            socket.create_connection(("127.0.0.1", 9), timeout=1)
        except BaseException:  # what code under test might do
            return

    with pytest.MonkeyPatch.context() as patch:
        guard.install(patch)
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    # then the check at the end of the test still fails it
    with pytest.raises(pytest.fail.Exception, match="used the network"):
        guard.check()
