"""Histogram and gauge histogram families: each series' buckets -> a distribution (:mod:`promwatch.emf.histograms`)."""
from __future__ import annotations

from collections.abc import Sequence
from operator import sub

from promwatch.emf.buckets import HistogramSeries, bucket_shape
from promwatch.emf.columns import HistogramLayout, histogram_layout, laid_out_values
from promwatch.emf.histograms import cumulative_distribution
from promwatch.emf.increase import is_new_in_window, is_reset, tidy
from promwatch.emf.labels import LabelSet
from promwatch.emf.model import Distribution
from promwatch.emf.translator import Translator, finite
from promwatch.exposition.classic import HistogramProblem, bucket_bound, counts_consistent
from promwatch.exposition.model import Exemplar, Family, Sample
from promwatch.state.model import HistogramBaseline

_new_tuple = tuple.__new__

def collect_histograms(translator: Translator, family: Family, gauge: bool) -> dict[LabelSet, HistogramSeries]:
    name = family.name
    bucket_name, sum_name, count_name = (
        (name + "_bucket", name + "_gsum", name + "_gcount") if gauge
        else (name + "_bucket", name + "_sum", name + "_count")
    )
    created_name = name + "_created"
    series: dict[LabelSet, HistogramSeries] = {}
    # bucket label mapping -> (mapping, label set without le, le), across scrapes
    buckets = translator.cache.buckets
    le = 0.0
    entry: HistogramSeries | None = None
    for sample in family.samples:
        sample_name, labels, value, timestamp, exemplar = sample
        if sample_name == bucket_name:
            found = buckets.get(id(labels))
            if found is not None and found[0] is labels:
                _, label_set, le = found
            else:
                bound = bucket_bound(labels.get("le"))
                if bound is None:
                    translator.drop("malformed", sample_name, labels, f"bucket bound le={labels.get('le')!r}")
                    continue
                le = bound
                own = dict(labels)
                del own["le"]
                label_set = translator.label_set_by_content(own)
                buckets[id(labels)] = (labels, label_set, le)
            # a series' buckets come one after the other: the previous entry is usually it
            if entry is None or entry.labels is not label_set:
                entry = series.get(label_set)
                if entry is None:
                    entry = series[label_set] = HistogramSeries(label_set)
            entry.buckets[le] = value
            if exemplar is not None:
                entry.exemplars.append((name, exemplar))
        elif sample_name in (sum_name, count_name, created_name):
            label_set = translator.label_set(labels)
            if entry is None or entry.labels is not label_set:
                entry = series.get(label_set)
                if entry is None:
                    entry = series[label_set] = HistogramSeries(label_set)
            if sample_name == sum_name:
                entry.sum = value
            elif sample_name == count_name:
                entry.count = value
            else:
                entry.created = value
        else:
            translator.gauge(sample, family)
            continue
        if timestamp is not None and entry.timestamp is None:
            entry.timestamp = timestamp
    return series


def histogram_family(translator: Translator, family: Family, external: dict[LabelSet, float]) -> None:
    layout_key = ("histogram", family.name)
    plain = not external and not translator.honor_timestamps
    if plain:
        layout = translator.cache.histogram_layouts.get(layout_key)
        if layout is not None:
            values = laid_out_values(family.samples, layout)
            if values is not None and laid_out_histograms(translator, family, layout, values):
                return
    series = collect_histograms(translator, family, gauge=False)
    for label_set, entry in series.items():
        histogram_series(translator, family, entry, external.get(label_set))
    if plain:
        layout = histogram_layout(family, translator.cache.buckets, translator.label_set)
        if layout is not None:
            translator.cache.histogram_layouts[layout_key] = layout


