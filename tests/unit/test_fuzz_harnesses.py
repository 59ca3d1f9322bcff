"""The fuzz harnesses of ``make fuzz`` (``fuzz/``), kept from rotting: each entry function runs
clean on its seed corpus and on the inputs that once crashed it."""
from __future__ import annotations

import importlib
import json

import pytest
from promwatch.emf import problems
from promwatch.scrape import ConfigError, parse_config

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


@pytest.mark.parametrize(("name", "crasher", "reported"), [
    # describe_errors() read a user key with "[" as a pydantic union member name (IndexError)
    ("config", b"a[b: 1", "unknown key 'a[b'"),
    # problems() serialized a document holding NaN, a lone surrogate or an integer beyond the
    # float range before judging it, and raised instead of reporting it
    ("emf_validate", b'{"_aws": {}, "m": NaN}', "Out of range float values are not JSON compliant"),
    ("emf_validate", b'{"_aws": {}, "\\ud800": 1}', "surrogates not allowed"),
    ("emf_validate", b'{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "a", "Dimensions": [], '
                     b'"Metrics": [{"Name": "m"}]}]}, "m": 1' + b"0" * 400 + b"}",
     "is not a number, array or distribution"),
])
def test_inputs_that_once_crashed_a_harness_run_clean(name: str, crasher: bytes, reported: str) -> None:
    # Given an input fuzzing found to crash promwatch, then its harness runs it without an
    # exception other than the documented error types,
    harness(name).test_one_input(crasher)
    # and the code under test reports the input's fault as its documented error says.
    assert reported in _reported(name, crasher)


def _reported(name: str, crasher: bytes) -> str:
    """What the harness' target says of ``crasher``: the config error, or the EMF problems."""
    if name == "config":
        with pytest.raises(ConfigError) as refused:
            parse_config(crasher.decode())
        return str(refused.value)
    return "; ".join(problems(json.loads(crasher)))
