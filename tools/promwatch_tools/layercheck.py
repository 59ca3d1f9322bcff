"""What the Lambda layer may ship: the runtime the three handlers import, and nothing of the tools.

``make build`` runs it on the built layer (``.aws-sam/build/PromwatchLayer/python``)::

    python -m promwatch_tools.layercheck LAYER_PYTHON_DIR functions/*/app.py

A module of :mod:`promwatch` is needed when a handler can import it: the closure of the
handlers' imports, followed statically through every ``import`` of the modules it reaches,
those inside functions included (the lazy imports of an invocation), those under
``if TYPE_CHECKING:`` excluded (they never run), and through the module names spelt as strings
(:mod:`promwatch.emf` loads its translation by name on first use). Any other module of the
layer's ``promwatch`` -- a CLI, demo or emulator module that found its way back -- is a
problem, as is a tools package in the layer or a handler that imports one. The walk reads
source text only: nothing is imported.
"""
from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

__all__ = ["RUNTIME_PACKAGE", "TOOL_PACKAGES", "layer_modules", "layer_problems", "main", "reachable_modules"]

RUNTIME_PACKAGE = "promwatch"
"""The package the layer ships."""
TOOL_PACKAGES = frozenset({"promwatch_tools", "moto", "pytest", "_pytest", "hypothesis", "prometheus_client"})
"""Top-level packages of the tools and the tests, which neither the layer nor a handler may hold."""
_MODULE_NAME = re.compile(rf"{RUNTIME_PACKAGE}(\.[A-Za-z_][A-Za-z0-9_]*)+")


def _module_file(root: Path, name: str) -> Path | None:
    """The source of module ``name`` under ``root`` (a package's ``__init__.py``), if there is one."""
    path = root.joinpath(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``node``, but the bodies of ``if TYPE_CHECKING:`` (their ``else`` runs)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _nodes(other)
            continue
        yield child
        yield from _nodes(child)


def imported_names(source: str, *, package: str = "") -> Iterator[str]:
    """The dotted names a module's source may import: modules, and ``module.name`` for each
    ``from module import name`` (``name`` may be a submodule); string constants that look like
    module names of the runtime package too.

    Parameters
    ----------
    source
        The module's text.
    package
        The package relative imports are relative to ('' for a top-level module).
    """
    for node in _nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: max(0, len(package.split(".")) - node.level + 1)]
                base = ".".join([*parts, base] if base else parts)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _MODULE_NAME.fullmatch(node.value):
            yield node.value


def reachable_modules(root: Path, handlers: Iterable[Path]) -> tuple[frozenset[str], frozenset[str]]:
    """The modules under ``root`` the handlers can import, and the tool modules they would import.

    Parameters
    ----------
    root
        The directory holding the ``promwatch`` package (the layer's ``python`` directory).
    handlers
        The handler modules (``functions/<name>/app.py``).

    Returns
    -------
    tuple
        The names of the reachable modules of :data:`RUNTIME_PACKAGE` (packages included), and
        the names under :data:`TOOL_PACKAGES` that some reachable module imports.
    """
    pending = [name for handler in handlers for name in imported_names(handler.read_text())]
    seen: set[str] = set()
    tools: set[str] = set()
    while pending:
        name = pending.pop()
        top = name.partition(".")[0]
        if top in TOOL_PACKAGES:
            tools.add(name)
            continue
        if top != RUNTIME_PACKAGE:
            continue
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
            module = ".".join(parts[:depth])
            path = _module_file(root, module)
            if path is None or module in seen:
                continue
            seen.add(module)
            package = module if path.name == "__init__.py" else module.rpartition(".")[0]
            pending.extend(imported_names(path.read_text(), package=package))
    return frozenset(seen), frozenset(tools)


def layer_modules(root: Path) -> frozenset[str]:
    """The modules of :data:`RUNTIME_PACKAGE` whose sources are under ``root``."""
    names = set()
    for path in (root / RUNTIME_PACKAGE).rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return frozenset(names)


def layer_problems(root: Path, handlers: Sequence[Path]) -> list[str]:
    """What is wrong with the layer at ``root`` for these handlers ([] when nothing is).

    Parameters
    ----------
    root
        The layer's ``python`` directory (or the source directory the layer is built from).
    handlers
        The handler modules of the functions that use the layer.

    Returns
    -------
    list of str
        One line per problem: a tools package in the layer, a handler importing a tool module,
        the layer missing :data:`RUNTIME_PACKAGE`, a module no handler can import.
    """
    problems = [f"the layer holds {name}/, a package of the tools or tests; expected the runtime only"
                for name in sorted(TOOL_PACKAGES) if (root / name).exists()]
    if not (root / RUNTIME_PACKAGE / "__init__.py").is_file():
        return [*problems, f"the layer has no {RUNTIME_PACKAGE} package under {root}"]
    reachable, tools = reachable_modules(root, handlers)
    problems += [f"a handler imports {name}, which the layer does not ship (a tool, never deployed)"
                 for name in sorted(tools)]
    problems += [f"{name} is in the layer but no handler imports it; expected the runtime only "
                 "(tools belong in tools/promwatch_tools)" for name in sorted(layer_modules(root) - reachable)]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Check a layer; print its problems on stderr. Exit status 1 when there are some."""
    parser = argparse.ArgumentParser(prog="python -m promwatch_tools.layercheck", description=__doc__.splitlines()[0])
    parser.add_argument("layer", type=Path, help="the layer's python directory (.aws-sam/build/PromwatchLayer/python)")
    parser.add_argument("handlers", type=Path, nargs="+", help="the handler modules (functions/*/app.py)")
    args = parser.parse_args(argv)
    problems = layer_problems(args.layer, args.handlers)
    for problem in problems:
        print(f"layercheck: {problem}", file=sys.stderr)
    if not problems:
        print(f"layercheck: {len(layer_modules(args.layer))} modules of {RUNTIME_PACKAGE}, all imported by "
              f"{len(args.handlers)} handlers; no tools")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
