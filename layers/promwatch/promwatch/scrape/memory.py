"""What a warm execution environment remembers from scrape to scrape: :class:`WarmMemory`.

One object, owned by whoever runs the cycles -- :class:`~promwatch.scrape.runtime.ScrapeRuntime`
makes one at INIT and keeps it for the environment's life; a CLI run makes its own -- and
passed down explicitly: :func:`~promwatch.scrape.cycle.run_cycle` gives its parts to the
parser, to the relabelling and to the translation of every target. The runtime owns the rest of
what an environment keeps the same way (connection pool and its resolver threads, log stream and
``logs`` client, config, secrets, discovered targets: :class:`~promwatch.scrape.runtime.ScrapeRuntime`).

Nothing else of the scrape path keeps state between calls. The module-level memos left are of
pure functions of immutable arguments, each bounded, none changing any output:

- :mod:`promwatch.regex`: compiled regexes (``relabel_regex``, ``search_regex``,
  ``whole_regex``: ``functools.lru_cache``);
- :mod:`promwatch.emf.histograms`: bucket geometry of a bucket layout (``_geometry``, ``lru_cache``);
- :mod:`promwatch.exposition.classic`: the bound an ``le`` label's text reads as (``bucket_bound``,
  ``lru_cache`` of 4,096);
- :mod:`promwatch.emf.jsontext`: JSON text of Values/Counts tuples (``_NUMBERS_TEXT``,
  ``_COUNTS_TEXT``) and of string members (``_MEMBER_TEXT``);
- :mod:`promwatch.emf.writer`: the writer's heads (``_HEADS``: the read-only ``_aws`` member, its
  text and the metrics' format, by timestamp, namespace, dimension sets and definitions).

and :mod:`promwatch.gcpause` counts the open ``collector_paused`` blocks, as the collector it
pauses is the process'.

It only saves work: every output is the same with a fresh memory (a cold environment, or a test
that wants isolation: make a new one), an old one, or none -- but for one fallback: the
admitted series of a budgeted target when the state store cannot be read (see
:attr:`WarmMemory.admitted_series`). Each part is bounded by named sizes
and starts over when full; the identity contract the parts share (label mappings looked up by
``id()``, each held by the entry that names it) is stated in :mod:`promwatch.emf.targetcache`.
"""
from __future__ import annotations

from promwatch.emf.targetcache import TranslationMemory
from promwatch.exposition.memory import ParserMemory
from promwatch.scrape.budget import DimensionsKey

ADMITTED_TARGETS = 1_024
"""Targets whose admitted series a warm environment keeps (as many as a fan-out batch holds)."""


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
    admitted_series
        Per target key (``job|url``) of a job with a series budget: the admitted set this
        environment last committed with delivered documents (:mod:`promwatch.scrape.budget`).
        The state item is the truth (another invocation may have scraped the target since);
        this copy serves when the state store cannot be read, so the budget keeps the same
        series flowing instead of starting over. At most :data:`ADMITTED_TARGETS` targets,
        then it starts over.
    series_digests
        The digest of each CloudWatch metric a series budget met, by dimension set and name as
        the documents show them (:func:`promwatch.scrape.budget.admit`): shared by every target,
        at most :data:`~promwatch.scrape.budget.DIGEST_CACHE_SIZE` dimension sets, then it
        starts over.
    """

    __slots__ = ("admitted_series", "parser", "relabelled", "series_digests", "translation")

    def __init__(self) -> None:
        self.parser = ParserMemory()
        self.relabelled: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        self.translation = TranslationMemory()
        self.admitted_series: dict[str, dict[int, int]] = {}
        self.series_digests: dict[DimensionsKey, dict[str, int]] = {}

    def remember_admitted(self, target_key: str, admitted: dict[int, int]) -> None:
        """Keep ``admitted``, just committed for ``target_key`` (see :attr:`admitted_series`)."""
        if len(self.admitted_series) >= ADMITTED_TARGETS and target_key not in self.admitted_series:
            self.admitted_series.clear()
        self.admitted_series[target_key] = admitted
