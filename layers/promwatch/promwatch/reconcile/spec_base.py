"""What every spec model shares: strict keys with a suggestion, located validator messages."""
from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, model_validator

from promwatch.reconcile import checks

__all__ = ["DURATION", "Strict", "at"]


class _Duration:
    """The mark of a field that also takes a PromQL duration (``5m``): named in its refusals."""


DURATION = _Duration()
"""Put in a field's ``Annotated[...]`` when the field takes a duration as well as a number."""


def at(field: str, message: str) -> str:
    """A validator message located at ``field`` of the object being validated."""
    return f"@{field}: {message}"


def _admits_bool(annotation: Any) -> bool:
    """Whether a field typed ``annotation`` takes a boolean (``bool``, ``bool | None``, ...)."""
    if annotation is bool:
        return True
    if get_origin(annotation) is Annotated:
        return _admits_bool(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_admits_bool(arg) for arg in get_args(annotation))
    return annotation is Any


def _takes_number(annotation: Any) -> bool:
    """Whether a field typed ``annotation`` takes an int or a float (where pydantic's lax mode would read
    ``true`` as 1)."""
    if annotation in (int, float):
        return True
    if get_origin(annotation) is Annotated:
        return _takes_number(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_takes_number(arg) for arg in get_args(annotation))
    return False


class Strict(BaseModel):
    """Unknown keys are refused with the keys that are known (and the closest one); a boolean is
    refused where a number is expected (pydantic's lax mode would read ``true`` as 1); numbers are
    finite (CloudWatch takes no NaN or infinite threshold, bound or annotation)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = list(cls.model_fields)
            for key in data:
                if key not in known:
                    hint = checks.suggestion(str(key), known)
                    raise ValueError(f"unknown key {key!r}; expected one of {', '.join(known)}{hint}")
            for key, value in data.items():
                field = cls.model_fields[key]
                if isinstance(value, bool) and _takes_number(field.annotation) and not _admits_bool(field.annotation):
                    duration = " or a duration such as 30s, 5m, 1h30m" if DURATION in field.metadata else ""
                    raise ValueError(at(key, f"{str(value).lower()} is a boolean, not a number; expected a "
                                        f"number{duration}"))
        return data
