"""The fuzz harnesses of ``make fuzz`` (``fuzz/``), kept from rotting: each entry function runs
clean on its seed corpus and on the inputs that once crashed it."""
from __future__ import annotations

import importlib

import pytest

from fuzz import HARNESSES
from fuzz.harness import Harness


def harness(name: str) -> Harness:
    found: Harness = importlib.import_module(f"fuzz.{name}").HARNESS
    return found


@pytest.mark.parametrize("name", list(HARNESSES))
def test_harness_runs_clean_on_its_seed_corpus(name: str) -> None:
    # given a harness and its seeds (the repository's real inputs)
    entry = harness(name)
    seeds = entry.seeds()
    assert entry.name == name and seeds
    # when every seed goes through the entry function, then none raises
    for seed in seeds:
        entry.test_one_input(seed)


@pytest.mark.parametrize(("name", "crasher"), [
    # describe_errors() read a user key with "[" as a pydantic union member name (IndexError)
    ("config", b"a[b: 1"),
    # problems() serialized a document holding NaN, a lone surrogate or an integer beyond the
    # float range before judging it, and raised instead of reporting it
    ("emf_validate", b'{"_aws": {}, "m": NaN}'),
    ("emf_validate", b'{"_aws": {}, "\\ud800": 1}'),
    ("emf_validate", b'{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "a", "Dimensions": [], '
                     b'"Metrics": [{"Name": "m"}]}]}, "m": 1' + b"0" * 400 + b"}"),
])
def test_inputs_that_once_crashed_a_harness_run_clean(name: str, crasher: bytes) -> None:
    # Given an input fuzzing found to crash promwatch, then its harness runs it without an
    # exception other than the documented error types.
    harness(name).test_one_input(crasher)
