"""A package's names imported on first use (PEP 562 module ``__getattr__``), so that a cold start
pays only for the modules it uses."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, modules: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package`` that loads its lazy names.

    Parameters
    ----------
    package
        The package's name, for the message of a name it does not have.
    modules
        Each lazy name and the module that defines it.
    namespace
        The package's ``globals()``: a name loaded is kept there, so its module is looked up once.

    Returns
    -------
    Callable[[str], Any]
        Assign it to the package's ``__getattr__``; it raises ``AttributeError`` (what Python
        expects of a missing attribute) for a name that is not in ``modules``.
    """

    def load(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    return load
