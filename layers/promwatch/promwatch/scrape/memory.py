"""What a warm execution environment remembers from scrape to scrape: :class:`WarmMemory`.

One object, owned by whoever runs the cycles -- :class:`~promwatch.scrape.runtime.ScrapeRuntime`
makes one at INIT and keeps it for the environment's life; a CLI run makes its own -- and
passed down explicitly: :func:`~promwatch.scrape.cycle.run_cycle` gives its parts to the
parser, to the relabelling and to the translation of every target. Nothing else of the scrape
path keeps state between calls (the module-level memos left are of pure functions of immutable
arguments: compiled regexes, histogram bucket geometry, JSON text of numbers and members).

It only saves work: every output is the same with a fresh memory (a cold environment, or a test
that wants isolation: make a new one), an old one, or none. Each part is bounded by named sizes
and starts over when full; the identity contract the parts share (label mappings looked up by
``id()``, each held by the entry that names it) is stated in :mod:`promwatch.emf.targetcache`.
"""
from __future__ import annotations

from promwatch.emf.targetcache import TranslationMemory
from promwatch.exposition.memory import ParserMemory


class WarmMemory:
    """The parser's, the relabelling's and the translation's memory of one execution environment.

    Attributes
    ----------
    parser
        Parsed series, comments and label sets of earlier pages (per process: shared by every
        target, as exporters share series texts and label sets).
    relabelled
        One label mapping per distinct label set that relabelling produced, the same object on
        every scrape (as the parser's): at most
        :data:`~promwatch.exposition.memory.SERIES_CACHE_SIZE`, then it starts over.
    translation
        Per target: label sets, layouts and document members; per job's settings: metric units
        (:class:`~promwatch.emf.targetcache.TranslationMemory`).
    """

    __slots__ = ("parser", "relabelled", "translation")

    def __init__(self) -> None:
        self.parser = ParserMemory()
        self.relabelled: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        self.translation = TranslationMemory()
