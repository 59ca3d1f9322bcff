"""Insights function settings from the environment."""
from __future__ import annotations

import pytest
from promwatch.insights import InsightsSettings, InsightsSettingsError
from pydantic import ValidationError


def test_defaults_and_environment() -> None:
    # Given no variables, Then the builtin rules go to stdout
    assert InsightsSettings.from_env({}) == InsightsSettings(rules="builtin", stage="dev", output="stdout")
    # Given the template's variables, Then they are read
    settings = InsightsSettings.from_env({
        "PROMWATCH_INSIGHTS_RULES": "/opt/insights.yaml", "PROMWATCH_STAGE": "prod",
        "PROMWATCH_OUTPUT": "logs:/promwatch/metrics/prod", "PROMWATCH_BACKFILL_CHUNK_SECONDS": "7200",
        "UNRELATED": "x",
    })
    assert (settings.rules, settings.stage, settings.output, settings.backfill_chunk_seconds) == (
        "/opt/insights.yaml", "prod", "logs:/promwatch/metrics/prod", 7200)
    assert settings.log_group("prod-eks") == "/aws/containerinsights/prod-eks/performance"


def test_bad_values_are_refused_naming_the_variable() -> None:
    # given a backfill chunk of 0 seconds in the environment, when read, then it is refused naming the variable and value
    with pytest.raises(InsightsSettingsError, match="PROMWATCH_BACKFILL_CHUNK_SECONDS='0'"):
        InsightsSettings.from_env({"PROMWATCH_BACKFILL_CHUNK_SECONDS": "0"})
    # the stage is the self-metrics' Stage dimension: a blank one is no dimension value
    with pytest.raises(ValidationError, match="stage"):
        InsightsSettings(stage="  ")
