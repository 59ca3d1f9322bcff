"""Samples -> CloudWatch Embedded Metric Format documents (pure code).

The writer (:func:`write_group`) is shared by every producer of EMF in promwatch: the
Prometheus translation here and the Container Insights roll-ups. It splits output to fit the
limits in :mod:`promwatch.limits` before serializing; it never truncates. The dicts and lists
nested in the documents it and the translation make are read-only (changing one raises
:class:`EmfReadOnlyError`: copy a document with ``copy.deepcopy`` to edit it deeply; see
:class:`promwatch.emf.jsontext.EmfDocument`).

Translation of one scrape (pure: clock, config and previous state passed in)::

    translate(
        families: Sequence[Family],          # promwatch.exposition.parse(...) output, relabelled
        *,
        target: TargetInfo,                  # TargetInfo(job, instance, labels={}, honor_timestamps=False,
                                             #            scrape_interval_seconds=None)
        previous: TargetBaselines | None,    # promwatch.state; None = first scrape of this target
        settings: EmfSettings,               # the job's ``emf:`` section
        now_ms: int,                         # scrape time, epoch milliseconds
        scrape: ScrapeStats | None = None,   # ScrapeStats(up, duration_seconds, samples_scraped,
                                             #             samples_post_metric_relabeling)
        memory: TranslationMemory | None = None,  # what a warm process keeps between scrapes;
                                             #   None: nothing (the output is the same)
    ) -> Translation                         # Translation(documents: list[dict], baselines:
                                             #   TargetBaselines | None, dropped: list[Drop])

When ``scrape.up`` is False pass ``families=[]``: only ``up`` (0) and the other scrape
metrics are emitted and ``baselines`` is ``previous`` unchanged. Store
``translation.baselines`` when it is not None (``promwatch.state`` stores, with
``update_with_retry`` for optimistic races); log and self-report
``translation.drop_counts()``.

Where the translation's decisions are documented: :mod:`promwatch.emf.translate` (per family
type, grouping, scrape metrics, timestamps, drops), :mod:`promwatch.emf.increase` (counter
increases, resets, new series, ``_created``), :mod:`promwatch.emf.histograms` (distributions),
:mod:`promwatch.emf.labels` (dimensions, 30-key limit), :mod:`promwatch.emf.identifiers` (what
CloudWatch takes as names and dimension values, and the escaping of label values: the one home
of those rules for every producer), :mod:`promwatch.emf.naming` (namespace, units),
:mod:`promwatch.emf.config` (the ``emf:`` section). How a warm target goes
fast without changing the output: :mod:`promwatch.emf.targetcache` (what its series resolve
to, kept across scrapes in the :class:`TranslationMemory` passed in; the identity contract), :mod:`promwatch.emf.columns` (families laid out as on the previous
scrape, translated column by column), :mod:`promwatch.emf.documents` (documents written from
cached JSON pieces).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from promwatch.emf.errors import EmfConfigError, EmfError, EmfReadOnlyError, EmfValidationError
from promwatch.emf.identifiers import (
    EscapeError,
    check_dimension_value,
    dimension_name_problem,
    dimension_value_problem,
    escape_value,
    metric_name_problem,
    namespace_problem,
    unescape_value,
)
from promwatch.emf.jsontext import serialize
from promwatch.emf.model import Distribution, Metric, MetricGroup
from promwatch.emf.validate import problems, validate
from promwatch.emf.writer import write, write_group
from promwatch.lazyexports import lazy_exports

if TYPE_CHECKING:
    from promwatch.emf.config import EmfOutput, EmfSettings, LabelMatcher, MetricDeclaration
    from promwatch.emf.target import DROP_REASONS, Drop, ScrapeStats, TargetInfo, Translation
    from promwatch.emf.targetcache import TranslationMemory
    from promwatch.emf.translate import translate

# The writer serves every producer of EMF; the translation of scrapes (and its config models,
# baselines, parser types) only the scrape path: loaded on first use, so the insights and
# reconcile functions' cold starts do not pay for it. Take the function as
# ``from promwatch.emf import translate``: importing the submodule ``promwatch.emf.translate``
# first would bind the package attribute ``translate`` to the module instead.
__getattr__ = lazy_exports(__name__, globals(), (
    "promwatch.emf.config", "promwatch.emf.target", "promwatch.emf.targetcache", "promwatch.emf.translate"))

__all__ = [
    "DROP_REASONS",
    "Distribution",
    "Drop",
    "EmfConfigError",
    "EmfError",
    "EmfOutput",
    "EmfReadOnlyError",
    "EmfSettings",
    "EmfValidationError",
    "EscapeError",
    "LabelMatcher",
    "Metric",
    "MetricDeclaration",
    "MetricGroup",
    "ScrapeStats",
    "TargetInfo",
    "Translation",
    "TranslationMemory",
    "check_dimension_value",
    "dimension_name_problem",
    "dimension_value_problem",
    "escape_value",
    "metric_name_problem",
    "namespace_problem",
    "problems",
    "serialize",
    "translate",
    "unescape_value",
    "validate",
    "write",
    "write_group",
]
