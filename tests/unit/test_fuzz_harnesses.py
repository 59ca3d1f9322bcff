"""The fuzz harnesses of ``make fuzz`` (``fuzz/``), kept from rotting: each entry function runs
clean on its seed corpus, and each allowance for a crash fixed elsewhere is still needed."""
from __future__ import annotations

import importlib

import pytest

import fuzz.allowances
from fuzz import HARNESSES
from fuzz.allowances import ALLOWANCES, Allowance
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


@pytest.mark.parametrize("allowance", ALLOWANCES, ids=lambda a: f"{a.harness}-{a.exception.__name__}")
def test_each_allowance_still_covers_a_crash(allowance: Allowance, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the allowance's reproducer, which its harness lets through
    entry = harness(allowance.harness)
    entry.test_one_input(allowance.reproducer)
    # when the allowances are gone, then the harness raises the crash it covers; if it does not,
    # the fix has been merged: delete the allowance from fuzz/allowances.py
    monkeypatch.setattr(fuzz.allowances, "ALLOWANCES", ())
    with pytest.raises(allowance.exception, match=allowance.message):
        entry.test_one_input(allowance.reproducer)
