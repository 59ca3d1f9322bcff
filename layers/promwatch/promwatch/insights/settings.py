"""Settings of the insights function, read once per execution environment from its environment."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from promwatch.emf.identifiers import check_dimension_value
from promwatch.envsettings import settings_from_env
from promwatch.insights.errors import InsightsSettingsError
from promwatch.insights.rules import BUILTIN_RULES

__all__ = ["InsightsSettings"]

_ENV = {
    "rules": "PROMWATCH_INSIGHTS_RULES",
    "stage": "PROMWATCH_STAGE",
    "output": "PROMWATCH_OUTPUT",
    "config_ttl_seconds": "PROMWATCH_CONFIG_TTL_SECONDS",
    "log_group_template": "PROMWATCH_INSIGHTS_LOG_GROUP",
    "backfill_chunk_seconds": "PROMWATCH_BACKFILL_CHUNK_SECONDS",
    "backfill_margin_ms": "PROMWATCH_BACKFILL_MARGIN_MS",
}


class InsightsSettings(BaseModel):
    """What the insights function needs to know.

    Attributes
    ----------
    rules
        ``builtin``, a file path, ``ssm:/parameter/name`` or ``s3://bucket/key``
        (``PROMWATCH_INSIGHTS_RULES``).
    stage
        ``Stage`` dimension of the self-metrics (``PROMWATCH_STAGE``).
    output
        Sink name passed to ``promwatch.sinks`` (``PROMWATCH_OUTPUT``; ``stdout`` in Lambda,
        where CloudWatch extracts the metrics from the function's own log group).
    config_ttl_seconds
        How long rules from SSM or S3 are reused before being read again
        (``PROMWATCH_CONFIG_TTL_SECONDS``).
    log_group_template
        Performance log group of a cluster, for backfill (``{cluster}`` is replaced).
    backfill_chunk_seconds
        Backfill chunk length, rounded up to a multiple of the longest rule period.
    backfill_margin_ms
        Time kept in reserve before the Lambda deadline when deciding to start another chunk.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: str = BUILTIN_RULES
    stage: Annotated[str, AfterValidator(check_dimension_value)] = "dev"  # the self-metrics' Stage dimension
    output: str = "stdout"
    config_ttl_seconds: int = Field(default=300, ge=0)
    log_group_template: str = "/aws/containerinsights/{cluster}/performance"
    backfill_chunk_seconds: int = Field(default=3600, gt=0)
    backfill_margin_ms: int = Field(default=10_000, ge=0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> InsightsSettings:
        """Read the settings from ``environ`` (default ``os.environ``); empty values are unset.

        Raises
        ------
        InsightsSettingsError
            When a variable holds a bad value (names the variable).
        """
        return settings_from_env(cls, _ENV, environ, what="insights function settings", error=InsightsSettingsError)

    def log_group(self, cluster: str) -> str:
        """The performance log group of ``cluster``."""
        return self.log_group_template.format(cluster=cluster)
