"""Settings from the environment: how every function reads its ``PROMWATCH_*`` variables.

Each function's settings model (``ScrapeSettings``, ``InsightsSettings``, ``ReconcileSettings``)
has ``from_env(environ=None)``, which calls :func:`settings_from_env` with its table of
variables: ``environ`` defaults to ``os.environ``, a variable that is unset, empty or blank
leaves its field at the default, and a bad value is refused with an error of the function's
domain that names the variable, the value and what was expected.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from promwatch.errors import PromwatchError

__all__ = ["read_variables", "settings_from_env"]

SettingsT = TypeVar("SettingsT", bound=BaseModel)


def read_variables(variables: Mapping[str, str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{field: value}`` of the ``variables`` (``{field: VARIABLE}``) that ``environ`` sets to a non-blank value.

    Parameters
    ----------
    variables
        Which variable each field is read from.
    environ
        The environment (None: ``os.environ``).
    """
    env = os.environ if environ is None else environ
    return {field: env[name] for field, name in variables.items() if env.get(name, "").strip()}


def settings_from_env(
    model: type[SettingsT],
    variables: Mapping[str, str],
    environ: Mapping[str, str] | None = None,
    *,
    what: str,
    error: Callable[[str], PromwatchError],
    derived: Mapping[str, Any] | None = None,
) -> SettingsT:
    """The settings ``model`` from the environment.

    Parameters
    ----------
    model
        The settings model (a pydantic model whose unset fields have defaults).
    variables
        ``{field: VARIABLE}``: the variables read; unset, empty or blank ones leave the field's default.
    environ
        The environment (None: ``os.environ``).
    what
        What the settings are, for the message ("scrape function settings").
    error
        Makes the error raised for bad values from its message (the function's domain error).
    derived
        Values of fields computed from the environment by the caller (they win over ``variables``).

    Raises
    ------
    PromwatchError
        ``error(message)``, the message naming each bad variable (or field), its value and the problem.
    """
    values: dict[str, Any] = {**read_variables(variables, environ), **(derived or {})}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{variables.get(str(e['loc'][0]), str(e['loc'][0])) if e['loc'] else what}"
            f"={e.get('input')!r}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise error(f"invalid {what}: {problems}") from None
