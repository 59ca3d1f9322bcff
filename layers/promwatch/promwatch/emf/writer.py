"""MetricGroups -> EMF documents that fit every limit, by splitting (never truncating)."""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import chain
from json.encoder import encode_basestring
from operator import add, mul
from typing import Any

from promwatch.emf.errors import EmfError
from promwatch.emf.model import Distribution, Metric, MetricGroup
from promwatch.limits import (
    EMF_MAX_DIMENSIONS_PER_SET,
    EMF_MAX_EVENT_BYTES,
    EMF_MAX_METRICS_PER_DIRECTIVE,
    EMF_MAX_VALUES_PER_METRIC,
)

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class EmfDocument(dict[str, Any]):
    """A document as the writer made it: a plain ``dict`` that also carries its JSON text.

    :func:`serialize` returns that text instead of encoding the dict again. Changing the
    document's top level forgets the text; nested members must not be changed in place
    (copy the document first: ``dict(document)`` or ``copy.deepcopy``).
    """

    __slots__ = ("text",)
    text: str | None

    # No __init__ of its own (a Python-level one costs more than copying the members): make
    # one with emf_document(), or set ``text`` right after EmfDocument(members).

    def __setitem__(self, key: str, value: Any) -> None:
        self.text = None
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.text = None
        super().__delitem__(key)

    def __ior__(self, other: Any) -> EmfDocument:  # type: ignore[override,misc]
        self.text = None
        super().__ior__(other)
        return self

    def clear(self) -> None:
        self.text = None
        super().clear()

    def pop(self, *args: Any) -> Any:
        self.text = None
        return super().pop(*args)

    def popitem(self) -> tuple[str, Any]:
        self.text = None
        return super().popitem()

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.text = None
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.text = None
        super().update(*args, **kwargs)


def emf_document(body: dict[str, Any], text: str | None) -> EmfDocument:
    """An :class:`EmfDocument` of ``body``'s members and their JSON ``text`` (None: encoded
    when serialized)."""
    document = EmfDocument(body)
    document.text = text
    return document


def serialize(document: dict[str, Any]) -> str:
    """Compact JSON for one EMF document (one log event)."""
    if document.__class__ is EmfDocument:
        text = document.text
        if text is not None:
            return text
    return _dumps(document)


def _number(value: float) -> float | int:
    # Integral floats print as ints: "12" is shorter than "12.0" and the bill is per byte.
    value = float(value)
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


_EXACT_INTS = 2**53


def _numbers(values: Iterable[float]) -> list[float | int]:
    """:func:`_number` of each value, without a call per value (NaN and +-Inf stay floats)."""
    return [int(v) if v % 1 == 0 and -_EXACT_INTS < v < _EXACT_INTS else float(v) for v in values]


_NUMBERS_TEXT: dict[tuple[float, ...], tuple[list[float | int], str]] = {}
_COUNTS_TEXT: dict[tuple[float, ...], tuple[list[float | int], str]] = {}
_NUMBERS_TEXT_SIZE = 65_536
"""Values/Counts tuples already written -> (numbers, JSON): histograms repeat their bucket
layouts and counts from series to series and scrape to scrape, and small counts repeat in
every distribution; bounded, each starts over when full. Counts have their own cache, so the
values of distributions (mostly unique) do not push them out."""


def _numbers_and_text(values: tuple[float, ...], counts: bool = False) -> tuple[list[float | int], str]:
    """:func:`_numbers` of ``values`` (a fresh list) and their JSON without brackets; ``counts``:
    they are a distribution's Counts (remembered however short: they repeat)."""
    cache = _COUNTS_TEXT if counts else _NUMBERS_TEXT
    # short value tuples cost less to write than to look up (they rarely repeat)
    cached = values.__class__ is tuple and (counts or len(values) >= 4)
    known = cache.get(values) if cached else None
    if known is None:
        numbers = _numbers(values)
        known = (numbers, ",".join(map(repr, numbers)))
        if cached and "n" not in known[1]:  # finite only: NaN is never found again
            if len(cache) >= _NUMBERS_TEXT_SIZE:
                cache.clear()
            cache[values] = known
    return known[0].copy(), known[1]


def _single_value_chunk(dist: Distribution) -> tuple[dict[str, Any], str | None]:
    """:func:`_single_chunk` of a distribution of one value (with a positive count)."""
    value, count = dist.values[0], dist.counts[0]
    if dist.sum is None and dist.minimum is None and dist.maximum is None:
        return _bare_value_chunk(value, count)
    total = value * count if dist.sum is None else dist.sum  # fsum of one product is the product
    lo = hi = value
    if dist.minimum is not None and dist.minimum < lo:
        lo = dist.minimum
    if dist.maximum is not None and dist.maximum > hi:
        hi = dist.maximum
    number, times, chunk_max, chunk_min, chunk_count, chunk_total = _numbers((value, count, hi, lo, count, total))
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
    exact = _EXACT_INTS
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


