"""Handlers in-process after their INIT: cyclic GC back on, and no Powertools warning about
empty metrics on invocations that publish none (warm scrapes, failed roll-ups)."""
from __future__ import annotations

import gc
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import free_port
from tests.support.handlers import import_handler

ROOT = Path(__file__).resolve().parents[2]


class LambdaContext:
    function_name = "promwatch-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:promwatch-test"
    aws_request_id = "1f0c6f3e-4a8e-4c41-9a55-6f4b0c6f2d11"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _import(name: str) -> ModuleType:
    return import_handler(name, f"{name}_app_coldstart")


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "scrape.yaml"
    config.write_text(f"scrape_configs: [{{job_name: down, static_configs: [{{targets: ['127.0.0.1:{free_port()}']}}]}}]\n")
    monkeypatch.setenv("PROMWATCH_SCRAPE_CONFIG", str(config))
    monkeypatch.setenv("PROMWATCH_INSIGHTS_RULES", str(ROOT / "config" / "insights.yaml"))
    monkeypatch.setenv("PROMWATCH_OUTPUT", "stdout")
    monkeypatch.setenv("PROMWATCH_STAGE", "test")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Promwatch")
    for var in ("PROMWATCH_STATE_TABLE", "PROMWATCH_FANOUT_QUEUE_URL"):
        monkeypatch.delenv(var, raising=False)


def _empty_metrics_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "No application metrics" in str(w.message)]


def test_scrape_invocations_print_no_empty_metrics_warning(capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        # given every warning shown (the handler's own filter is added by its INIT),
        warnings.simplefilter("always")
        app = _import("scrape")
        # when a cold and a warm invocation run (only the cold one has a metric: ColdStart),
        for _ in range(2):
            app.lambda_handler({"jobs": ["down"]}, LambdaContext())
    capsys.readouterr()
    # then Powertools printed no warning about empty metrics, and cyclic GC is on again
    assert _empty_metrics_warnings(caught) == []
    assert gc.isenabled()


def test_failed_insights_invocation_prints_no_empty_metrics_warning(capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = _import("insights")
        # given an event of no known shape, the invocation fails before adding its metric
        event: dict[str, Any] = {"unexpected": True}
        for _ in range(2):
            with pytest.raises(Exception, match="event"):
                app.lambda_handler(event, LambdaContext())
    capsys.readouterr()
    # then no empty-metrics warning was printed for it
    assert _empty_metrics_warnings(caught) == []
