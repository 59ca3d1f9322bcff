"""Errors of ``promwatch cost``."""
from __future__ import annotations

from promwatch.errors import PromwatchError


class CostError(PromwatchError):
    """An estimate that cannot be made: bad prices, a missing saved page, a template without the function."""


class PricesError(CostError):
    """A ``--prices`` file that is not a mapping of known price names to numbers."""
