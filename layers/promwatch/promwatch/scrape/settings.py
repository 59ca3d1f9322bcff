"""The scrape function's settings, read once per execution environment from its environment."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from promwatch.emf.identifiers import check_dimension_value
from promwatch.envsettings import settings_from_env
from promwatch.scrape.errors import ConfigError
from promwatch.scrape.loader import DEFAULT_CONFIG_TTL_SECONDS

_ENV = {
    "config_source": "PROMWATCH_SCRAPE_CONFIG",
    "config_ttl_seconds": "PROMWATCH_CONFIG_TTL_SECONDS",
    "state_table": "PROMWATCH_STATE_TABLE",
    "fanout_queue_url": "PROMWATCH_FANOUT_QUEUE_URL",
    "max_targets_per_invocation": "PROMWATCH_MAX_TARGETS_PER_INVOCATION",
    "output": "PROMWATCH_OUTPUT",
    "stage": "PROMWATCH_STAGE",
    "max_workers": "PROMWATCH_SCRAPE_CONCURRENCY",
}


class ScrapeSettings(BaseModel):
    """Settings of the scrape function (environment variable in brackets).

    Attributes
    ----------
    config_source
        [PROMWATCH_SCRAPE_CONFIG] a file path, ``ssm:/parameter`` or ``s3://bucket/key``.
    config_ttl_seconds
        [PROMWATCH_CONFIG_TTL_SECONDS] how long a warm environment reuses the config.
    state_table
        [PROMWATCH_STATE_TABLE] DynamoDB table of counter baselines (None: in memory only).
    fanout_queue_url
        [PROMWATCH_FANOUT_QUEUE_URL] SQS queue for targets beyond one invocation's share.
    max_targets_per_invocation
        [PROMWATCH_MAX_TARGETS_PER_INVOCATION] targets one invocation scrapes itself.
    output
        [PROMWATCH_OUTPUT] ``stdout``, ``logs``, ``logs:GROUP[:STREAM]`` or ``file:PATH``.
    stage
        [PROMWATCH_STAGE] deployment stage, a dimension of the self-metrics.
    max_workers
        [PROMWATCH_SCRAPE_CONCURRENCY] targets scraped at the same time.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    config_source: str = "config/scrape.yaml"
    config_ttl_seconds: float = Field(default=DEFAULT_CONFIG_TTL_SECONDS, ge=0, allow_inf_nan=False)
    state_table: str | None = None
    fanout_queue_url: str | None = None
    max_targets_per_invocation: int = Field(default=50, ge=1)
    output: str = "stdout"
    stage: Annotated[str, AfterValidator(check_dimension_value)] | None = None  # the self-metrics' Stage dimension
    max_workers: int = Field(default=16, ge=1, le=256)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ScrapeSettings:
        """Read the settings from ``environ`` (default ``os.environ``); empty values are unset.

        Raises
        ------
        ConfigError
            When a variable holds a value of the wrong kind (names the variable).
        """
        return settings_from_env(cls, _ENV, environ, what="scrape function settings", error=ConfigError)
