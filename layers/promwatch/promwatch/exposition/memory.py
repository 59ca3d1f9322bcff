"""What the parsers remember from page to page in a warm process: :class:`ParserMemory`.

A target's page repeats its series texts, comment lines and label sets scrape after scrape, so
a parser given a memory looks each one up instead of parsing it again. The memory belongs to
whoever runs the parses (the scrape runtime keeps one for its execution environment, a CLI tool
one for its run) and is passed in; a parse without one starts from an empty memory and keeps
nothing, so its result is the same either way.

Bounded: each cache holds at most :data:`SERIES_CACHE_SIZE` entries (label sets
:data:`LABEL_SETS_CACHE_SIZE`) and starts over, emptied, when it is full. Identity: a series text
(and a canonical ``{...}`` label set, across series) comes out as one shared, read-only dict, the
same object on every page while the memory holds it; :mod:`promwatch.emf.targetcache` states
what the translation builds on that.

Not locked: the scrape cycle's worker threads share one memory. Each operation on a cache is
one dict operation (atomic under the GIL); two threads that miss the same key both parse it and
the later one's result is kept, equal to the other's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from promwatch.exposition.lexer import Series

SERIES_CACHE_SIZE = 262_144
"""Entries kept per cache before it starts over: room for the largest pages (kube-state-metrics,
cAdvisor) while bounding a warm Lambda's memory (about 50 MB per 100k series of four labels)."""

LABEL_SETS_CACHE_SIZE = 65_536
"""Parsed ``{...}`` label sets kept per format. They pay off where label sets repeat across
metrics; on pages where nearly every set is unique they would only duplicate the series keys."""

Comment = tuple[bool, str, str] | None
"""A text-format comment line parsed: (is HELP, metric name, help text or family type); None
for a comment that is neither HELP nor TYPE."""


class ParserMemory:
    """The parsed pieces of pages, kept for the next pages (see the module docstring).

    Attributes
    ----------
    text_series, openmetrics_series
        Series text (``name{a="b"}``) -> (metric name, shared label dict), per format.
    text_label_sets, openmetrics_label_sets
        Canonical ``{...}`` text -> its shared label dict, per format.
    text_comments
        A text-format comment line -> its :data:`Comment`.
    text_names
        Metric names already found valid.
    openmetrics_groups
        (varying label, series text) -> the sorted labels naming its OpenMetrics label group.
    openmetrics_bounds
        A histogram bucket's ``le`` text -> its number.
    """

    __slots__ = (
        "openmetrics_bounds", "openmetrics_groups", "openmetrics_label_sets", "openmetrics_series", "text_comments",
        "text_label_sets", "text_names", "text_series",
    )

    def __init__(self) -> None:
        self.text_series: dict[str, Series] = {}
        self.text_comments: dict[str, Comment] = {}
        self.text_names: dict[str, bool] = {}
        self.text_label_sets: dict[str, dict[str, str]] = {}
        self.openmetrics_series: dict[str, Series] = {}
        self.openmetrics_label_sets: dict[str, dict[str, str]] = {}
        self.openmetrics_groups: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
        self.openmetrics_bounds: dict[str, float] = {}

    def sizes(self) -> dict[str, int]:
        """Entries in each cache, by attribute name (for tests and diagnostics)."""
        return {name: len(getattr(self, name)) for name in self.__slots__}
