"""Every third-party distribution the runtime or the tools import is declared where it installs:
the runtime's in the layer's requirements.txt and in pyproject.toml, the tools' in pyproject.toml.
(A dependency that only arrives through another one breaks the day that one drops it.)"""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "layers" / "promwatch" / "promwatch"
TOOLS = ROOT / "tools" / "promwatch_tools"
OWN = {"promwatch", "promwatch_tools", "__future__"}


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imported_modules(tree: ast.AST) -> set[str]:
    """Top-level modules imported anywhere in ``tree`` but under ``if TYPE_CHECKING:``."""
    found: set[str] = set()
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        pending.extend(ast.iter_child_nodes(node))
    return found


def _distributions(package: Path) -> set[str]:
    modules: set[str] = set()
    for path in package.rglob("*.py"):
        modules |= _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
    modules -= set(sys.stdlib_module_names) | OWN
    by_module = packages_distributions()
    missing = sorted(module for module in modules if module not in by_module)
    assert not missing, f"imported but not installed: {missing}"
    return {_canonical(name) for module in modules for name in by_module[module]}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(lines: list[str]) -> set[str]:
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(_canonical(re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0]))
    return names


def _pyproject_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return _requirement_names(project["dependencies"])


def test_the_runtime_declares_what_it_imports_in_the_layer_and_the_package() -> None:
    # given the distributions the runtime imports (outside type-checking blocks)
    imported = _distributions(RUNTIME)
    # when compared with the layer's requirements and the package's dependencies
    layer = _requirement_names((ROOT / "layers" / "promwatch" / "requirements.txt").read_text().splitlines())
    package = _pyproject_dependencies()
    # then each is declared in both
    assert imported - layer == set(), "missing from layers/promwatch/requirements.txt"
    assert imported - package == set(), "missing from pyproject.toml [project].dependencies"


def test_the_tools_declare_what_they_import() -> None:
    # given the distributions the tools import, when compared with the package's dependencies,
    # then each is declared (the dev extra is not installed by a user)
    assert _distributions(TOOLS) - _pyproject_dependencies() == set()


def test_the_import_scan_sees_imports_in_functions_and_skips_type_checking_blocks() -> None:
    # given a module importing at the top, inside a function and under TYPE_CHECKING
    tree = ast.parse(
        "import yaml\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mypy_boto3_s3\n"
        "def f():\n    from botocore.auth import SigV4Auth\n"
    )
    # when scanned, then the function's import counts and the type-checking one does not
    assert _imported_modules(tree) == {"yaml", "typing", "botocore"}