def _single_chunk(dist: Distribution) -> tuple[dict[str, Any], str | None] | None:
    """The only chunk of a distribution of at most 100 values, as :func:`_distribution_chunks`
    yields it, and its JSON (None when a number is not finite: the encoder refuses those);
    None when the distribution has no observation."""
    values, counts = dist.values, dist.counts
    if len(values) == 1 == len(counts) and counts[0] > 0:
        return _single_value_chunk(dist)
    if len(values) != len(counts):
        list(_distribution_chunks(dist))  # raises, as the splitting path does
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
    chunk_values, values_text = _numbers_and_text(values)
    chunk_counts, counts_text = _numbers_and_text(counts, counts=True)
    count = math.fsum(counts)
    chunk_max, chunk_min, chunk_count, chunk_total = _numbers((hi, lo, count, chunk_sum))
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


def _distribution_chunks(dist: Distribution) -> Iterator[dict[str, Any]]:
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
            "Values": [_number(v) for v in values],
            "Counts": [_number(c) for c in counts],
            "Max": _number(hi),
            "Min": _number(lo),
            "Count": _number(math.fsum(counts)),
            "Sum": _number(chunk_sum),
        }


def _check_group(group: MetricGroup) -> None:
    for dimension_set in group.dimension_sets:
        if len(dimension_set) > EMF_MAX_DIMENSIONS_PER_SET:
            raise EmfError(
                f"dimension set {list(dimension_set)!r} has {len(dimension_set)} keys; "
                f"expected at most {EMF_MAX_DIMENSIONS_PER_SET}"
            )
        for key in dimension_set:
            if key not in group.dimensions:
                raise EmfError(f"dimension {key!r} has no value in {dict(group.dimensions)!r}")


class _Document:
    """A document under construction, tracking its serialized size."""

    __slots__ = ("body", "definitions", "size")

    def __init__(self, group: MetricGroup) -> None:
        self.definitions: list[dict[str, Any]] = []
        self.body: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(group.timestamp_ms),
                "CloudWatchMetrics": [
                    {
                        "Namespace": group.namespace,
                        "Dimensions": [list(s) for s in group.dimension_sets],
                        "Metrics": self.definitions,
                    }
                ],
            }
        }
        self.body.update(group.properties)
        self.body.update(group.dimensions)
        self.size = len(serialize(self.body).encode())


def _definition(metric: Metric) -> dict[str, Any]:
    definition: dict[str, Any] = {"Name": metric.name}
    if metric.unit and metric.unit != "None":
        definition["Unit"] = metric.unit
    if metric.storage_resolution == 1:
        definition["StorageResolution"] = 1
    return definition


def _entry_size(name: str, definition: dict[str, Any], value: Any) -> int:
    # ',"name":value' in the root plus ',{definition}' in the directive.
    return (
        len(serialize({name: value}).encode()) - 1
        + len(serialize(definition).encode()) + 1
    )


def _fits_one_document(group: MetricGroup) -> bool:
    """Whether ``group`` certainly fits one document: few enough metrics and values, unique
    names, and an upper bound of its serialized size within the event limit.

    The bound, computed without serializing: a JSON string takes at most 6 bytes per
    character (``\\u00XX``), a number at most 24, each metric its definition's punctuation;
    properties that are not strings (exemplars, ...) are measured exactly.
    """
    metrics = group.metrics
    if len(metrics) > EMF_MAX_METRICS_PER_DIRECTIVE:
        return False
    dimensions, properties = group.dimensions, group.properties
    text = len(group.namespace) + sum(map(len, dimensions)) + sum(map(len, dimensions.values()))
    for key, value in properties.items():
        text += len(key) + (len(value) if isinstance(value, str) else len(serialize(value).encode()))
    for dimension_set in group.dimension_sets:
        text += sum(map(len, dimension_set)) + 3 * len(dimension_set)
    numbers = 1
    names = set()
    for name, reading, unit, _ in metrics:  # a Metric is a NamedTuple: unpacking is cheapest
        if name in names or name in dimensions or name in properties:
            return False
        names.add(name)
        text += 2 * len(name) + len(unit) + 48
        if isinstance(reading, Distribution):
            if len(reading.values) > EMF_MAX_VALUES_PER_METRIC:
                return False
            numbers += 6 + 2 * len(reading.values)
        else:
            numbers += 1
    members = len(dimensions) + len(properties) + len(group.dimension_sets)
    return 6 * text + 24 * numbers + 8 * members + 128 <= EMF_MAX_EVENT_BYTES


