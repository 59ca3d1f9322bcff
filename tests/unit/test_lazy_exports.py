"""promwatch.lazyexports: a package's names listed once, in ``__all__``, loaded on first use."""
from __future__ import annotations

import collections
import json

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


def test_every_name_the_lazy_packages_list_loads() -> None:
    # given the runtime's packages with lazy names, when every name of their __all__ is read,
    # then each is found (a name listed but defined by none of the package's modules would fail here)
    import promwatch.emf
    import promwatch.otlp
    import promwatch.reconcile

    for package in (promwatch.emf, promwatch.otlp, promwatch.reconcile):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
