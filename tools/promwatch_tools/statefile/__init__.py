"""The CLI's counter baselines in a file (``promwatch scrape --state-file PATH``).

:class:`SqliteStateStore` is a :class:`promwatch.state.StateStore` in a SQLite database, the
local stand-in for the functions' DynamoDB table; :mod:`promwatch_tools.statefile.legacy`
imports the JSON state file of earlier versions into it.
"""
from __future__ import annotations

from promwatch_tools.statefile.sqlite import SqliteStateStore

__all__ = ["SqliteStateStore"]
