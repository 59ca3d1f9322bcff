"""promwatch.gcpause: the collector paused for a block, reentrant and shared across threads."""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest
from promwatch.gcpause import collector_paused


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_paused_inside_and_restored_after() -> None:
    # When a block runs under collector_paused, Then collection is off inside it
    with collector_paused():
        assert not gc.isenabled()
    # And back on after it
    assert gc.isenabled()


def test_restored_when_the_block_raises() -> None:
    # When the paused block raises
    with pytest.raises(KeyError), collector_paused():
        raise KeyError("boom")
    # Then collection is back on all the same
    assert gc.isenabled()


def test_nested_blocks_resume_only_when_the_outermost_ends() -> None:
    # Given two nested paused blocks
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        # the inner block ending does not resume collection under the outer one
        assert not gc.isenabled()
    # Then collection resumes when the outer one ends
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off() -> None:
    # Given a caller that turned collection off itself
    gc.disable()
    # When a paused block runs and ends
    with collector_paused():
        pass
    # Then collection stays off
    assert not gc.isenabled()


def test_overlapping_blocks_in_threads_resume_when_the_last_ends() -> None:
    # Given a block open in another thread
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with collector_paused():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    assert entered.wait(5), "the other thread never entered its block"
    # When this thread's block ends first
    with collector_paused():
        pass
    # Then collection stays paused for the other thread's block, and resumes when it ends
    assert not gc.isenabled()
    release.set()
    thread.join(5)
    assert not thread.is_alive(), "the other thread's block never ended"
    assert gc.isenabled()
