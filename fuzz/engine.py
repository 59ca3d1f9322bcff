"""One harness under atheris, in a process of its own: ``python -m fuzz.engine NAME [libFuzzer args]``.

The runner (``python -m fuzz``) starts this; libFuzzer's arguments (``-atheris_runs``,
``-max_len``, corpus directories, ...) pass through. The harness module is imported inside
``atheris.instrument_imports`` so the code it reaches reports coverage.
"""
from __future__ import annotations

import importlib
import logging
import sys

from fuzz import HARNESSES


class _FormatOnly(logging.Handler):
    """Formats each record and drops it: a log call whose arguments do not fit its format
    string raises (into the harness) instead of printing a logging error and going on."""

    def emit(self, record: logging.LogRecord) -> None:
        self.format(record)


def main(argv: list[str]) -> None:
    """Fuzz the harness ``argv[1]`` with libFuzzer arguments ``argv[2:]`` (does not return)."""
    import atheris

    name = argv[1]
    if name not in HARNESSES:
        raise SystemExit(f"unknown harness {name!r}; expected one of {', '.join(HARNESSES)}")
    promwatch_logger = logging.getLogger("promwatch")
    promwatch_logger.addHandler(_FormatOnly())
    promwatch_logger.propagate = False  # millions of warnings about bad inputs are not news
    with atheris.instrument_imports(include=list(HARNESSES[name])):
        module = importlib.import_module(f"fuzz.{name}")
    harness = module.HARNESS
    atheris.Setup([argv[0], *argv[2:]], harness.test_one_input, custom_mutator=harness.mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
