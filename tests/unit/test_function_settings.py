"""The three functions read their environment one way: ``<Function>Settings.from_env(environ=None)``.

A variable that is unset, empty or blank leaves its default; a bad value is refused with the
function's own error, naming the variable and the value; with no mapping given, ``os.environ``
is read.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from promwatch.errors import PromwatchError
from promwatch.insights import InsightsSettings, InsightsSettingsError
from promwatch.reconcile import ReconcileSettings, ReconcileSettingsError
from promwatch.scrape import ConfigError, ScrapeSettings
from pydantic import BaseModel

SETTINGS: list[tuple[type[BaseModel], type[PromwatchError], str, str]] = [
    # (settings, its error, a variable it reads, a bad value of it)
    (ScrapeSettings, ConfigError, "PROMWATCH_SCRAPE_CONCURRENCY", "many"),
    (InsightsSettings, InsightsSettingsError, "PROMWATCH_CONFIG_TTL_SECONDS", "-1"),
    (ReconcileSettings, ReconcileSettingsError, "PROMWATCH_STAGE", "Not A Stage"),
]


@pytest.mark.parametrize(("settings", "error", "variable", "bad"), SETTINGS)
def test_a_bad_value_is_refused_with_the_functions_error_naming_it(
    settings: type[BaseModel], error: type[PromwatchError], variable: str, bad: str
) -> None:
    # given a variable holding a value of the wrong kind
    with pytest.raises(error) as raised:
        settings.from_env({variable: bad})  # type: ignore[attr-defined]
    # then the message names the variable and the value
    assert f"{variable}={bad!r}" in str(raised.value)


@pytest.mark.parametrize(("settings", "error", "variable", "bad"), SETTINGS)
def test_blank_variables_leave_the_defaults(
    settings: type[BaseModel], error: type[PromwatchError], variable: str, bad: str
) -> None:
    # given every variable it reads set to blanks
    blank = {variable: "  ", "PROMWATCH_OUTPUT": "", "PROMWATCH_STAGE": " "}
    # then the settings are those of an empty environment
    assert settings.from_env(blank) == settings.from_env({})  # type: ignore[attr-defined]


@pytest.mark.parametrize("settings", [s for s, *_ in SETTINGS])
def test_with_no_mapping_the_process_environment_is_read(
    settings: type[BaseModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the output set in the process environment
    monkeypatch.setenv("PROMWATCH_OUTPUT", "file:/tmp/promwatch.jsonl")
    # then from_env() reads it
    assert settings.from_env().output == "file:/tmp/promwatch.jsonl"  # type: ignore[attr-defined]


def test_reconcile_settings_read_the_output_beside_the_spec_and_region() -> None:
    # given the reconcile function's environment as template.yaml and Lambda set it
    settings = ReconcileSettings.from_env({
        "PROMWATCH_CONFIG_DIR": "/opt", "PROMWATCH_STAGE": "prod", "PROMWATCH_OUTPUT": "stdout",
        "AWS_REGION": "", "AWS_DEFAULT_REGION": "eu-west-1",
    }, account_id="111122223333")
    # then the spec is the config layer's, the region Lambda's, and the output the variable's
    assert (settings.spec_dir, settings.stage, settings.region, settings.account_id, settings.output) == (
        Path("/opt/dashboards"), "prod", "eu-west-1", "111122223333", "stdout")
    # and an explicit spec directory wins over the config layer's
    assert ReconcileSettings.from_env({"PROMWATCH_CONFIG_DIR": "/opt", "PROMWATCH_SPEC_DIR": "/specs"}).spec_dir == Path("/specs")
