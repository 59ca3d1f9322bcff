"""What surrounds an OTLP data point's value (pure): attributes, the resource of a scraped
target, exemplars, units, staleness markers. See :mod:`promwatch.otlp.mapping`."""
from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from opentelemetry.proto.metrics.v1 import metrics_pb2 as pb

from promwatch.exposition.model import Exemplar

STALE_NAN_BITS = 0x7FF0000000000002
"""Prometheus' staleness marker: a NaN with this bit pattern."""
_UNITS = {
    "seconds": "s", "milliseconds": "ms", "microseconds": "us", "nanoseconds": "ns", "bytes": "By",
    "kilobytes": "kBy", "megabytes": "MBy", "gigabytes": "GBy", "bits": "bit", "ratio": "1",
    "percent": "%", "celsius": "Cel", "hertz": "Hz", "joules": "J", "volts": "V", "amperes": "A",
    "grams": "g", "meters": "m", "minutes": "min", "hours": "h", "days": "d",
}


class ScrapeTarget(NamedTuple):
    """The target a page came from.

    Attributes
    ----------
    job, instance
        Its ``job`` and ``instance`` labels.
    url
        The URL scraped (``server.address``, ``server.port``, ``url.scheme``).
    labels
        Target labels after ``relabel_configs``, added to points that lack them.
    honor_timestamps
        Use the page's timestamps as the points' times.
    """

    job: str
    instance: str
    url: str
    labels: Mapping[str, str]
    honor_timestamps: bool = False


def otel_unit(unit: str) -> str:
    """An OpenMetrics unit in OpenTelemetry's notation (``seconds`` -> ``s``,
    ``bytes_per_second`` -> ``By/s``, ``ratio`` -> ``1``); an unknown word is kept."""
    if not unit:
        return ""
    top, _, bottom = unit.partition("_per_")
    converted = _UNITS.get(top, top)
    if bottom:
        converted += "/" + _UNITS.get(bottom.removesuffix("s") + "s", _UNITS.get(bottom, bottom))
    return converted


def is_stale(value: float) -> bool:
    """Whether ``value`` is Prometheus' staleness marker."""
    return math.isnan(value) and struct.unpack("<Q", struct.pack("<d", value))[0] == STALE_NAN_BITS


def resource_attributes(target: ScrapeTarget, target_info: Mapping[str, str]) -> dict[str, str | int]:
    """The resource attributes of ``target`` (see the module docstring); ``server.port`` is an
    int, as the semantic conventions define it, the others strings."""
    attributes: dict[str, str | int] = {}
    namespace, slash, name = target.job.rpartition("/")
    if slash and namespace and name:
        attributes["service.namespace"] = namespace
        attributes["service.name"] = name
    else:
        attributes["service.name"] = target.job
    attributes["service.instance.id"] = target.instance
    parts = urlsplit(target.url)
    if parts.hostname:
        attributes["server.address"] = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        attributes["server.port"] = port
        attributes["url.scheme"] = parts.scheme
    for key, value in target_info.items():
        if key not in ("job", "instance"):
            attributes[key] = value
    return attributes


def add_attributes(repeated: Any, labels: Mapping[str, str]) -> None:
    """Append ``labels`` to a repeated ``KeyValue`` field in place (no message copied: the
    fastest way the protobuf runtime offers)."""
    add = repeated.add
    for key, value in labels.items():
        add(key=key).value.string_value = value


def add_typed_attributes(repeated: Any, attributes: Mapping[str, str | int]) -> None:
    """:func:`add_attributes` for values that may be ints (``int_value``), e.g. a resource's."""
    add = repeated.add
    for key, value in attributes.items():
        if isinstance(value, int):
            add(key=key).value.int_value = value
        else:
            add(key=key).value.string_value = value


def fill_exemplar(out: pb.Exemplar, exemplar: Exemplar, fallback_nanos: int) -> None:
    """Write an OpenMetrics exemplar into OTLP's ``out``: ``trace_id``/``span_id`` labels (hex
    of 16 and 8 bytes) become the ids, the other labels the filtered attributes; without a
    timestamp, its time is ``fallback_nanos``."""
    labels = dict(exemplar.labels)
    out.as_double = exemplar.value
    out.time_unix_nano = int(exemplar.timestamp * 1e9) if exemplar.timestamp is not None else fallback_nanos
    for label, size in (("trace_id", 16), ("span_id", 8)):
        raw = labels.get(label)
        if raw is None:
            continue
        try:
            decoded = bytes.fromhex(raw)
        except ValueError:
            continue  # not an id: kept as an attribute
        if len(decoded) == size:
            setattr(out, label, decoded)
            del labels[label]
    add_attributes(out.filtered_attributes, labels)
