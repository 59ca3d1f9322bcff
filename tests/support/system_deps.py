"""The programs the tests run besides Python: scripts/system-deps.sh installs every one of them
(``make system-deps``, part of ``make test``, so CI has them all).

A test that cannot find one fails, naming what to install: a missing program is a broken
machine, and a skip would let CI pass without ever running the test.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

INSTALL_HINT = "run `make system-deps` (scripts/system-deps.sh)"


def require_binary(name: str, *, package: str | None = None, also_in: tuple[str, ...] = ()) -> str:
    """The path of the program ``name`` on PATH (or in one of ``also_in``), or fail the test.

    ``package`` is the Debian package that holds it, when its name differs.
    """
    path = shutil.which(name) or (shutil.which(name, path=":".join(also_in)) if also_in else None)
    if path is None:
        pytest.fail(f"{name} is not installed (Debian package {package or name}): {INSTALL_HINT}", pytrace=False)
    return path


def require_node_app(app: Path) -> Path:
    """The Node app directory ``app`` with its npm packages installed, and node on PATH, or fail the test."""
    require_binary("node", package="nodejs")
    if not (app / "node_modules").is_dir():
        pytest.fail(f"the npm packages of {app} are not installed (no node_modules): {INSTALL_HINT}", pytrace=False)
    return app
