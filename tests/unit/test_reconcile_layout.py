"""Automatic layout on the 24-column grid."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from promwatch.reconcile.layout import bottom, flow


def test_widgets_fill_rows_left_to_right_then_wrap_below_the_tallest() -> None:
    # given two half-width graphs, a third that does not fit, and a full-width text
    sizes = [(12, 6), (12, 4), (8, 6), (24, 2)]
    # when laid out
    positions = flow(sizes)
    # then the first two share a row, the third starts below the taller of them, the text below it
    assert positions == [(0, 0), (12, 0), (0, 6), (0, 12)]
    assert bottom(sizes, positions) == 14


@given(st.lists(st.tuples(st.integers(1, 24), st.integers(1, 12)), max_size=40))
def test_widgets_never_overlap_and_stay_on_the_grid(sizes: list[tuple[int, int]]) -> None:
    # given widgets of any sizes, when flowed onto the grid
    positions = flow(sizes)
    # then each stays within the 24 columns and none overlaps another
    cells: set[tuple[int, int]] = set()
    for (width, height), (x, y) in zip(sizes, positions, strict=True):
        assert x >= 0 and x + width <= 24
        mine = {(cx, cy) for cx in range(x, x + width) for cy in range(y, y + height)}
        assert not mine & cells
        cells |= mine