def _definition_text(definition: dict[str, Any]) -> str:
    text = '{"Name":' + encode_basestring(definition["Name"])
    if "Unit" in definition:
        text += ',"Unit":' + encode_basestring(definition["Unit"])
    if "StorageResolution" in definition:
        text += ',"StorageResolution":1'
    return text + "}"


def _dimensions_text(dimension_sets: Iterable[Iterable[str]]) -> str:
    return "[" + ",".join("[" + ",".join(map(encode_basestring, s)) + "]" for s in dimension_sets) + "]"


_MEMBER_TEXT: dict[tuple[str, str], str] = {}
_MEMBER_TEXT_SIZE = 65_536
"""(key, string value) -> ``,"key":"value"``: dimensions and properties repeat from document to
document (cluster, namespace, rule names); bounded, it starts over when full."""


def _members_text(members: Iterable[tuple[str, Any]]) -> str:
    """``,"key":value`` for each member, as the encoder writes them (keys must be strings)."""
    parts = []
    cache = _MEMBER_TEXT
    for member in members:
        text = cache.get(member) if member[1].__class__ is str else None
        if text is None:
            key, value = member
            if value.__class__ is str:
                text = f",{encode_basestring(key)}:{encode_basestring(value)}"
                if len(cache) >= _MEMBER_TEXT_SIZE:
                    cache.clear()
                cache[member] = text
            else:
                text = f",{encode_basestring(key)}:{_dumps(value)}"
        parts.append(text)
    return "".join(parts)


_HeadKey = tuple[int, str, tuple[tuple[str, ...], ...], tuple[tuple[str, str, int], ...]]
_Head = tuple[dict[str, Any], str | None, list[str]]
_SharedHeads = dict[_HeadKey, _Head]
"""(timestamp, namespace, dimension sets, metric definitions) -> (``_aws`` member, its JSON
as ``{"_aws":{...}}`` without the closing brace, and each metric's ``,"name":``; the JSON is
None when a name is not a string)."""


def _head(group: MetricGroup, metrics: list[Metric]) -> _Head:
    definitions = [_definition(metric) for metric in metrics]
    aws = {
        "Timestamp": int(group.timestamp_ms),
        "CloudWatchMetrics": [
            {
                "Namespace": group.namespace,
                "Dimensions": [list(s) for s in group.dimension_sets],
                "Metrics": definitions,
            }
        ],
    }
    try:
        text: str | None = (
            f'{{"_aws":{{"Timestamp":{int(group.timestamp_ms)},"CloudWatchMetrics":[{{"Namespace":'
            f'{encode_basestring(group.namespace)},"Dimensions":{_dimensions_text(group.dimension_sets)},'
            f'"Metrics":[{",".join(map(_definition_text, definitions))}]}}]}}'
        )
        names = [f",{encode_basestring(metric.name)}:" for metric in metrics]
    except TypeError:  # a name that is not a string: the encoder decides
        text, names = None, []
    return aws, text, names


def _single_document(group: MetricGroup, shared: _SharedHeads | None = None) -> list[dict[str, Any]]:
    """The one document of a group known to fit (same layout as the splitting path), with
    its JSON text built alongside (see :class:`EmfDocument`).

    With ``shared`` (one :func:`write` call), documents with the same timestamp, namespace,
    dimension sets and metric definitions share one ``_aws`` member.
    """
    values: list[Any] = []
    readings: list[str] = []
    included: list[Metric] = []
    finite = True
    for metric in group.metrics:
        value = metric.value
        if isinstance(value, Distribution):
            single = _single_chunk(value)
            if single is None:
                continue
            chunk, text = single
            values.append(chunk)
            if text is None:
                finite = False
            else:
                readings.append(text)
        else:
            number = _number(value)
            values.append(number)
            if number - number != 0:  # NaN, +-Inf: the encoder refuses them
                finite = False
            readings.append(repr(number))
        included.append(metric)
    if not included:
        return []
    if shared is None:
        aws, head, names = _head(group, included)
    else:
        key = (
            int(group.timestamp_ms),
            group.namespace,
            tuple(map(tuple, group.dimension_sets)),
            tuple([(name, unit, resolution) for name, _, unit, resolution in included]),
        )
        known = shared.get(key)
        if known is None:
            known = shared[key] = _head(group, included)
        aws, head, names = known
    body: dict[str, Any] = {"_aws": aws}
    properties, dimensions = group.properties, group.dimensions
    body.update(properties)
    body.update(dimensions)
    # A key in two of _aws/properties/dimensions would be one member: only the dict knows.
    distinct = len(body) == 1 + len(properties) + len(dimensions)
    for metric, value in zip(included, values):  # noqa: B905 - same length by construction
        body[metric.name] = value
    if not distinct or not finite or head is None:
        return [emf_document(body, None)]
    try:
        members = _members_text(chain(properties.items(), dimensions.items()))
    except TypeError:  # a key that is not a string: the encoder decides
        return [emf_document(body, None)]
    return [emf_document(body, head + members + "".join(map(add, names, readings)) + "}")]


