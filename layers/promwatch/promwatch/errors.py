"""The root of every error promwatch raises.

Each domain package defines its specific subclasses next to the code that raises them
(``promwatch.exposition.ExpositionError``, ``promwatch.scrape.ConfigError``, ...). Messages
name the bad value and what was expected.
"""
from __future__ import annotations


class PromwatchError(Exception):
    """Root of all promwatch errors; catch this to handle any of them."""


class PromwatchValueError(PromwatchError, ValueError):
    """A value was refused: the message names it and what was expected.

    Also a ``ValueError``: pydantic reports a ``ValueError`` raised by a validator as the field's
    problem (``Value error, <message>``), and callers that parse a value catch ``ValueError``.
    """
