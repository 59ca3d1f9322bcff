"""EMF JSON text: documents that carry their text, numbers as EMF writes them, and the text of
a document's pieces (``_aws`` member, metric definitions, dimension sets, members), written as
the JSON encoder would write them.

The one home of EMF JSON: the writer (:mod:`promwatch.emf.writer`) and the translation's
documents (:mod:`promwatch.emf.documents`) build their documents and text from these pieces;
anything else is encoded by :func:`serialize`.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from json.encoder import encode_basestring
from typing import Any

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


def emf_number(value: float) -> float | int:
    # Integral floats print as ints: "12" is shorter than "12.0" and the bill is per byte.
    value = float(value)
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


EXACT_INTS = 2**53


def emf_numbers(values: Iterable[float]) -> list[float | int]:
    """:func:`emf_number` of each value, without a call per value (NaN and +-Inf stay floats)."""
    return [int(v) if v % 1 == 0 and -EXACT_INTS < v < EXACT_INTS else float(v) for v in values]


# Module-level by design: a memo of a pure function of immutable values (numbers -> text), not
# warm state (that is passed in: promwatch.scrape.memory).
_NUMBERS_TEXT: dict[tuple[float, ...], tuple[list[float | int], str]] = {}
_COUNTS_TEXT: dict[tuple[float, ...], tuple[list[float | int], str]] = {}
_NUMBERS_TEXT_SIZE = 65_536
"""Values/Counts tuples already written -> (numbers, JSON): histograms repeat their bucket
layouts and counts from series to series and scrape to scrape, and small counts repeat in
every distribution; bounded, each starts over when full. Counts have their own cache, so the
values of distributions (mostly unique) do not push them out."""


def numbers_and_text(values: tuple[float, ...], counts: bool = False) -> tuple[list[float | int], str]:
    """:func:`emf_numbers` of ``values`` (a fresh list) and their JSON without brackets; ``counts``:
    they are a distribution's Counts (remembered however short: they repeat)."""
    cache = _COUNTS_TEXT if counts else _NUMBERS_TEXT
    # short value tuples cost less to write than to look up (they rarely repeat)
    cached = values.__class__ is tuple and (counts or len(values) >= 4)
    known = cache.get(values) if cached else None
    if known is None:
        numbers = emf_numbers(values)
        known = (numbers, ",".join(map(repr, numbers)))
        if cached and "n" not in known[1]:  # finite only: NaN is never found again
            if len(cache) >= _NUMBERS_TEXT_SIZE:
                cache.clear()
            cache[values] = known
    return known[0].copy(), known[1]


def metric_definition(name: str, unit: str, storage_resolution: int) -> dict[str, Any]:
    """A metric's entry in the directive's ``Metrics`` (Unit and StorageResolution when not the defaults)."""
    definition: dict[str, Any] = {"Name": name}
    if unit and unit != "None":
        definition["Unit"] = unit
    if storage_resolution == 1:
        definition["StorageResolution"] = 1
    return definition


def definition_text(definition: dict[str, Any]) -> str:
    """The JSON of a :func:`metric_definition` (its name and unit must be strings)."""
    text = '{"Name":' + encode_basestring(definition["Name"])
    if "Unit" in definition:
        text += ',"Unit":' + encode_basestring(definition["Unit"])
    if "StorageResolution" in definition:
        text += ',"StorageResolution":1'
    return text + "}"


def dimensions_text(dimension_sets: Iterable[Iterable[str]]) -> str:
    """The JSON of a directive's ``Dimensions`` (keys must be strings)."""
    return "[" + ",".join("[" + ",".join(map(encode_basestring, s)) + "]" for s in dimension_sets) + "]"


def aws_member(
    timestamp_ms: int,
    namespace: str,
    dimension_sets: Iterable[Iterable[str]],
    definitions: list[dict[str, Any]],
) -> tuple[dict[str, Any], str | None]:
    """A document's ``_aws`` member (one directive) and the document's JSON up to it,
    ``{"_aws":{...}`` (no closing brace: members follow); the JSON is None when a name, unit
    or dimension key is not a string (the encoder then decides)."""
    dimensions = [list(s) for s in dimension_sets]
    aws = {
        "Timestamp": timestamp_ms,
        "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": dimensions, "Metrics": definitions}],
    }
    try:
        text: str | None = (
            f'{{"_aws":{{"Timestamp":{timestamp_ms},"CloudWatchMetrics":[{{"Namespace":'
            f'{encode_basestring(namespace)},"Dimensions":{dimensions_text(dimensions)},'
            f'"Metrics":[{",".join(map(definition_text, definitions))}]}}]}}'
        )
    except TypeError:
        text = None
    return aws, text


def metrics_format(names: Iterable[str]) -> str:
    """A ``%`` format of a document's metric members and its closing brace, ``,"name":%s...}``
    (names must be strings), for :func:`document_text`."""
    return "".join([f",{encode_basestring(name).replace('%', '%%')}:%s" for name in names]) + "}"


def document_text(head: str, members: str, metrics: str, readings: tuple[Any, ...]) -> str:
    """A document's JSON: its :func:`aws_member` text, its other members' (:func:`members_text`),
    then its metrics (``metrics``, a :func:`metrics_format`) with their readings: a number (an
    int or a finite float, whose ``str`` is its JSON) or a chunk's JSON text."""
    return f"{head}{members}{metrics % readings}"


def member_text(key: str, value: Any) -> str:
    """``,"key":value`` as the encoder writes it (the key must be a string)."""
    if value.__class__ is str:
        return f",{encode_basestring(key)}:{encode_basestring(value)}"
    return f",{encode_basestring(key)}:{_dumps(value)}"


# Module-level by design, as _NUMBERS_TEXT: (key, value) -> text depends on nothing else.
_MEMBER_TEXT: dict[tuple[str, str], str] = {}
_MEMBER_TEXT_SIZE = 65_536
"""(key, string value) -> ``,"key":"value"``: dimensions and properties repeat from document to
document (cluster, namespace, rule names); bounded, it starts over when full."""


def members_text(members: Iterable[tuple[str, Any]]) -> str:
    """``,"key":value`` for each member, as the encoder writes them (keys must be strings)."""
    parts = []
    cache = _MEMBER_TEXT
    for member in members:
        text = cache.get(member) if member[1].__class__ is str else None
        if text is None:
            text = member_text(*member)
            if member[1].__class__ is str:
                if len(cache) >= _MEMBER_TEXT_SIZE:
                    cache.clear()
                cache[member] = text
        parts.append(text)
    return "".join(parts)
