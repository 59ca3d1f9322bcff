"""MetricGroups -> EMF documents that fit every limit, by splitting (never truncating).

A group that certainly fits one document (most do) is written directly, its text built from
the pieces of :mod:`promwatch.emf.jsontext`; any other is filled entry by entry, each measured.
Distributions become Values/Counts chunks by :mod:`promwatch.emf.chunks`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from itertools import chain
from typing import Any

from promwatch.emf.chunks import distribution_chunks, single_chunk
from promwatch.emf.errors import EmfError
from promwatch.emf.jsontext import (
    aws_member,
    document_text,
    emf_document,
    emf_number,
    members_text,
    metric_definition,
    metrics_format,
    serialize,
)
from promwatch.emf.model import Distribution, Metric, MetricGroup
from promwatch.emf.readonly import ReadOnlyDict, read_only_members
from promwatch.limits import (
    EMF_MAX_DIMENSIONS_PER_SET,
    EMF_MAX_EVENT_BYTES,
    EMF_MAX_METRICS_PER_DIRECTIVE,
    EMF_MAX_VALUES_PER_METRIC,
)


def _check_group(group: MetricGroup) -> None:
    if "_aws" in group.dimensions or "_aws" in group.properties or any(m.name == "_aws" for m in group.metrics):
        raise EmfError(
            f"a dimension, property or metric named '_aws' in namespace {group.namespace!r} would replace the "
            "EMF metadata member; expected another name (the translation publishes such a label as _aws_label)"
        )
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
    """A document under construction, tracking its serialized size; :meth:`finished` gives it."""

    __slots__ = ("body", "definitions", "group", "size")

    def __init__(self, group: MetricGroup) -> None:
        self.group = group
        self.definitions: list[ReadOnlyDict] = []
        aws, _ = aws_member(int(group.timestamp_ms), group.namespace, group.dimension_sets, ())
        self.body: dict[str, Any] = {"_aws": aws}
        self.body.update(read_only_members(group.properties))
        self.body.update(read_only_members(group.dimensions))
        self.size = len(serialize(self.body).encode())

    def finished(self) -> dict[str, Any]:
        """The document, its (read-only) ``_aws`` member holding the definitions added."""
        group = self.group
        self.body["_aws"] = aws_member(int(group.timestamp_ms), group.namespace, group.dimension_sets, self.definitions)[0]
        return self.body


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


_HeadKey = tuple[int, str, tuple[tuple[str, ...], ...], tuple[tuple[str, str, int], ...]]
_Head = tuple[dict[str, Any], str | None, str]
# Module-level by design, as the memos of promwatch.emf.jsontext: a head is a pure function of
# immutable values, and read-only, so the documents of any call may share it.
_HEADS: dict[_HeadKey, _Head] = {}
_HEADS_SIZE = 4096
"""(timestamp, namespace, dimension sets, metric definitions) -> (``_aws`` member, its JSON
as ``{"_aws":{...}}`` without the closing brace, and the :func:`metrics_format` of its metrics;
the JSON is None when a name is not a string); bounded, it starts over when full."""


def _head(group: MetricGroup, metrics: list[Metric]) -> _Head:
    definitions = [metric_definition(name, unit, resolution) for name, _, unit, resolution in metrics]
    aws, text = aws_member(int(group.timestamp_ms), group.namespace, group.dimension_sets, definitions)
    try:
        metrics_text = metrics_format([metric.name for metric in metrics]) if text is not None else ""
    except TypeError:  # a name that is not a string: the encoder decides
        text, metrics_text = None, ""
    return aws, text, metrics_text


def _single_document(group: MetricGroup) -> list[dict[str, Any]]:
    """The one document of a group known to fit (same layout as the splitting path), with
    its JSON text built alongside (see :class:`EmfDocument`).

    Documents with the same timestamp, namespace, dimension sets and metric definitions share
    one (read-only) ``_aws`` member, built once.
    """
    values: list[Any] = []
    readings: list[str] = []
    included: list[Metric] = []
    finite = True
    for metric in group.metrics:
        value = metric.value
        if isinstance(value, Distribution):
            single = single_chunk(value)
            if single is None:
                continue
            chunk, text = single
            values.append(chunk)
            if text is None:
                finite = False
            else:
                readings.append(text)
        else:
            number = emf_number(value)
            values.append(number)
            if number - number != 0:  # NaN, +-Inf: the encoder refuses them
                finite = False
            readings.append(repr(number))
        included.append(metric)
    if not included:
        return []
    key = (
        int(group.timestamp_ms),
        group.namespace,
        tuple(map(tuple, group.dimension_sets)),
        tuple([(name, unit, resolution) for name, _, unit, resolution in included]),
    )
    known = _HEADS.get(key)
    if known is None:
        if len(_HEADS) >= _HEADS_SIZE:
            _HEADS.clear()
        known = _HEADS[key] = _head(group, included)
    aws, head, metrics_text = known
    body: dict[str, Any] = {"_aws": aws}
    # the caller's lists and dicts (exemplars) are not shared: the document's text is kept
    properties, dimensions = read_only_members(group.properties), read_only_members(group.dimensions)
    body.update(properties)
    body.update(dimensions)
    # A key in two of _aws/properties/dimensions would be one member: only the dict knows.
    distinct = len(body) == 1 + len(properties) + len(dimensions)
    for metric, value in zip(included, values):  # noqa: B905 - same length by construction
        body[metric.name] = value
    if not distinct or not finite or head is None:
        return [emf_document(body, None)]
    try:
        members = members_text(chain(properties.items(), dimensions.items()))
    except TypeError:  # a key that is not a string: the encoder decides
        return [emf_document(body, None)]
    return [emf_document(body, document_text(head, members, metrics_text, tuple(readings)))]


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
    _check_group(group)
    # Most groups fit one document by far: build it directly, without measuring every entry.
    if _fits_one_document(group):
        return _single_document(group)
    directives = _directive_chunks(group)
    if directives is not None:
        return [document for chunk in directives for document in _single_document(chunk)]
    return _split_documents(group)


def _split_documents(group: MetricGroup) -> list[dict[str, Any]]:
    """The documents of any group: each filled with the next entries that fit, in order."""
    # Each "entry" is a (name, definition, value) that must go in some document; a metric
    # appears at most once per document.
    pending: list[tuple[str, ReadOnlyDict, Any]] = []
    for metric in group.metrics:
        definition = metric_definition(metric.name, metric.unit, metric.storage_resolution)
        if isinstance(metric.value, Distribution):
            for chunk in distribution_chunks(metric.value):
                pending.append((metric.name, definition, chunk))
        else:
            pending.append((metric.name, definition, emf_number(float(metric.value))))

    documents: list[dict[str, Any]] = []
    while pending:
        doc = _Document(group)
        leftover: list[tuple[str, ReadOnlyDict, Any]] = []
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
        documents.append(doc.finished())
        pending = leftover
    return documents


def write(groups: Iterable[MetricGroup]) -> list[dict[str, Any]]:
    """:func:`write_group` over many groups, in order.

    The documents (of this call and others) may share their ``_aws`` member (same timestamp,
    namespace, dimension sets and metrics): it is read-only, as every dict and list nested in a
    document (changing one raises :class:`~promwatch.emf.errors.EmfReadOnlyError`;
    ``copy.deepcopy`` a document to edit it deeply).
    """
    out: list[dict[str, Any]] = []
    for group in groups:
        out.extend(write_group(group))
    return out
