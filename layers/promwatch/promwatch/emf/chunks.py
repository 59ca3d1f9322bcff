"""Distributions -> the Values/Counts chunks of EMF (at most 100 values each), with their text.

:func:`values_counts_chunk` is the one builder of a chunk (its members and its JSON text): the
one chunk of a distribution of at most 100 values (:func:`single_chunk`, the writer's and the
translation's usual case) and each chunk of a larger one (:func:`distribution_chunks`) are made
by it.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from operator import mul

from promwatch.emf.jsontext import emf_numbers, numbers_and_text
from promwatch.emf.model import Distribution
from promwatch.emf.readonly import ReadOnlyDict, ReadOnlyList
from promwatch.limits import EMF_MAX_VALUES_PER_METRIC


def values_counts_chunk(
    values: tuple[float, ...], counts: tuple[float, ...], total: float, lo: float, hi: float
) -> tuple[ReadOnlyDict, str | None]:
    """A Values/Counts chunk, read-only (:class:`ReadOnlyDict`: its JSON goes into its
    document's text), and its JSON (None when a number is not finite: the encoder refuses those).

    Parameters
    ----------
    values, counts
        The chunk's values and their counts (each positive), as many of each, at most 100.
    total
        The chunk's Sum.
    lo, hi
        The chunk's Min and Max.
    """
    if len(values) == 1:  # one value (a Container Insights metric, a histogram of one bucket): no join, no cache
        count = counts[0]
        number, times, chunk_max, chunk_min, chunk_total = emf_numbers((values[0], count, hi, lo, total))
        chunk_values, chunk_counts, chunk_count = ReadOnlyList((number,)), ReadOnlyList((times,)), times
        values_text = first = last = repr(number)
        counts_text = count_text = repr(times)
    else:
        chunk_values, values_text = numbers_and_text(values)
        chunk_counts, counts_text = numbers_and_text(counts, counts=True)
        count = math.fsum(counts)
        chunk_max, chunk_min, chunk_count, chunk_total = emf_numbers((hi, lo, count, total))
        first, last = values_text.partition(",")[0], values_text.rpartition(",")[2]
        count_text = repr(chunk_count)
    chunk = ReadOnlyDict({
        "Values": chunk_values,
        "Counts": chunk_counts,
        "Max": chunk_max,
        "Min": chunk_min,
        "Count": chunk_count,
        "Sum": chunk_total,
    })
    check = hi - lo + count + total
    # The repr of a finite int or float has no "n"; those of inf and nan have.
    if check - check != 0 or "n" in values_text or "n" in counts_text:
        return chunk, None
    # Max/Min/Sum are often one of the values (or Sum the count): equal numbers convert and
    # print alike, so their text is taken from those (float repr is the costly part here).
    max_text = last if hi == values[-1] else first if hi == values[0] else repr(chunk_max)
    min_text = first if lo == values[0] else repr(chunk_min)
    sum_text = (
        first if total == values[0] else last if total == values[-1] else count_text if total == count
        else repr(chunk_total)
    )
    return chunk, (
        f'{{"Values":[{values_text}],"Counts":[{counts_text}],"Max":{max_text},'
        f'"Min":{min_text},"Count":{count_text},"Sum":{sum_text}}}'
    )


def single_chunk(dist: Distribution) -> tuple[ReadOnlyDict, str | None] | None:
    """The only chunk of a distribution of at most 100 values, as :func:`distribution_chunks`
    yields it, and its JSON (None when a number is not finite: the encoder refuses those);
    None when the distribution has no observation."""
    values, counts = dist.values, dist.counts
    minimum, maximum = dist.minimum, dist.maximum
    if len(values) == 1 == len(counts) and counts[0] > 0:  # one value: fsum of one product is the product
        value = values[0]
        lo = minimum if minimum is not None and minimum < value else value
        hi = maximum if maximum is not None and maximum > value else value
        return values_counts_chunk(values, counts, value * counts[0] if dist.sum is None else dist.sum, lo, hi)
    if len(values) != len(counts):
        list(distribution_chunks(dist))  # raises, as the splitting path does
    if not counts or min(counts) <= 0:
        kept = [(v, c) for v, c in zip(values, counts) if c > 0]  # noqa: B905 - lengths checked
        if not kept:
            return None
        values, counts = tuple(v for v, _ in kept), tuple(c for _, c in kept)
    total = math.fsum(map(mul, values, counts)) if dist.sum is None else dist.sum
    lo, hi = min(values), max(values)
    if minimum is not None and minimum < lo:
        lo = minimum
    if maximum is not None and maximum > hi:
        hi = maximum
    return values_counts_chunk(values, counts, total, lo, hi)


def distribution_chunks(dist: Distribution) -> Iterator[ReadOnlyDict]:
    """Split a distribution into read-only Values/Counts chunks of at most 100 entries.

    Sum/Count/Min/Max of each chunk describe that chunk; summed over the chunks, Sum and Count
    equal the whole distribution's (an explicit ``sum`` is shared out in proportion to each
    chunk's share of sum(value*count)).
    """
    pairs = [(v, c) for v, c in zip(dist.values, dist.counts, strict=True) if c > 0]
    if not pairs:
        return
    implied_total = math.fsum(v * c for v, c in pairs)
    for start in range(0, len(pairs), EMF_MAX_VALUES_PER_METRIC):
        chunk = pairs[start : start + EMF_MAX_VALUES_PER_METRIC]
        values = tuple(v for v, _ in chunk)
        counts = tuple(c for _, c in chunk)
        implied = math.fsum(v * c for v, c in chunk)
        if dist.sum is None:
            chunk_sum = implied
        elif len(pairs) <= EMF_MAX_VALUES_PER_METRIC:
            chunk_sum = dist.sum
        elif implied_total != 0:
            chunk_sum = dist.sum * implied / implied_total
        else:
            chunk_sum = dist.sum * math.fsum(counts) / math.fsum(c for _, c in pairs)
        lo, hi = min(values), max(values)
        if dist.minimum is not None and start == 0:
            lo = min(lo, dist.minimum)
        if dist.maximum is not None and start + EMF_MAX_VALUES_PER_METRIC >= len(pairs):
            hi = max(hi, dist.maximum)
        yield values_counts_chunk(values, counts, chunk_sum, lo, hi)[0]
