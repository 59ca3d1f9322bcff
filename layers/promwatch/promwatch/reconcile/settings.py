"""Settings of a reconcile run, read once from the environment at the edge."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_SPEC_SUBDIR = "dashboards"
"""Spec directory under PROMWATCH_CONFIG_DIR (the config layer mounts config/ at /opt)."""


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class ReconcileSettings(BaseModel):
    """Where the spec is and which stage/region/account its resources belong to.

    Names: dashboards are global, so their names carry stage and region
    (``promwatch-{stage}-{region}-{name}``); alarms are regional (``promwatch-{stage}-{name}``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec_dir: Path
    stage: str = Field(default="dev", pattern=r"^[a-z0-9]+$")
    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    account_id: str = Field(default="123456789012", pattern=r"^\d{12}$")
    """Used in alarm ARNs (alarm-status widgets); the shell resolves the real one."""

    @property
    def partition(self) -> str:
        """``aws``, ``aws-cn`` or ``aws-us-gov``, from the region."""
        return _partition(self.region)

    @property
    def alarm_prefix(self) -> str:
        """Every alarm promwatch manages in this stage starts with this."""
        return f"promwatch-{self.stage}-"

    @property
    def dashboard_prefix(self) -> str:
        """Every dashboard promwatch manages in this stage and region starts with this."""
        return f"promwatch-{self.stage}-{self.region}-"

    def alarm_name(self, name: str) -> str:
        """The CloudWatch name of spec alarm ``name``."""
        return self.alarm_prefix + name

    def dashboard_name(self, name: str) -> str:
        """The CloudWatch name of spec dashboard ``name``."""
        return self.dashboard_prefix + name

    def alarm_arn(self, name: str) -> str:
        """The ARN of spec alarm ``name``."""
        return f"arn:{self.partition}:cloudwatch:{self.region}:{self.account_id}:alarm:{self.alarm_name(name)}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, account_id: str | None = None) -> ReconcileSettings:
        """Read PROMWATCH_SPEC_DIR (default ``$PROMWATCH_CONFIG_DIR/dashboards``, else
        ``config/dashboards``), PROMWATCH_STAGE, AWS_REGION / AWS_DEFAULT_REGION."""
        env = os.environ if environ is None else environ
        config_dir = env.get("PROMWATCH_CONFIG_DIR")
        default_dir = Path(config_dir) / DEFAULT_SPEC_SUBDIR if config_dir else Path("config") / DEFAULT_SPEC_SUBDIR
        values: dict[str, object] = {
            "spec_dir": Path(env.get("PROMWATCH_SPEC_DIR") or default_dir),
            "stage": env.get("PROMWATCH_STAGE") or "dev",
            "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        }
        if account_id:
            values["account_id"] = account_id
        return cls.model_validate(values)
