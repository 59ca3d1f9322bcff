"""``promwatch cost``: what each path to CloudWatch costs a month, from one real scrape.

:mod:`~promwatch_tools.cost.measure` runs the scrape cycle on the config's targets (or on saved
pages, :mod:`~promwatch_tools.cost.pages`) and measures what it produced;
:mod:`~promwatch_tools.cost.estimate` turns that into usage and USD per month with the one price
table, :mod:`~promwatch_tools.cost.prices`; :mod:`~promwatch_tools.cost.report` prints it.
"""
from __future__ import annotations

from promwatch_tools.cost.errors import CostError, PricesError
from promwatch_tools.cost.prices import CONFIRMED, REGION, SOURCES, TAKEN_ON, Prices, load_prices, override

__all__ = [
    "CONFIRMED",
    "REGION",
    "SOURCES",
    "TAKEN_ON",
    "CostError",
    "Prices",
    "PricesError",
    "load_prices",
    "override",
]
