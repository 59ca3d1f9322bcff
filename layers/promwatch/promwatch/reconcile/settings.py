"""Settings of the reconcile function (and of a reconcile run), read once per execution environment."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from promwatch.envsettings import read_variables, settings_from_env
from promwatch.reconcile.errors import ReconcileSettingsError

DEFAULT_SPEC_SUBDIR = "dashboards"
"""Spec directory under PROMWATCH_CONFIG_DIR (the config layer mounts config/ at /opt)."""

_ENV = {
    "spec_dir": "PROMWATCH_SPEC_DIR",
    "stage": "PROMWATCH_STAGE",
    "output": "PROMWATCH_OUTPUT",
}


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class ReconcileSettings(BaseModel):
    """Where the spec is, which stage/region/account its resources belong to, where self-metrics go.

    Names: dashboards are global, so their names carry stage and region
    (``promwatch-{stage}-{region}-{name}``); alarms are regional (``promwatch-{stage}-{name}``).
    ``output`` is the sink of the function's self-metrics (``PROMWATCH_OUTPUT``: ``stdout``,
    ``logs[:GROUP[:STREAM]]`` or ``file:PATH``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec_dir: Path
    stage: str = Field(default="dev", pattern=r"^[a-z0-9]+$")
    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    account_id: str = Field(default="123456789012", pattern=r"^\d{12}$")
    """Used in alarm ARNs (alarm-status widgets); the shell resolves the real one."""
    output: str = "stdout"

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
        """Read the settings from ``environ`` (default ``os.environ``); empty values are unset.

        PROMWATCH_SPEC_DIR (default ``$PROMWATCH_CONFIG_DIR/dashboards``, else
        ``config/dashboards``), PROMWATCH_STAGE, PROMWATCH_OUTPUT, and the region of
        AWS_REGION / AWS_DEFAULT_REGION (Lambda sets both).

        Raises
        ------
        ReconcileSettingsError
            When a variable holds a bad value (names the variable).
        """
        variables = {**_ENV, "region": "AWS_REGION"}
        present = read_variables({**variables, "config_dir": "PROMWATCH_CONFIG_DIR",
                                  "default_region": "AWS_DEFAULT_REGION"}, environ)
        derived: dict[str, object] = {}
        if "spec_dir" not in present:
            derived["spec_dir"] = Path(present.get("config_dir", "config")) / DEFAULT_SPEC_SUBDIR
        if "region" not in present:
            derived["region"] = present.get("default_region", "us-east-1")
        if account_id:
            derived["account_id"] = account_id
        return settings_from_env(cls, variables, environ, what="reconcile function settings",
                                 error=ReconcileSettingsError, derived=derived)
