"""EMF JSON text: documents that carry their text, numbers as EMF writes them, and the text of
a document's pieces (``_aws`` member, metric definitions, dimension sets, members), written as
the JSON encoder would write them.

The one home of EMF JSON: the writer (:mod:`promwatch.emf.writer`) and the translation's
documents (:mod:`promwatch.emf.documents`) build their documents and text from these pieces;
anything else is encoded by :func:`serialize`.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from json.encoder import encode_basestring
from typing import Any

from promwatch.emf.readonly import DICT_CHANGES, ReadOnlyDict, ReadOnlyList, deepcopy_as_dict

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class EmfDocument(dict[str, Any]):
    """A document as the writer made it: a ``dict`` that also carries its JSON text.

    :func:`serialize` returns that text instead of encoding the dict again. The contract that
    keeps the text true:

    - changing the document's top level (``document[key] = ...``, ``del``, ``pop``, ``update``...)
      forgets the text (it is encoded again when serialized);
    - every dict and list nested in it (``_aws`` and what it holds, a distribution's chunk and
      its Values/Counts, a property's value) is read-only (:class:`ReadOnlyDict`,
      :class:`ReadOnlyList`): changing one in place raises :class:`EmfReadOnlyError`. They may
      be shared with other documents (one ``_aws`` per shape, cached numbers), which is safe so;
    - to edit deeply, copy first: ``copy.deepcopy(document)`` gives plain dicts and lists (no
      text: it is encoded when serialized), or replace the member at the top level
      (``document["_aws"] = {**document["_aws"], "Timestamp": t}``).

    Hence ``serialize(document) == json.dumps(document)`` (compact) always holds.
    """

    __slots__ = ("text",)
    text: str | None

    __deepcopy__ = deepcopy_as_dict

    # No __init__ of its own (a Python-level one costs more than copying the members): make
    # one with emf_document(), or set ``text`` right after EmfDocument(members).


def _forgetting_text(method: str) -> Callable[..., Any]:
    change = getattr(dict, method)

    def forget_text(self: EmfDocument, *args: Any, **kwargs: Any) -> Any:
        self.text = None
        return change(self, *args, **kwargs)

    forget_text.__name__ = forget_text.__qualname__ = method
    return forget_text


for _method in DICT_CHANGES:
    setattr(EmfDocument, _method, _forgetting_text(_method))


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
_NUMBERS_TEXT: dict[tuple[float, ...], tuple[ReadOnlyList, str]] = {}
_COUNTS_TEXT: dict[tuple[float, ...], tuple[ReadOnlyList, str]] = {}
_NUMBERS_TEXT_SIZE = 65_536
"""Values/Counts tuples already written -> (read-only numbers, JSON): histograms repeat their bucket
layouts and counts from series to series and scrape to scrape, and small counts repeat in
every distribution; bounded, each starts over when full. Counts have their own cache, so the
values of distributions (mostly unique) do not push them out."""


def numbers_and_text(values: tuple[float, ...], counts: bool = False) -> tuple[ReadOnlyList, str]:
    """:func:`emf_numbers` of ``values`` (a :class:`ReadOnlyList`, maybe shared with other
    chunks) and their JSON without brackets; ``counts``: they are a distribution's Counts
    (remembered however short: they repeat)."""
    cache = _COUNTS_TEXT if counts else _NUMBERS_TEXT
    # short value tuples cost less to write than to look up (they rarely repeat)
    cached = values.__class__ is tuple and (counts or len(values) >= 4)
    known = cache.get(values) if cached else None
    if known is None:
        numbers = ReadOnlyList(emf_numbers(values))
        known = (numbers, ",".join(map(repr, numbers)))
        if cached and "n" not in known[1]:  # finite only: NaN is never found again
            if len(cache) >= _NUMBERS_TEXT_SIZE:
                cache.clear()
            cache[values] = known
    return known


def metric_definition(name: str, unit: str, storage_resolution: int) -> ReadOnlyDict:
    """A metric's entry in the directive's ``Metrics`` (Unit and StorageResolution when not
    the defaults), read-only: the documents of a split metric share it."""
    if unit and unit != "None":
        if storage_resolution == 1:
            return ReadOnlyDict(Name=name, Unit=unit, StorageResolution=1)
        return ReadOnlyDict(Name=name, Unit=unit)
    if storage_resolution == 1:
        return ReadOnlyDict(Name=name, StorageResolution=1)
    return ReadOnlyDict(Name=name)


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
    definitions: Iterable[ReadOnlyDict],
) -> tuple[ReadOnlyDict, str | None]:
    """A document's ``_aws`` member (one directive), read-only all the way down (documents
    share it), and the document's JSON up to it, ``{"_aws":{...}`` (no closing brace: members
    follow); the JSON is None when a name, unit or dimension key is not a string (the encoder
    then decides)."""
    dimensions = ReadOnlyList([ReadOnlyList(s) for s in dimension_sets])
    definitions = ReadOnlyList(definitions)  # each read-only: a metric_definition()
    directive = ReadOnlyDict(Namespace=namespace, Dimensions=dimensions, Metrics=definitions)
    aws = ReadOnlyDict(Timestamp=timestamp_ms, CloudWatchMetrics=ReadOnlyList((directive,)))
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
