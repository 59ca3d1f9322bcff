"""promwatch.lazyexports: a package's names listed once, in ``__all__``, loaded on first use."""
from __future__ import annotations

import ast
import collections
import json
from importlib import import_module
from pathlib import Path
from types import ModuleType

import pytest
from promwatch.lazyexports import lazy_exports


def test_a_listed_name_is_taken_from_the_first_module_that_defines_it_and_kept() -> None:
    # given a package listing two lazy names defined by two different modules
    namespace: dict[str, object] = {"__all__": ["OrderedDict", "dumps"]}
    load = lazy_exports("pkg", namespace, ("json", "collections"))

    # when both are looked up
    dumps, ordered = load("dumps"), load("OrderedDict")

    # then each comes from the module that defines it, and is kept in the package's namespace
    assert dumps is json.dumps and ordered is collections.OrderedDict
    assert namespace["dumps"] is json.dumps and namespace["OrderedDict"] is collections.OrderedDict


@pytest.mark.parametrize("name", ["loads", "no_such_name"])
def test_a_name_not_listed_or_not_defined_is_a_missing_attribute(name: str) -> None:
    # given a package whose __all__ lists "no_such_name" (defined nowhere) but not "loads"
    namespace: dict[str, object] = {"__all__": ["dumps", "no_such_name"]}
    load = lazy_exports("pkg", namespace, ("json",))

    # when it is looked up, then AttributeError names the package and the name (what Python expects)
    with pytest.raises(AttributeError, match=f"module 'pkg' has no attribute '{name}'"):
        load(name)
    assert name not in namespace


def _imported_from(package: ModuleType) -> dict[str, str]:
    """Each name the package's source imports (eagerly, or for type checkers only) -> the
    module it imports it from: where the name is defined, as the type checker sees it."""
    tree = ast.parse(Path(str(package.__file__)).read_text(encoding="utf-8"))
    statements = [*tree.body, *(inner for node in tree.body if isinstance(node, ast.If) for inner in node.body)]
    return {alias.asname or alias.name: statement.module for statement in statements
            if isinstance(statement, ast.ImportFrom) and statement.module for alias in statement.names}


@pytest.mark.parametrize("package_name", ["promwatch.emf", "promwatch.otlp", "promwatch.reconcile"])
def test_every_name_a_lazy_package_lists_is_the_object_its_module_defines(package_name: str) -> None:
    # given a runtime package with lazy names, and where its source says each name comes from
    package = import_module(package_name)
    sources = _imported_from(package)
    # when every name of its __all__ is read
    # then each is imported by the package's source (for the type checker at least), and is the
    # very object that module defines (a name listed but defined by none of the package's
    # modules, or taken from the wrong one, would fail here)
    assert package.__all__
    for name in package.__all__:
        assert name in sources, f"{package_name}.{name} is listed but not imported from its module"
        assert getattr(package, name) is getattr(import_module(sources[name]), name), f"{package_name}.{name}"
