"""What every spec model shares: strict keys with a suggestion, located validator messages."""
from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.fields import FieldInfo

from promwatch.reconcile import checks
from promwatch.reconcile.errors import SpecValueError

__all__ = ["DURATION", "Strict", "at"]


class _Duration:
    """The mark of a field that also takes a PromQL duration (``5m``): named in its refusals."""


DURATION = _Duration()
"""Put in a field's ``Annotated[...]`` when the field takes a duration as well as a number."""


def at(field: str, message: str) -> str:
    """A validator message located at ``field`` of the object being validated."""
    return f"@{field}: {message}"


def _base_types(annotation: Any) -> set[Any]:
    """The types a field typed ``annotation`` takes, constraints and unions unwrapped
    (``Annotated[int, ...] | None`` -> ``{int, NoneType}``)."""
    if get_origin(annotation) is Annotated:
        return _base_types(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return set().union(*(_base_types(arg) for arg in get_args(annotation)))
    return {annotation}


def _lax_problem(value: Any, field: FieldInfo) -> str | None:
    """What is wrong with ``value`` for ``field`` where pydantic's lax mode would convert it: a boolean
    for a number (``true`` read as 1) or a number or string for a boolean (``1``, ``"yes"``)."""
    taken = _base_types(field.annotation)
    if isinstance(value, bool) and taken & {int, float} and bool not in taken:
        duration = " or a duration such as 30s, 5m, 1h30m" if DURATION in field.metadata else ""
        return f"{str(value).lower()} is a boolean, not a number; expected a number{duration}"
    if value is not None and not isinstance(value, bool) and taken - {type(None)} == {bool}:
        return f"{value!r} is not a boolean; expected true or false"
    return None


class Strict(BaseModel):
    """Unknown keys are refused with the keys that are known (and the closest one); a boolean is
    refused where a number is expected (pydantic's lax mode would read ``true`` as 1) and a number or
    string where a boolean is; numbers are
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
                    raise SpecValueError(f"unknown key {key!r}; expected one of {', '.join(known)}{hint}")
            for key, value in data.items():
                problem = _lax_problem(value, cls.model_fields[key])
                if problem:
                    raise SpecValueError(at(key, problem))
        return data
