"""Raw series -> what each one is: a counter, a gauge, or a part of a classic histogram (pure).

The type of a series is its family's type in ``/api/v1/metadata`` when the server knows it
(``counter``; ``histogram``: ``_bucket``/``_sum``/``_count``; ``summary``: ``_sum``/``_count``
are counters, the quantiles gauges; anything else a gauge). Without metadata -- history
imported with ``promtool``, or from targets the server no longer scrapes -- the names decide,
as the OpenMetrics conventions have them:

* ``<name>_total`` is a counter;
* ``<name>_bucket`` with an ``le`` label is a bucket of the histogram ``<name>``, and
  ``<name>_sum``/``<name>_count`` next to such buckets its sum and count;
* ``<name>_sum``/``<name>_count`` next to series of ``<name>`` with a ``quantile`` label are a
  summary's, counted as counters;
* ``_created`` series of those are left out (the live path only uses them to spot resets);
* everything else is a gauge. A counter not named ``_total`` is then taken for a gauge: give
  the server's metadata, or name such counters ``_total``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from promwatch.exposition.classic import bucket_bound
from promwatch.scrape.backfill.source import Series

__all__ = ["Classified", "HistogramSeries", "PlainSeries", "classify"]

_SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created", "_info")


@dataclass(slots=True)
class PlainSeries:
    """A counter or gauge: the metric name it publishes, its labels (without ``__name__``) and samples."""

    name: str
    labels: dict[str, str]
    samples: list[tuple[int, float]]


@dataclass(slots=True)
class HistogramSeries:
    """One classic histogram series: its cumulative buckets by bound, ``_sum`` and ``_count`` samples."""

    name: str
    labels: dict[str, str]
    buckets: dict[float, dict[int, float]] = field(default_factory=dict)
    sums: dict[int, float] = field(default_factory=dict)
    counts: dict[int, float] = field(default_factory=dict)

    def times(self) -> list[int]:
        """Every time some bucket has a sample, in order."""
        return sorted({t for samples in self.buckets.values() for t in samples})


@dataclass(slots=True)
class Classified:
    """The series of one read, by kind; ``by_names`` counts the families typed by their names."""

    counters: list[PlainSeries] = field(default_factory=list)
    gauges: list[PlainSeries] = field(default_factory=list)
    histograms: list[HistogramSeries] = field(default_factory=list)
    by_names: set[str] = field(default_factory=set)
    malformed: int = 0


def _family(name: str, types: Mapping[str, str]) -> tuple[str, str] | None:
    """(family name, type) from the metadata, by the series name or its name without a suffix."""
    if name in types:
        return name, types[name]
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in types:
            return name[: -len(suffix)], types[name[: -len(suffix)]]
    return None


def _kind(name: str, labels: Mapping[str, str], types: Mapping[str, str],
          bucket_bases: set[str], quantile_bases: set[str], counter_bases: set[str]) -> tuple[str, str, bool]:
    """(kind, family name, typed by names): kind is counter, gauge, bucket, sum, count or skip."""
    known = _family(name, types)
    if known is not None:
        family, kind = known
        suffix = name[len(family):]
        if suffix == "_created" and kind in ("counter", "histogram", "summary"):
            return "skip", family, False
        if kind == "counter":
            return "counter", family, False
        if kind == "histogram" and suffix in ("_bucket", "_sum", "_count"):
            return ("bucket" if suffix == "_bucket" else suffix[1:]), family, False
        if kind == "summary" and suffix in ("_sum", "_count"):
            return "counter", family, False
        return "gauge", family, False
    if name.endswith("_total"):
        return "counter", name[:-6], True
    base = name.rsplit("_", 1)[0]
    if name.endswith("_bucket") and "le" in labels:
        return "bucket", base, True
    if name.endswith(("_sum", "_count")) and base in bucket_bases:
        return name.rsplit("_", 1)[1], base, True
    if name.endswith(("_sum", "_count")) and base in quantile_bases:
        return "counter", base, True
    if name.endswith("_created") and (base in bucket_bases or base in quantile_bases or base in counter_bases):
        return "skip", base, True
    return "gauge", name, True


def classify(series: Iterable[Series], types: Mapping[str, str]) -> Classified:
    """Sort the series of a read into counters, gauges and histograms (see the module docstring).

    A bucket whose ``le`` is not a number is counted in ``malformed`` and left out.
    """
    series = list(series)
    bucket_bases = {s.labels.get("__name__", "")[:-7] for s in series
                    if s.labels.get("__name__", "").endswith("_bucket") and "le" in s.labels}
    quantile_bases = {s.labels.get("__name__", "") for s in series if "quantile" in s.labels}
    counter_bases = {s.labels.get("__name__", "")[:-6] for s in series if s.labels.get("__name__", "").endswith("_total")}
    out = Classified()
    histograms: dict[tuple[str, frozenset[tuple[str, str]]], HistogramSeries] = {}
    for entry in series:
        name = entry.labels.get("__name__", "")
        labels = {k: v for k, v in entry.labels.items() if k != "__name__"}
        kind, family, by_names = _kind(name, labels, types, bucket_bases, quantile_bases, counter_bases)
        if by_names:
            out.by_names.add(family)
        if kind == "counter":
            out.counters.append(PlainSeries(name, labels, entry.samples))
        elif kind == "gauge":
            out.gauges.append(PlainSeries(name, labels, entry.samples))
        elif kind in ("bucket", "sum", "count"):
            bound = bucket_bound(labels.pop("le", "")) if kind == "bucket" else None
            if kind == "bucket" and bound is None:
                out.malformed += 1
                continue
            key = (family, frozenset(labels.items()))
            histogram = histograms.get(key)
            if histogram is None:
                histogram = histograms[key] = HistogramSeries(family, labels)
            samples = dict(entry.samples)
            if kind == "bucket":
                histogram.buckets.setdefault(bound, {}).update(samples)  # type: ignore[arg-type]
            elif kind == "sum":
                histogram.sums.update(samples)
            else:
                histogram.counts.update(samples)
    # a _sum/_count whose histogram has no bucket in this read (relabelled away, say) is a counter
    for histogram in histograms.values():
        if histogram.buckets:
            out.histograms.append(histogram)
        else:
            for suffix, samples in (("_sum", histogram.sums), ("_count", histogram.counts)):
                if samples:
                    out.counters.append(PlainSeries(histogram.name + suffix, histogram.labels, sorted(samples.items())))
    return out
