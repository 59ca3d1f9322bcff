"""Read-only JSON containers: the dicts and lists nested in an EMF document that carries its text.

A document keeps its JSON text (:class:`promwatch.emf.jsontext.EmfDocument`) and documents share
members (one ``_aws`` per shape, cached Values/Counts), so a change in place would serialize stale
JSON or change other documents: every such change raises :class:`EmfReadOnlyError` instead.
Copies are plain: ``copy.copy``, ``.copy()``, ``{**d}`` and slices give a plain ``dict`` or
``list``, ``copy.deepcopy`` plain dicts and lists all the way down; pickling keeps them read-only.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from promwatch.emf.errors import EmfReadOnlyError

DICT_CHANGES = ("__setitem__", "__delitem__", "__ior__", "clear", "pop", "popitem", "setdefault", "update")
"""The methods that change a ``dict`` in place."""
LIST_CHANGES = ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend", "insert", "pop",
                "remove", "clear", "sort", "reverse")
"""The methods that change a ``list`` in place."""


def _refusing(method: str) -> Callable[..., NoReturn]:
    def refuse(self: object, *args: Any, **kwargs: Any) -> NoReturn:
        shown = repr(self)
        shown = shown if len(shown) <= 80 else f"{shown[:80]}..."
        called = ", ".join([*map(repr, args), *(f"{key}={value!r}" for key, value in kwargs.items())])
        raise EmfReadOnlyError(
            f"cannot {method}({called}) on {shown}: the members nested in an EMF document are read-only "
            "(its JSON text is kept, and documents share them); copy the document first: "
            "copy.deepcopy(document) gives plain dicts and lists, or replace the member: "
            "document[name] = {**document[name], key: value}"
        )

    refuse.__name__ = refuse.__qualname__ = method
    return refuse


def deepcopy_as_dict(container: Mapping[str, Any], memo: dict[int, Any]) -> dict[str, Any]:
    """The ``__deepcopy__`` of a read-only dict and of a document: plain dicts and lists all the way down."""
    plain: dict[str, Any] = {}
    memo[id(container)] = plain
    for key, value in container.items():
        plain[key] = copy.deepcopy(value, memo)
    return plain


class ReadOnlyDict(dict[str, Any]):
    """A JSON object nested in an EMF document: a ``dict`` whose :data:`DICT_CHANGES` raise
    :class:`EmfReadOnlyError`."""

    __slots__ = ()

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    __deepcopy__ = deepcopy_as_dict

    def __reduce__(self) -> tuple[Any, ...]:
        return ReadOnlyDict, (dict(self),)


class ReadOnlyList(list[Any]):
    """A JSON array nested in an EMF document: a ``list`` whose :data:`LIST_CHANGES` raise
    :class:`EmfReadOnlyError`."""

    __slots__ = ()

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        plain: list[Any] = []
        memo[id(self)] = plain
        plain.extend(copy.deepcopy(value, memo) for value in self)
        return plain

    def __reduce__(self) -> tuple[Any, ...]:
        return ReadOnlyList, (list(self),)


for _method in DICT_CHANGES:
    setattr(ReadOnlyDict, _method, _refusing(_method))
for _method in LIST_CHANGES:
    setattr(ReadOnlyList, _method, _refusing(_method))


def read_only(value: Any) -> Any:
    """``value`` with every dict and list in it (itself included) read-only
    (:class:`ReadOnlyDict`, :class:`ReadOnlyList`; tuples become lists); other values as they are."""
    cls = value.__class__
    if cls is ReadOnlyDict or cls is ReadOnlyList:  # read-only all the way down by construction
        return value
    if isinstance(value, dict):
        return ReadOnlyDict({key: read_only(member) for key, member in value.items()})
    if isinstance(value, list | tuple):
        return ReadOnlyList(map(read_only, value))
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})


def read_only_members(members: Mapping[str, Any]) -> Mapping[str, Any]:
    """``members`` itself when no value is a mutable container, else a copy with each
    :func:`read_only` (properties and dimensions given to the writer: the document must not
    share the caller's lists and dicts)."""
    scalars = _SCALARS
    for value in members.values():
        if value.__class__ not in scalars:
            return {key: read_only(value) for key, value in members.items()}
    return members
