"""Coverage-guided fuzzing of promwatch's parsers, loaders, decoder and validator (``make fuzz``).

Each harness (``fuzz/<name>.py``) exposes ``HARNESS``: a pure entry function taking bytes,
its seed corpus (real inputs from the repository) and its libFuzzer settings. ``python -m
fuzz`` runs every harness under atheris (libFuzzer) in a child process of its own
(:mod:`fuzz.engine`) for a number of inputs each, and fails on any exception but the target's
documented errors, or a broken property; the crashing input is saved under ``fuzz/crashes/``.
``python -m fuzz --reproduce NAME FILE`` runs one saved input again, without atheris.
"""
from __future__ import annotations

HARNESSES: dict[str, tuple[str, ...]] = {
    "exposition": ("promwatch",),
    "config": ("promwatch",),
    "insights": ("promwatch",),
    "emf_validate": ("promwatch",),
    "emf_translate": ("promwatch",),
}
"""Harness module name -> the top-level packages whose code gets coverage instrumentation."""
