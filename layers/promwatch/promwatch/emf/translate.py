"""One scrape's families + the previous baselines -> EMF documents + new baselines + drops.

Per family type (decisions documented here for users):

* ``gauge``, ``unknown``: every sample passes through as a metric named as exposed.
* ``info``: the ``<name>_info`` sample (value 1) passes through as a gauge; its labels are
  dimensions like any other series' labels (so each distinct info is its own metric, as in
  Prometheus; list a label in ``log_only_labels`` to keep it out of the dimensions).
* ``stateset``: one gauge per state (0/1) named as the family, its state label published as
  the dimension ``state``.
* ``counter``: the increase since the previous scrape (:mod:`promwatch.emf.increase`),
  named as exposed (``_total`` kept).
* ``histogram``: a distribution of the observations between the two scrapes under the
  family name (:mod:`promwatch.emf.histograms`), Sum = ``_sum`` increase, Count =
  ``_count`` increase. An interval without observations publishes no data point (a
  distribution cannot be empty).
* ``gaugehistogram``: a distribution of the current bucket counts (Sum = ``_gsum``), plus
  ``_gsum`` and ``_gcount`` as gauges.
* ``summary``: quantiles as gauges with their ``quantile`` dimension; ``_sum``/``_count`` as
  increases.
* ``_created`` samples (inside an OpenMetrics family, or the text format's separate
  ``<name>_created`` gauge family next to a counter, histogram or summary) refine resets and
  new series; they are not published themselves.
* Exemplars: their labels (trace ids) and value go to the log-only property ``exemplars``
  (a list of ``{"metric": name, <labels>, "value": v}``).
* Series sharing a label set (and timestamp and dimension sets) share one document.
* ``up``, ``scrape_duration_seconds``, ``scrape_samples_scraped`` and
  ``scrape_samples_post_metric_relabeling`` are always published (not subject to
  ``metric_declarations``), dimensioned by the target labels, so ``up`` alarms always work.
* Timestamps: the scrape time, or with ``honor_timestamps`` the exposed one; exposed
  timestamps more than 14 days old or 2 hours ahead are dropped (CloudWatch would).
* Drops (each counted in :attr:`Translation.dropped`): NaN/+-Inf values, invalid
  dimensions, metric names CloudWatch refuses (:mod:`promwatch.emf.identifiers`: a control
  character, blank, too long), duplicate series, undeclared metrics, out-of-range
  timestamps, events too large even alone, malformed histograms. Baselines are kept for
  every counted series even when its metric is not published, so a later change of
  configuration does not count old history as new.
"""
from __future__ import annotations

from collections.abc import Sequence

from promwatch.emf.config import EmfSettings
from promwatch.emf.counters import counter_family, summary_family
from promwatch.emf.gauges import plain_gauges, stateset_family
from promwatch.emf.histogram_families import gaugehistogram_family, histogram_family
from promwatch.emf.labels import LabelSet
from promwatch.emf.target import ScrapeStats, TargetInfo, Translation
from promwatch.emf.targetcache import TranslationMemory
from promwatch.emf.translator import Translator
from promwatch.exposition.model import Family
from promwatch.gcpause import collector_paused
from promwatch.state.model import TargetBaselines

_CUMULATIVE_TYPES = ("counter", "histogram", "summary")


def _translate_families(translator: Translator, families: Sequence[Family]) -> None:
    cumulative_names = {f.name for f in families if f.type in _CUMULATIVE_TYPES}
    cumulative_names.update(f.name[:-6] for f in families if f.type == "counter" and f.name.endswith("_total"))
    external: dict[str, dict[LabelSet, float]] = {}
    for family in families:
        if (
            family.type in ("gauge", "unknown")
            and family.name.endswith("_created")
            and family.name[:-8] in cumulative_names
        ):
            external[family.name[:-8]] = translator.created_values(family.samples, family.name)
    for family in families:
        kind = family.type
        if kind == "counter":
            base = family.name[:-6] if family.name.endswith("_total") else family.name
            counter_family(translator, family, external.get(base, {}))
        elif kind == "histogram":
            histogram_family(translator, family, external.get(family.name, {}))
        elif kind == "summary":
            summary_family(translator, family, external.get(family.name, {}))
        elif kind == "gaugehistogram":
            gaugehistogram_family(translator, family)
        elif kind == "stateset":
            stateset_family(translator, family)
        elif family.name.endswith("_created") and family.name[:-8] in external:
            continue
        elif not translator.custom_sets and not translator.honor_timestamps:
            plain_gauges(translator, family)
        else:
            for sample in family.samples:
                translator.gauge(sample, family)


def translate(
    families: Sequence[Family],
    *,
    target: TargetInfo,
    previous: TargetBaselines | None,
    settings: EmfSettings,
    now_ms: int,
    scrape: ScrapeStats | None = None,
    memory: TranslationMemory | None = None,
) -> Translation:
    """Translate one scrape of one target into EMF documents (pure).

    Pure in fact: the output depends on the arguments alone. ``memory`` only lets a warm
    process skip work it did on earlier scrapes (:mod:`promwatch.emf.targetcache`); the
    translation writes to it and to nothing else.

    Parameters
    ----------
    families
        The parsed (and relabelled) exposition; ``[]`` when the target is down.
    target
        The target: job, instance, target labels, ``honor_timestamps``, interval.
    previous
        The baselines the previous successful scrape stored; None for the first scrape.
    settings
        The job's ``emf:`` section.
    now_ms
        Scrape time, epoch milliseconds (EMF Timestamp unless timestamps are honoured).
    scrape
        What the scrape measured, for ``up`` and the other per-target metrics; None to
        publish none of them.
    memory
        What earlier translations worked out, to reuse and add to; None: a fresh memory,
        dropped after the call (the output is the same).

    Returns
    -------
    Translation
        Valid EMF documents, the baselines to store (``previous`` when the target is down),
        and every dropped sample with its reason.
    """
    translator = Translator(target, previous, settings, now_ms, memory)
    documents = translator.scrape_documents(scrape) if scrape is not None else []
    own = len(documents)
    if scrape is not None and not scrape.up:
        return Translation(documents, previous, [], own)
    with collector_paused():
        _translate_families(translator, families)
        documents.extend(translator.documents())
        baselines = translator.retained_baselines()
        dropped = translator.dropped
        del translator  # freed while the collector still sleeps: it then walks only the results
    return Translation(documents, baselines, dropped, own)
