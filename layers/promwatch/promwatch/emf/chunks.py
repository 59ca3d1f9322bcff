"""Distributions -> the Values/Counts chunks of EMF (at most 100 values each), with their text."""
from __future__ import annotations

import math
from collections.abc import Iterator
from operator import mul
from typing import Any

from promwatch.emf.jsontext import EXACT_INTS, emf_number, emf_numbers, numbers_and_text
from promwatch.emf.model import Distribution
from promwatch.limits import EMF_MAX_VALUES_PER_METRIC


def _single_value_chunk(dist: Distribution) -> tuple[dict[str, Any], str | None]:
    """:func:`single_chunk` of a distribution of one value (with a positive count)."""
    value, count = dist.values[0], dist.counts[0]
    if dist.sum is None and dist.minimum is None and dist.maximum is None:
        return _bare_value_chunk(value, count)
    total = value * count if dist.sum is None else dist.sum  # fsum of one product is the product
    lo = hi = value
    if dist.minimum is not None and dist.minimum < lo:
        lo = dist.minimum
    if dist.maximum is not None and dist.maximum > hi:
        hi = dist.maximum
    number, times, chunk_max, chunk_min, chunk_count, chunk_total = emf_numbers((value, count, hi, lo, count, total))
    chunk = {
        "Values": [number],
        "Counts": [times],
        "Max": chunk_max,
        "Min": chunk_min,
        "Count": chunk_count,
        "Sum": chunk_total,
    }
    value_text, count_text = repr(number), repr(times)
    check = hi - lo + count + total
    if check - check != 0 or "n" in value_text or "n" in count_text:
        return chunk, None
    max_text = value_text if hi == value else repr(chunk_max)
    min_text = value_text if lo == value else repr(chunk_min)
    total_text = value_text if total == value else count_text if total == count else repr(chunk_total)
    return chunk, (
        f'{{"Values":[{value_text}],"Counts":[{count_text}],"Max":{max_text},'
        f'"Min":{min_text},"Count":{count_text},"Sum":{total_text}}}'
    )


def _bare_value_chunk(value: float, count: float) -> tuple[dict[str, Any], str | None]:
    """:func:`_single_value_chunk` of a distribution of one value without Sum/Min/Max given
    (Max and Min are the value, Sum the value times the count), inline: one is made per
    Container Insights metric."""
    total = value * count
    exact = EXACT_INTS
    number = int(value) if value % 1 == 0 and -exact < value < exact else float(value)
    times = int(count) if count % 1 == 0 and -exact < count < exact else float(count)
    chunk_total = int(total) if total % 1 == 0 and -exact < total < exact else float(total)
    chunk = {"Values": [number], "Counts": [times], "Max": number, "Min": number, "Count": times, "Sum": chunk_total}
    value_text, count_text = repr(number), repr(times)
    check = value - value + count + total
    if check - check != 0 or "n" in value_text or "n" in count_text:
        return chunk, None
    total_text = value_text if total == value else count_text if total == count else repr(chunk_total)
    return chunk, (
        f'{{"Values":[{value_text}],"Counts":[{count_text}],"Max":{value_text},'
        f'"Min":{value_text},"Count":{count_text},"Sum":{total_text}}}'
    )


def single_chunk(dist: Distribution) -> tuple[dict[str, Any], str | None] | None:
    """The only chunk of a distribution of at most 100 values, as :func:`distribution_chunks`
    yields it, and its JSON (None when a number is not finite: the encoder refuses those);
    None when the distribution has no observation."""
    values, counts = dist.values, dist.counts
    if len(values) == 1 == len(counts) and counts[0] > 0:
        return _single_value_chunk(dist)
    if len(values) != len(counts):
        list(distribution_chunks(dist))  # raises, as the splitting path does
    if not counts or min(counts) <= 0:
        kept = [(v, c) for v, c in zip(values, counts) if c > 0]  # noqa: B905 - lengths checked
        if not kept:
            return None
        values, counts = tuple(v for v, _ in kept), tuple(c for _, c in kept)
    chunk_sum = math.fsum(map(mul, values, counts)) if dist.sum is None else dist.sum
    lo, hi = min(values), max(values)
    if dist.minimum is not None and dist.minimum < lo:
        lo = dist.minimum
    if dist.maximum is not None and dist.maximum > hi:
        hi = dist.maximum
    chunk_values, values_text = numbers_and_text(values)
    chunk_counts, counts_text = numbers_and_text(counts, counts=True)
    count = math.fsum(counts)
    chunk_max, chunk_min, chunk_count, chunk_total = emf_numbers((hi, lo, count, chunk_sum))
    chunk = {
        "Values": chunk_values,
        "Counts": chunk_counts,
        "Max": chunk_max,
        "Min": chunk_min,
        "Count": chunk_count,
        "Sum": chunk_total,
    }
    check = hi - lo + count + chunk_sum
    # The repr of a finite int or float has no "n"; those of inf and nan have.
    if check - check != 0 or "n" in values_text or "n" in counts_text:
        return chunk, None
    # Max/Min/Sum are often one of the values: equal numbers convert and print alike, so
    # their text is taken from the values' (float repr is the costly part here).
    first, last = values_text.partition(",")[0], values_text.rpartition(",")[2]
    max_text = last if hi == values[-1] else first if hi == values[0] else repr(chunk["Max"])
    min_text = first if lo == values[0] else repr(chunk["Min"])
    sum_text = first if chunk_sum == values[0] else last if chunk_sum == values[-1] else repr(chunk["Sum"])
    return chunk, (
        f'{{"Values":[{values_text}],"Counts":[{counts_text}],"Max":{max_text},'
        f'"Min":{min_text},"Count":{chunk["Count"]!r},"Sum":{sum_text}}}'
    )


def distribution_chunks(dist: Distribution) -> Iterator[dict[str, Any]]:
    """Split a distribution into Values/Counts chunks of at most 100 entries.

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
        values = [v for v, _ in chunk]
        counts = [c for _, c in chunk]
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
        if dist.minimum is not None:
            lo = min(lo, dist.minimum) if start == 0 else lo
        if dist.maximum is not None and start + EMF_MAX_VALUES_PER_METRIC >= len(pairs):
            hi = max(hi, dist.maximum)
        yield {
            "Values": [emf_number(v) for v in values],
            "Counts": [emf_number(c) for c in counts],
            "Max": emf_number(hi),
            "Min": emf_number(lo),
            "Count": emf_number(math.fsum(counts)),
            "Sum": emf_number(chunk_sum),
        }
