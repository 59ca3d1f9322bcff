"""The Lambda layer holds the runtime only: every module of promwatch a handler imports, no tool.

``make build`` runs the same check (:mod:`promwatch_tools.layercheck`) on the built layer;
here it runs on the directory the layer is built from (layers/promwatch/Makefile copies
``promwatch`` whole), so a tool module put back into the runtime fails the unit tier too.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from promwatch_tools.layercheck import imported_names, layer_problems, main, reachable_modules

ROOT = Path(__file__).resolve().parents[2]
LAYER_SOURCE = ROOT / "layers" / "promwatch"
HANDLERS = sorted((ROOT / "functions").glob("*/app.py"))


@pytest.fixture
def layer(tmp_path: Path) -> Path:
    """A copy of the layer's source, to plant things in."""
    copy = tmp_path / "python"
    shutil.copytree(LAYER_SOURCE / "promwatch", copy / "promwatch", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_layer_source_holds_what_the_handlers_import_and_nothing_else() -> None:
    # given the three handlers and the directory the layer is built from
    assert len(HANDLERS) == 3
    # when the layer is checked
    problems = layer_problems(LAYER_SOURCE, HANDLERS)
    # then every module of promwatch is imported by some handler, and no tool is there
    assert problems == []


def test_a_cli_module_back_in_the_runtime_is_reported(layer: Path) -> None:
    # given a CLI package and module in the layer that no handler imports
    (layer / "promwatch" / "commands").mkdir()
    (layer / "promwatch" / "commands" / "__init__.py").write_text("")
    (layer / "promwatch" / "commands" / "demo.py").write_text("import subprocess\n")
    (layer / "promwatch" / "cli.py").write_text("import argparse\n")
    # when it is checked
    problems = layer_problems(layer, HANDLERS)
    # then each of them is named
    assert [p.split()[0] for p in problems] == ["promwatch.cli", "promwatch.commands", "promwatch.commands.demo"]


def test_the_tools_package_in_the_layer_is_reported(layer: Path) -> None:
    # given the tools package copied into the layer beside the runtime
    (layer / "promwatch_tools").mkdir()
    (layer / "promwatch_tools" / "__init__.py").write_text("")
    # when it is checked
    problems = layer_problems(layer, HANDLERS)
    # then the package is named
    assert problems == ["the layer holds promwatch_tools/, a package of the tools or tests; expected the runtime only"]


def test_a_handler_importing_a_tool_lazily_is_reported(layer: Path, tmp_path: Path) -> None:
    # given a runtime module whose function imports the emulator on first call
    handler = tmp_path / "app.py"
    handler.write_text("from promwatch.scrape import ScrapeRuntime\n")
    scrape_init = layer / "promwatch" / "scrape" / "__init__.py"
    scrape_init.write_text(scrape_init.read_text() + "\n\ndef _later():\n    from promwatch_tools.local import emulator\n")
    # when the layer is checked for that handler
    problems = layer_problems(layer, [handler])
    # then the tool import is reported
    assert "a handler imports promwatch_tools.local, which the layer does not ship (a tool, never deployed)" in problems


def test_type_checking_imports_do_not_count_and_module_names_spelt_as_strings_do() -> None:
    # given a module importing one name only for the type checker and loading another by name
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from promwatch.state import sqlite\nelse:\n    import json\n"
        "_LAZY = {'translate': 'promwatch.emf.translate', 'text': 'not a module name'}\n"
    )
    # when its imports are listed
    names = set(imported_names(source))
    # then the TYPE_CHECKING import is not one of them, the else branch and the module named by string are
    assert "promwatch.state" not in names
    assert {"json", "promwatch.emf.translate"} <= names


def test_relative_imports_resolve_against_their_package(tmp_path: Path) -> None:
    # given a package whose __init__ imports a sibling relatively
    package = tmp_path / "promwatch"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from .inner import thing\nfrom .. import top\n")
    (package / "sub" / "inner.py").write_text("thing = 1\n")
    (package / "top.py").write_text("")
    (package / "unused.py").write_text("")
    handler = tmp_path / "app.py"
    handler.write_text("import promwatch.sub\n")
    # when the modules reachable from the handler are listed
    reachable, tools = reachable_modules(tmp_path, [handler])
    # then the relative imports were followed, and the unused module is not reached
    assert reachable == {"promwatch", "promwatch.sub", "promwatch.sub.inner", "promwatch.top"}
    assert tools == frozenset()


def test_the_command_fails_with_the_problems_on_stderr(layer: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a layer holding a demo module
    (layer / "promwatch" / "demo.py").write_text("")
    # when the command checks it
    status = main([str(layer), *map(str, HANDLERS)])
    # then it fails, naming the module
    assert status == 1
    assert "layercheck: promwatch.demo is in the layer but no handler imports it" in capsys.readouterr().err
