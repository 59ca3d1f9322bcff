"""Automatic layout on the dashboard's 24-column grid (pure)."""
from __future__ import annotations

from collections.abc import Sequence

from promwatch.limits import DASHBOARD_GRID_COLUMNS

DEFAULT_SIZES = {"graph": (12, 6), "text": (24, 2), "alarm_status": (24, 3), "promql": (12, 6)}
"""Width and height of a widget whose spec gives none, by kind."""


def text_height(markdown: str) -> int:
    """Rows a text widget needs: about one per two lines of markdown, at least 1."""
    return max(1, min(20, (markdown.count("\n") + 2) // 2))


def flow(sizes: Sequence[tuple[int, int]], *, columns: int = DASHBOARD_GRID_COLUMNS) -> list[tuple[int, int]]:
    """Positions ``(x, y)`` for widgets of ``(width, height)``, left to right, top to bottom.

    A widget that does not fit in what is left of a row starts the next row, below the
    tallest widget of the current one; so rows never overlap.

    Parameters
    ----------
    sizes
        ``(width, height)`` per widget, in order; widths 1..``columns``.
    columns
        Width of the grid.

    Returns
    -------
    list of tuple
        ``(x, y)`` per widget, in the same order.
    """
    positions: list[tuple[int, int]] = []
    x = y = row_height = 0
    for width, height in sizes:
        if x + width > columns:
            x, y, row_height = 0, y + row_height, 0
        positions.append((x, y))
        x += width
        row_height = max(row_height, height)
    return positions


def bottom(sizes: Sequence[tuple[int, int]], positions: Sequence[tuple[int, int]]) -> int:
    """First free row below every widget."""
    return max((y + h for (_, h), (_, y) in zip(sizes, positions, strict=True)), default=0)
