"""Subcommands of the ``promwatch`` CLI: one module each, ``add_arguments`` + ``run``; and what
they share."""
from __future__ import annotations

import contextlib
import logging
import sys
from typing import TextIO

__all__ = ["log_to_stderr"]


class _StderrHandler(logging.StreamHandler[TextIO]):
    """The CLI's log handler: promwatch's warnings (targets down, lines skipped) on stderr."""


def log_to_stderr() -> None:
    """Send promwatch's warnings and errors (targets down, discoveries failed) to stderr."""
    log = logging.getLogger("promwatch")
    log.setLevel(logging.WARNING)
    for handler in log.handlers:
        if isinstance(handler, _StderrHandler):
            # A caller may have replaced (and closed) the stream since: setStream would flush
            # the old one first and fail on it.
            with handler.lock or contextlib.nullcontext():
                handler.stream = sys.stderr
            return
    handler = _StderrHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("promwatch: %(levelname)s %(message)s"))
    log.addHandler(handler)