def _directive_chunks(group: MetricGroup) -> list[MetricGroup] | None:
    """``group`` cut into groups of :data:`EMF_MAX_METRICS_PER_DIRECTIVE` metrics, in order,
    when each of them certainly fits one document and every name is distinct; None otherwise.

    A group over the metrics limit and nothing else (a target's unlabelled metrics: ~200 on a
    node_exporter page) is then written as :func:`_split_documents` would write it (each
    document filled with the next metrics in order, up to the limit; a distribution without
    observations is no entry) but from the cached pieces of :func:`_single_document`, without
    measuring each entry.
    """
    if len(group.metrics) <= EMF_MAX_METRICS_PER_DIRECTIVE:
        return None
    metrics = [m for m in group.metrics if not isinstance(m.value, Distribution) or any(c > 0 for c in m.value.counts)]
    if len({m.name for m in metrics}) != len(metrics):
        return None
    chunks = [replace(group, metrics=metrics[start : start + EMF_MAX_METRICS_PER_DIRECTIVE])
              for start in range(0, len(metrics), EMF_MAX_METRICS_PER_DIRECTIVE)]
    return chunks if all(map(_fits_one_document, chunks)) else None


def write_group(group: MetricGroup) -> list[dict[str, Any]]:
    """Turn one group into EMF documents that each fit every EMF limit.

    Parameters
    ----------
    group
        Metrics sharing namespace, timestamp and dimension values.

    Returns
    -------
    list of dict
        Documents ready for :func:`serialize`. A distribution with more than 100 distinct
        values, more than 100 metrics, or more than 256 KiB of content is spread over several
        documents; the same metric name may then appear in several documents, which
        CloudWatch aggregates.

    Raises
    ------
    EmfError
        When a dimension set is too large or names a key without a value, or when a single
        metric cannot fit in one event even alone (the caller must drop and report it).
    """
    return _write_group(group, None)


def _write_group(group: MetricGroup, shared: _SharedHeads | None) -> list[dict[str, Any]]:
    _check_group(group)
    # Most groups fit one document by far: build it directly, without measuring every entry.
    if _fits_one_document(group):
        return _single_document(group, shared)
    directives = _directive_chunks(group)
    if directives is not None:
        return [document for chunk in directives for document in _single_document(chunk, shared)]
    return _split_documents(group)


def _split_documents(group: MetricGroup) -> list[dict[str, Any]]:
    """The documents of any group: each filled with the next entries that fit, in order."""
    # Each "entry" is a (name, definition, value) that must go in some document; a metric
    # appears at most once per document.
    pending: list[tuple[str, dict[str, Any], Any]] = []
    for metric in group.metrics:
        definition = _definition(metric)
        if isinstance(metric.value, Distribution):
            for chunk in _distribution_chunks(metric.value):
                pending.append((metric.name, definition, chunk))
        else:
            pending.append((metric.name, definition, _number(float(metric.value))))

    documents: list[dict[str, Any]] = []
    while pending:
        doc = _Document(group)
        leftover: list[tuple[str, dict[str, Any], Any]] = []
        for name, definition, value in pending:
            size = _entry_size(name, definition, value)
            if (
                name in doc.body
                or len(doc.definitions) >= EMF_MAX_METRICS_PER_DIRECTIVE
                or doc.size + size > EMF_MAX_EVENT_BYTES
            ):
                leftover.append((name, definition, value))
                continue
            doc.definitions.append(definition)
            doc.body[name] = value
            doc.size += size
        if not doc.definitions:
            name = leftover[0][0]
            raise EmfError(
                f"metric {name!r} does not fit in one {EMF_MAX_EVENT_BYTES}-byte EMF event "
                f"even alone (namespace {group.namespace!r}); expected smaller properties or dimensions"
            )
        documents.append(doc.body)
        pending = leftover
    return documents


def write(groups: Iterable[MetricGroup]) -> list[dict[str, Any]]:
    """:func:`write_group` over many groups, in order.

    The documents may share their ``_aws`` member (same timestamp, namespace, dimension sets
    and metrics): treat them as read-only, or copy one before changing it deeply.
    """
    out: list[dict[str, Any]] = []
    shared: _SharedHeads = {}
    for group in groups:
        out.extend(_write_group(group, shared))
    return out
