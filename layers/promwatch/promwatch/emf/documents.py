"""A translation's groups -> EMF documents (pure).

The usual group -- every label a dimension (the default dimension set), scrape time, no
exemplars, no name clash, within the limits -- is written from cached JSON pieces of
:mod:`promwatch.emf.jsontext` (the one home of EMF JSON, which the writer builds from too): its
label set's members (kept per target across scrapes) and its shape's ``_aws`` member and
metrics format (shared by the documents of one translation). Any other group goes through the shared writer
(:func:`promwatch.emf.writer.write_group`), which makes the same document for a usual group
(``tests/unit/test_emf_translate_text.py`` checks).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, cast

from promwatch.emf.chunks import single_chunk
from promwatch.emf.errors import EmfError
from promwatch.emf.identifiers import metric_name_problem
from promwatch.emf.jsontext import (
    EXACT_INTS,
    EmfDocument,
    aws_member,
    document_text,
    emf_number,
    member_text,
    metric_definition,
    metrics_format,
)
from promwatch.emf.labels import LabelSet, LabelSets, invalid_dimension
from promwatch.emf.model import Distribution, Metric, MetricGroup
from promwatch.emf.naming import MetricNaming
from promwatch.emf.target import Drop, ScrapeStats
from promwatch.emf.writer import write_group
from promwatch.limits import EMF_MAX_EVENT_BYTES, EMF_MAX_METRICS_PER_DIRECTIVE, EMF_MAX_VALUES_PER_METRIC

_EXACT_FLOATS = float(EXACT_INTS)  # integral floats below it print as ints (float-to-float: the cheaper comparison)
DimensionSets = tuple[tuple[str, ...], ...]
Metrics: TypeAlias = dict[str, float | Distribution]
"""One group's metrics (name -> value) -- a plain dict: a page makes one per label set."""
GroupKey: TypeAlias = LabelSet | tuple[LabelSet, int, DimensionSets | None]
"""A group: its LabelSet alone for the usual group (scrape time, default dimensions), else
(label set, timestamp, dimension sets), whose (labels, timestamp, sets) are in ``shapes``."""
_ShapeKey = tuple[int, tuple[str, ...], tuple[str, ...]]
"""(timestamp, dimension keys, metric names) of plain documents that share their ``_aws``."""
_Head = tuple[dict[str, Any], str, str]


class GroupDocuments:
    """Writes the documents of one translation's groups.

    Parameters
    ----------
    namespace
        The CloudWatch namespace.
    units
        Metric name -> (unit, storage resolution).
    members
        Label set -> its members' JSON (``,"k":"v"...``; ``""`` when not plain), kept across
        scrapes by the target's cache.
    dropped
        Where groups too large even alone are reported (reason ``too_large``).
    """

    def __init__(
        self, namespace: str, units: dict[str, tuple[str, int]], members: dict[LabelSet, str], dropped: list[Drop]
    ) -> None:
        self.namespace = namespace
        self.units = units
        self.members = members
        self.dropped = dropped

    def documents(
        self,
        groups: dict[GroupKey, Metrics],
        shapes: dict[GroupKey, tuple[LabelSet, int, DimensionSets]],
        all_exemplars: dict[GroupKey, list[dict[str, Any]]],
        now_ms: int,
    ) -> list[dict[str, Any]]:
        """The documents of ``groups`` (in order); ``shapes`` and ``all_exemplars`` as the
        translator keeps them, ``now_ms`` the timestamp of the usual groups."""
        out: list[dict[str, Any]] = []
        heads: dict[_ShapeKey, _Head | None] = {}
        for key, metrics in groups.items():
            shape = shapes.get(key)
            exemplars = all_exemplars.get(key) if all_exemplars else None
            sets: DimensionSets
            if shape is None:  # the usual group: keyed by its LabelSet, scrape time, default dimensions
                labels, timestamp = cast(LabelSet, key), now_ms
                sets = (labels.dimension_keys,)
            else:
                labels, timestamp, sets = shape
            if not exemplars and len(sets) == 1 and sets[0] is labels.dimension_keys:
                document = self.plain_document(labels, timestamp, metrics, heads)
                if document is not None:
                    out.append(document)
                    continue
            out.extend(self.general_documents(labels, timestamp, sets, metrics, exemplars))
        return out

    def general_documents(
        self, labels: LabelSet, timestamp: int, sets: Sequence[Sequence[str]], metrics: Metrics,
        exemplars: list[dict[str, Any]] | None,
    ) -> list[dict[str, Any]]:
        """A group's documents through the writer: any dimension sets, exemplars, name clashes, splitting."""
        values = labels.values
        # a label named as a metric or as the EMF metadata (_aws) is published as <name>_label
        if "_aws" in values or not metrics.keys().isdisjoint(values):
            taken = {*metrics, "_aws"}
            values = {(f"{k}_label" if k in taken else k): v for k, v in values.items()}
            sets = [[f"{k}_label" if k in taken else k for k in s] for s in sets]
        properties: dict[str, Any]
        if len(sets) == 1 and len(sets[0]) == len(values):
            dimensions, properties = values, {}  # the common case: every label is a dimension
        else:
            used = {k for s in sets for k in s}
            dimensions = {k: v for k, v in values.items() if k in used}
            properties = {k: v for k, v in values.items() if k not in used}
        if exemplars:
            properties["exemplars"] = exemplars
        units = self.units
        metric_group = MetricGroup(
            self.namespace, timestamp, dimensions, sets,
            [Metric(name, value, *units[name]) for name, value in metrics.items()], properties,
        )
        try:
            return write_group(metric_group)
        except EmfError as exc:
            self.dropped.extend(Drop("too_large", name, labels.values, str(exc)) for name in metrics)
            return []

    def plain_document(
        self, labels: LabelSet, timestamp: int, metrics: Metrics, heads: dict[_ShapeKey, _Head | None]
    ) -> EmfDocument | None:
        """The one document of the usual group -- every label a dimension (the default
        dimension set), no exemplars, no name clash, within the limits -- built from cached
        JSON pieces; None for any other group (the writer's general path then makes it)."""
        members = self.members.get(labels)
        if members is None:
            members = self.members[labels] = _members_text(labels)
        if not members:
            return None
        shape = (timestamp, labels.dimension_keys, tuple(metrics))
        head = heads.get(shape)
        if head is None:
            if shape in heads:  # known not to be plain
                return None
            head = heads[shape] = self.document_head(*shape)
            if head is None:
                return None
        aws, head_text, metrics_text = head
        body: dict[str, Any] = {"_aws": aws}
        body.update(labels.values)
        readings: list[Any] = []  # each metric's reading: an int, a float or a chunk's text
        exact = _EXACT_FLOATS
        value: Any
        for name, value in metrics.items():
            if value.__class__ is float:
                # emf_number, inline: integral floats as ints
                if value.is_integer() and -exact < value < exact:
                    value = int(value)
                elif value - value != 0:  # an increase that overflowed to +-Inf
                    return None
                readings.append(value)
            elif isinstance(value, Distribution):
                if len(value.values) > EMF_MAX_VALUES_PER_METRIC:
                    return None
                single = single_chunk(value)
                if single is None:
                    return None
                value, chunk_text = single
                if chunk_text is None:
                    return None
                readings.append(chunk_text)
            else:
                value = emf_number(value)
                if value - value != 0:
                    return None
                readings.append(value)
            body[name] = value
        text = document_text(head_text, members, metrics_text, tuple(readings))
        if len(text) > EMF_MAX_EVENT_BYTES // 4 and len(text.encode()) > EMF_MAX_EVENT_BYTES:
            return None
        document = EmfDocument(body)  # emf_document(body, text), without its call: one per group
        document.text = text
        return document

    def document_head(self, timestamp_ms: int, keys: tuple[str, ...], names: tuple[str, ...]) -> _Head | None:
        """The ``_aws`` member shared by the documents of this shape, the document's JSON up to
        it and the ``%`` format of its metrics (:mod:`promwatch.emf.jsontext`); None when such
        documents are not plain (a metric named as a label, too many metrics)."""
        if len(names) > EMF_MAX_METRICS_PER_DIRECTIVE or not set(names).isdisjoint(keys):
            return None
        units = self.units
        definitions = [metric_definition(name, *units[name]) for name in names]
        aws, head = aws_member(timestamp_ms, self.namespace, (keys,), definitions)
        if head is None:
            return None
        return aws, head, metrics_format(names)


