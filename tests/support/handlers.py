"""A Lambda handler module (``functions/<name>/app.py``) imported fresh, as Lambda's INIT does: its
module-level code (settings from the environment, the runtime object) runs again on each import."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def import_handler(function: str, module_name: str) -> ModuleType:
    """``functions/<function>/app.py`` executed as a new module named ``module_name`` (not
    registered in ``sys.modules``: each call is a new INIT)."""
    spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS / function / "app.py")
    assert spec is not None and spec.loader is not None, f"no handler at functions/{function}/app.py"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