def laid_out_histograms(translator: Translator, family: Family, layout: HistogramLayout, values: list[float]) -> bool:
    """:func:`histogram_family` of a family laid out as on the previous scrape: each series'
    numbers taken from the values by position (:mod:`promwatch.emf.columns`). False, having
    done nothing, when a series' counts are not consistent: the per-sample pass reports it."""
    series = layout.series
    cumulatives = [buckets_of(values) for _, buckets_of, _, _, _ in series]
    counts = [values[count_at] for *_, count_at in series]
    if not all(map(counts_consistent, cumulatives, counts)):
        return False
    for (label_set, _, bounds, sum_at, _), cumulative, count in zip(series, cumulatives, counts, strict=True):
        histogram_point(translator, family, label_set, bounds, cumulative, count, values[sum_at], None, None, ())
    return True


def histogram_series(translator: Translator, family: Family, entry: HistogramSeries, external_created: float | None) -> None:
    shape = bucket_shape(entry, translator.layouts)
    if isinstance(shape, HistogramProblem):
        translator.drop(shape.reason, family.name, entry.labels.values, shape.detail)
        return
    bounds, cumulative, count = shape
    created = entry.created if entry.created is not None else external_created
    histogram_point(translator, family, entry.labels, bounds, cumulative, count, entry.sum, created, entry.timestamp,
                         entry.exemplars)


def histogram_point(
    translator: Translator, family: Family, labels: LabelSet, bounds: tuple[float, ...], cumulative: tuple[float, ...],
    count: float, exposed_sum: float | None, created: float | None, timestamp: float | None,
    exemplars: Sequence[tuple[str, Exemplar]],
) -> None:
    """The baseline and the distribution of one histogram series (buckets checked finite)."""
    name = family.name
    total = exposed_sum if exposed_sum is not None and finite(exposed_sum) else None
    baseline_key = name + labels.key
    if baseline_key in translator.histograms:
        translator.drop("duplicate_series", name, labels.values)
        return
    translator.histograms[baseline_key] = _new_tuple(  # HistogramBaseline(...), without a Python call
        HistogramBaseline, (bounds, cumulative, total or 0.0, count, created, None)
    )
    if exposed_sum is not None and total is None:
        translator.drop("non_finite", name + "_sum", labels.values, f"value {exposed_sum}; Sum taken from the buckets")
    prev = translator.prev_histograms.get(baseline_key)
    if prev is None:
        if not is_new_in_window(created, translator.window):
            return
        delta, delta_sum, delta_count = cumulative, total, count
    elif prev.bounds != bounds:
        delta, delta_sum, delta_count = cumulative, total, count
    else:
        delta = tuple(map(sub, cumulative, prev.buckets))  # same bounds: same lengths
        delta_count = count - prev.obs_count
        if delta_count < 0 or is_reset(delta, created, prev.created):
            delta, delta_sum, delta_count = cumulative, total, count
        else:
            delta_sum = tidy(total - prev.obs_sum) if total is not None else None
    distribution = cumulative_distribution(bounds, delta, delta_sum)
    if distribution is None:
        if delta_count <= 0:
            return
        mean = delta_sum / delta_count if delta_sum is not None else 0.0
        distribution = Distribution((mean,), (delta_count,), delta_sum, mean, mean)
    sample = _new_tuple(Sample, (name, labels.values, delta_count, timestamp, None))  # Sample(...)
    translator.emit(name, distribution, labels, sample, family, False, exemplars)


def gaugehistogram_family(translator: Translator, family: Family) -> None:
    name = family.name
    for entry in collect_histograms(translator, family, gauge=True).values():
        labels = entry.labels
        shape = bucket_shape(entry)
        if isinstance(shape, HistogramProblem):
            translator.drop(shape.reason, name, labels.values, shape.detail)
            continue
        bounds, cumulative, _ = shape
        total = entry.sum if entry.sum is not None and finite(entry.sum) else None
        distribution = cumulative_distribution(bounds, cumulative, total)
        sample = Sample(name, labels.values, 0.0, entry.timestamp)
        if distribution is not None:
            translator.emit(name, distribution, labels, sample, family, False, entry.exemplars)
        for suffix, value in (("_gsum", entry.sum), ("_gcount", entry.count)):
            if value is None:
                continue
            if finite(value):
                translator.emit(name + suffix, value, labels, sample, family, False)
            else:
                translator.drop("non_finite", name + suffix, labels.values, f"value {value}")