def drop_invalid_names(
    groups: dict[GroupKey, Metrics],
    shapes: dict[GroupKey, tuple[LabelSet, int, DimensionSets]],
    all_exemplars: dict[GroupKey, list[dict[str, Any]]],
    units: dict[str, tuple[str, int]],
    dropped: list[Drop],
) -> None:
    """Take the metrics whose names CloudWatch refuses (:func:`metric_name_problem`) out of
    the translator's groups, reported in ``dropped`` (reason ``invalid_metric_name``).

    ``units`` holds every name in a group (the translator notes each one's unit), so each
    distinct name is checked once; a group left without metrics goes, with its exemplars.
    """
    invalid = {name: problem for name in units if (problem := metric_name_problem(name)) is not None}
    if not invalid:
        return
    for key in list(groups):
        metrics = groups[key]
        labels = key if isinstance(key, LabelSet) else key[0]
        for name in [name for name in metrics if name in invalid]:
            del metrics[name]
            dropped.append(Drop("invalid_metric_name", name, labels.values, invalid[name]))
        exemplars = all_exemplars.get(key)
        if not metrics:
            del groups[key]
            shapes.pop(key, None)
            all_exemplars.pop(key, None)
        elif exemplars:
            all_exemplars[key] = [entry for entry in exemplars if entry["metric"] not in invalid]


def scrape_documents(
    scrape: ScrapeStats, target_labels: dict[str, str], namespace: str, now_ms: int, naming: MetricNaming
) -> list[dict[str, Any]]:
    """The document of a target's ``up``, ``scrape_duration_seconds``, ``scrape_samples_scraped``
    and ``scrape_samples_post_metric_relabeling``, dimensioned by the target labels."""
    labels = LabelSets(target_labels, None).build({})
    keys = tuple(k for k in labels.dimension_keys if not invalid_dimension(k, labels.values[k]))
    dimensions = {k: labels.values[k] for k in keys}
    properties = {k: v for k, v in labels.values.items() if k not in dimensions}
    readings = (
        ("up", 1.0 if scrape.up else 0.0, "None"),
        ("scrape_duration_seconds", scrape.duration_seconds, "Seconds"),
        ("scrape_samples_scraped", float(scrape.samples_scraped), "Count"),
        ("scrape_samples_post_metric_relabeling", float(scrape.samples_post_metric_relabeling), "Count"),
    )
    metrics = [
        Metric(name, value, unit, naming.unit_and_resolution(name, "", False)[1])
        for name, value, unit in readings
    ]
    return write_group(MetricGroup(namespace, now_ms, dimensions, [list(keys)], metrics, properties))


def _members_text(labels: LabelSet) -> str:
    """``,"k":"v"`` for every label of a set fit for a plain document (every label a
    dimension, none named ``_aws``); ``""`` for any other set."""
    values = labels.values
    if len(labels.dimension_keys) != len(values) or "_aws" in values:
        return ""
    return "".join([member_text(k, v) for k, v in values.items()])
