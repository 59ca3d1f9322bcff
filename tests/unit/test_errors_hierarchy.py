"""Every error promwatch raises is a PromwatchError: the house rule, kept by reading the source."""
from __future__ import annotations

import ast
import builtins
from pathlib import Path

import promwatch
import promwatch_tools
import pytest
from promwatch.errors import PromwatchError, PromwatchValueError
from promwatch.scrape.config import ScrapeConfig
from promwatch.scrape.errors import ConfigError, UnknownJobError
from pydantic import ValidationError

SOURCE_ROOTS = (Path(promwatch.__file__).parent, Path(promwatch_tools.__file__).parent)

BUILTIN_EXCEPTIONS = frozenset(
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
)
PROTOCOL_EXCEPTIONS = frozenset({"NotImplementedError", "StopIteration", "StopAsyncIteration", "GeneratorExit",
                                 "SystemExit"})
"""Raised for Python's protocols (abstract methods, iterators, exiting), not as promwatch's errors."""
ALLOWED_IN = {
    ("lazyexports.py", "load", "AttributeError"),  # the function a package assigns to __getattr__
    ("demo.py", "_terminate", "KeyboardInterrupt"),  # the SIGTERM handler unwinds as Ctrl-C does
}
"""(file name, function, exception) raised where Python's protocol asks for that exception."""
ROOT = PromwatchError.__name__
"""The one class that derives from ``Exception`` alone."""


def _bound_names(tree: ast.Module) -> set[str]:
    """Names a module imports or defines (a module's own ``TimeoutError`` is not the builtin)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ClassDef | ast.FunctionDef):
            bound.add(node.name)
    return bound


def builtin_exceptions_made(path: Path) -> list[str]:
    """Each place in ``path`` that makes (or raises by name) a builtin exception outside the
    allow-lists, or defines an exception class on builtin exceptions only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    forbidden = BUILTIN_EXCEPTIONS - PROTOCOL_EXCEPTIONS - _bound_names(tree)
    found: list[str] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = None
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name):
                name = child.func.id
            elif isinstance(child, ast.Raise) and isinstance(child.exc, ast.Name):
                name = child.exc.id
            if name in forbidden and (path.name, function, name) not in ALLOWED_IN:
                found.append(f"{path}:{child.lineno}: {name} in {function}")
            if isinstance(child, ast.ClassDef):
                bases = {base.id for base in child.bases if isinstance(base, ast.Name)}
                if bases & BUILTIN_EXCEPTIONS and bases <= BUILTIN_EXCEPTIONS and child.name != ROOT:
                    found.append(f"{path}:{child.lineno}: class {child.name} derives only from {sorted(bases)}")
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            visit(child, inner)

    visit(tree, "<module>")
    return found


def test_no_builtin_exception_is_raised_by_promwatch_or_its_tools() -> None:
    # Given every module of the runtime library and of the tools
    paths = [path for root in SOURCE_ROOTS for path in sorted(root.rglob("*.py"))]
    assert len(paths) > 100  # the walk found the packages
    # when their source is read, then none makes a builtin exception (a bare ValueError,
    # KeyError, TimeoutError, ...) or defines one outside PromwatchError: a PromwatchError
    # subclass that also derives the builtin takes its place
    found = [place for path in paths for place in builtin_exceptions_made(path)]
    assert found == []


def test_the_source_check_finds_each_spelling(tmp_path: Path) -> None:
    # Given a module with a bare raise, a made-and-returned error, a raise by name, an
    # exception class on Exception alone, and the allowed forms
    module = tmp_path / "module.py"
    module.write_text(
        "from concurrent.futures import TimeoutError\n"
        "def parse(text):\n"
        "    raise ValueError(text)\n"
        "def refusal(text):\n"
        "    return KeyError(text)\n"
        "def deadline():\n"
        "    raise ConnectionError\n"
        "class Problem(Exception):\n"
        "    pass\n"
        "class Fine(PromwatchError, ValueError):\n"
        "    pass\n"
        "def abstract():\n"
        "    raise NotImplementedError\n"
        "def waited():\n"
        "    raise TimeoutError('its own TimeoutError, imported')\n"
        "def again():\n"
        "    try:\n"
        "        pass\n"
        "    except OSError:\n"
        "        raise\n",
        encoding="utf-8",
    )
    # when it is checked, then exactly the four forbidden forms are reported
    found = builtin_exceptions_made(module)
    assert [place.split(": ", 1)[1] for place in found] == [
        "ValueError in parse", "KeyError in refusal", "ConnectionError in deadline",
        "class Problem derives only from ['Exception']",
    ]


def test_a_converted_validator_still_reports_a_located_value_error() -> None:
    # Given a job whose scrape_interval is not a duration (units.parse_duration refuses it)
    # when the scrape config is validated
    with pytest.raises(ValidationError) as raised:
        ScrapeConfig.model_validate({"scrape_configs": [{"job_name": "a", "scrape_interval": "5 minutes"}]})
    # then pydantic reports it as before: a value error at the key path, with the message
    (error,) = raised.value.errors(include_url=False)
    assert error["type"] == "value_error"
    assert error["loc"] == ("scrape_configs", 0, "scrape_interval")
    assert error["msg"] == "Value error, '5 minutes' is not a duration; expected e.g. 15s, 1m, 1h30m, 500ms"
    # and the error behind it is promwatch's, and still a ValueError
    cause = error["ctx"]["error"]
    assert isinstance(cause, PromwatchValueError) and isinstance(cause, ValueError)


def test_an_unknown_job_is_a_config_error_and_still_a_key_error() -> None:
    # Given a scrape config with one job, when another job is asked for by name
    config = ScrapeConfig.model_validate({"scrape_configs": [{"job_name": "a"}]})
    with pytest.raises(UnknownJobError) as raised:
        config.job("b")
    # then the error is promwatch's (a ConfigError) and the KeyError callers catch
    assert isinstance(raised.value, ConfigError) and isinstance(raised.value, PromwatchError)
    assert isinstance(raised.value, KeyError) and str(raised.value) == "'b'"
