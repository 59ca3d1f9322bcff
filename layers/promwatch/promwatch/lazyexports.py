"""A package's names imported on first use (PEP 562 module ``__getattr__``), so that a cold start
pays only for the modules it uses."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, namespace: dict[str, Any], modules: Sequence[str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package`` that loads its lazy names.

    A lazy name is one the package's ``__all__`` lists and does not bind itself: on first use
    it is taken from the first of ``modules`` that defines it (so the package lists its names
    once, in ``__all__``, besides the imports it shows type checkers).

    Parameters
    ----------
    package
        The package's name, for the message of a name it does not have.
    namespace
        The package's ``globals()``: its ``__all__``, and where a name loaded is kept so that
        it is looked up once.
    modules
        The modules that define the lazy names, imported in this order until one has the name.

    Returns
    -------
    Callable[[str], Any]
        Assign it to the package's ``__getattr__``; it raises ``AttributeError`` (what Python
        expects of a missing attribute) for a name that ``__all__`` does not list or no module defines.
    """

    def load(name: str) -> Any:
        if name in namespace.get("__all__", ()):
            for module in modules:
                found = import_module(module)
                if hasattr(found, name):
                    value = namespace[name] = getattr(found, name)
                    return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return load
