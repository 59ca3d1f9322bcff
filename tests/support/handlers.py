"""A Lambda handler module (``functions/<name>/app.py``) imported fresh, as Lambda's INIT does: its
module-level code (settings from the environment, the runtime object) runs again on each import."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def import_handler(function: str, module_name: str) -> ModuleType:
    """``functions/<function>/app.py`` executed as a new module named ``module_name`` (not
    registered in ``sys.modules``: each call is a new INIT)."""
    spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS / function / "app.py")
    assert spec is not None and spec.loader is not None, f"no handler at functions/{function}/app.py"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def import_scrape_handler(monkeypatch: pytest.MonkeyPatch, config: Path, module_name: str, *,
                          stage: str | None = None) -> ModuleType:
    """The scrape function's handler imported fresh on ``config`` (a file), writing EMF to stdout,
    with no state table, fan-out queue or X-Ray: what the handler tests run it as."""
    monkeypatch.setenv("PROMWATCH_SCRAPE_CONFIG", str(config))
    monkeypatch.setenv("PROMWATCH_OUTPUT", "stdout")
    if stage is not None:
        monkeypatch.setenv("PROMWATCH_STAGE", stage)
    for name in ("PROMWATCH_STATE_TABLE", "PROMWATCH_FANOUT_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Promwatch")
    return import_handler("scrape", module_name)
