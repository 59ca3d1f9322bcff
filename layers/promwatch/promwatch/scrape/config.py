"""The scrape configuration: Prometheus-compatible YAML, validated with pydantic.

Durations use Prometheus syntax (``15s``, ``1m``), sizes too (``10MB`` = 10 MiB). Job-level
settings left out inherit the ``global`` ones, as in Prometheus; the ``emf`` section merges
key by key (job keys win) and its namespace defaults to the job name. Secrets are
:class:`~pydantic.SecretStr`: their repr never shows them; a value ``ssm:/name`` or
``secretsmanager:name`` is a reference resolved at scrape time (:mod:`promwatch.scrape.secrets`).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from promwatch.emf import EmfSettings
from promwatch.scrape.relabel import LABEL_NAME, RelabelConfig
from promwatch.scrape.units import format_duration, parse_duration, parse_size

Duration = Annotated[float, BeforeValidator(lambda v: parse_duration(v) if isinstance(v, str) else v)]
"""Seconds, written as a Prometheus duration."""
ByteSize = Annotated[int, BeforeValidator(parse_size)]
"""Bytes, written as a Prometheus size (``10MB``); 0 means no limit."""
Limit = Annotated[int, Field(ge=0)]
"""A count limit; 0 means no limit."""

DEFAULT_SCRAPE_INTERVAL = 60.0
DEFAULT_SCRAPE_TIMEOUT = 10.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StaticConfig(_Strict):
    """A ``static_configs`` entry: targets (``host:port``) and labels they all get."""

    targets: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("targets")
    @classmethod
    def _targets_are_addresses(cls, value: list[str]) -> list[str]:
        for target in value:
            if not target or "/" in target or " " in target:
                raise ValueError(f"{target!r} is not a target address; expected host:port (no scheme or path)")
        return value

    @field_validator("labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not LABEL_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a valid label name; expected [a-zA-Z_][a-zA-Z0-9_]*")
        return value


class BasicAuth(_Strict):
    """HTTP basic authentication; the password may be a file or an SSM/Secrets Manager reference."""

    username: str = ""
    username_file: str | None = None
    password: SecretStr | None = None
    password_file: str | None = None

    @model_validator(mode="after")
    def _one_password(self) -> BasicAuth:
        if self.password is not None and self.password_file is not None:
            raise ValueError("at most one of basic_auth password & password_file must be configured")
        if self.username and self.username_file is not None:
            raise ValueError("at most one of basic_auth username & username_file must be configured")
        return self


class Authorization(_Strict):
    """The ``Authorization`` header: ``<type> <credentials>``."""

    type: str = "Bearer"
    credentials: SecretStr | None = None
    credentials_file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Authorization:
        if self.credentials is not None and self.credentials_file is not None:
            raise ValueError("at most one of authorization credentials & credentials_file must be configured")
        if self.type.strip().lower() == "basic":
            raise ValueError("authorization type cannot be set to 'Basic'; use 'basic_auth' instead")
        return self


class TlsConfig(_Strict):
    """TLS settings; certificates are verified unless ``insecure_skip_verify`` says otherwise."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False

    @model_validator(mode="after")
    def _cert_and_key(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("tls_config needs both cert_file and key_file for a client certificate, or neither")
        return self


class GlobalConfig(_Strict):
    """The ``global`` section: defaults for every job."""

    scrape_interval: Duration = DEFAULT_SCRAPE_INTERVAL
    scrape_timeout: Duration = DEFAULT_SCRAPE_TIMEOUT
    external_labels: dict[str, str] = Field(default_factory=dict)
    sample_limit: Limit = 0
    label_limit: Limit = 0
    label_name_length_limit: Limit = 0
    label_value_length_limit: Limit = 0
    body_size_limit: ByteSize = 0
    emf: dict[str, Any] | None = None
    """Raw ``emf`` defaults; each job validates the merge of these and its own section."""

    @field_validator("external_labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        return StaticConfig._label_names(value)


class ScrapeJob(_Strict):
    """A ``scrape_configs`` entry, with the global defaults filled in."""

    job_name: str = Field(min_length=1)
    scrape_interval: Duration | None = None
    scrape_timeout: Duration | None = None
    metrics_path: str = "/metrics"
    scheme: Literal["http", "https"] = "http"
    params: dict[str, list[str]] = Field(default_factory=dict)
    honor_labels: bool = False
    honor_timestamps: bool = True
    follow_redirects: bool = True
    static_configs: list[StaticConfig] = Field(default_factory=list)
    basic_auth: BasicAuth | None = None
    authorization: Authorization | None = None
    bearer_token: SecretStr | None = None
    bearer_token_file: str | None = None
    tls_config: TlsConfig = Field(default_factory=TlsConfig)
    relabel_configs: list[RelabelConfig] = Field(default_factory=list)
    metric_relabel_configs: list[RelabelConfig] = Field(default_factory=list)
    sample_limit: Limit | None = None
    label_limit: Limit | None = None
    label_name_length_limit: Limit | None = None
    label_value_length_limit: Limit | None = None
    body_size_limit: ByteSize | None = None
    strict: bool = False
    """False (the default): bad lines of the text format are skipped and counted. True: a bad
    line fails the scrape, as in Prometheus."""
    allow_link_local: bool = False
    """Allow targets on link-local / instance-metadata addresses (refused by default)."""
    emf: EmfSettings

    @field_validator("metrics_path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"{value!r} is not an absolute path; expected it to start with '/'")
        return value

    @model_validator(mode="after")
    def _one_auth(self) -> ScrapeJob:
        chosen = [
            name for name, value in (
                ("basic_auth", self.basic_auth), ("authorization", self.authorization),
                ("bearer_token", self.bearer_token), ("bearer_token_file", self.bearer_token_file),
            ) if value is not None
        ]
        if len(chosen) > 1:
            raise ValueError(f"at most one of {' & '.join(chosen)} must be configured")
        if self.timeout > self.interval:
            raise ValueError(
                f"scrape timeout {format_duration(self.timeout)} is greater than scrape interval "
                f"{format_duration(self.interval)}; expected timeout <= interval"
            )
        return self

    @property
    def interval(self) -> float:
        """Scrape interval in seconds (global default applied)."""
        return self.scrape_interval if self.scrape_interval is not None else DEFAULT_SCRAPE_INTERVAL

    @property
    def timeout(self) -> float:
        """Scrape timeout in seconds (global default applied)."""
        return self.scrape_timeout if self.scrape_timeout is not None else DEFAULT_SCRAPE_TIMEOUT


class ScrapeConfig(_Strict):
    """A whole configuration: ``global`` and ``scrape_configs``."""

    global_: GlobalConfig = Field(default_factory=GlobalConfig, alias="global")
    scrape_configs: list[ScrapeJob] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _inherit_global(cls, data: Any) -> Any:
        """Fill job settings left out from ``global``, before the jobs are validated."""
        if not isinstance(data, dict):
            return data
        raw_global = data.get("global") or {}
        if not isinstance(raw_global, dict):
            return data
        try:
            defaults = GlobalConfig.model_validate(raw_global)
        except ValidationError:
            return data  # the ``global`` field reports it, under its own key path
        jobs = data.get("scrape_configs") or []
        if not isinstance(jobs, list):
            return data
        filled: list[Any] = []
        for job in jobs:
            if isinstance(job, dict):
                job = _job_with_defaults(job, defaults)
            filled.append(job)
        return {**data, "scrape_configs": filled}

    @model_validator(mode="after")
    def _unique_jobs(self) -> ScrapeConfig:
        seen: set[str] = set()
        for job in self.scrape_configs:
            if job.job_name in seen:
                raise ValueError(f"found multiple scrape configs with job name {job.job_name!r}")
            seen.add(job.job_name)
        return self

    def job(self, name: str) -> ScrapeJob:
        """The job called ``name``.

        Raises
        ------
        KeyError
            When no job has that name.
        """
        for job in self.scrape_configs:
            if job.job_name == name:
                return job
        raise KeyError(name)


def _job_with_defaults(job: dict[str, Any], defaults: GlobalConfig) -> dict[str, Any]:
    out = dict(job)
    interval = out.get("scrape_interval")
    try:
        interval_s = parse_duration(interval) if isinstance(interval, str) else interval
    except ValueError:
        return out  # the job's own validation reports it under its key path
    if interval_s is None:
        out["scrape_interval"] = interval_s = defaults.scrape_interval
    if out.get("scrape_timeout") is None:
        # As Prometheus: a global timeout longer than the job's interval shrinks to it.
        timeout = defaults.scrape_timeout
        if isinstance(interval_s, int | float) and timeout > interval_s:
            timeout = float(interval_s)
        out["scrape_timeout"] = timeout
    for key in ("sample_limit", "label_limit", "label_name_length_limit", "label_value_length_limit",
                "body_size_limit"):
        if out.get(key) is None:
            out[key] = getattr(defaults, key)
    emf = dict(defaults.emf or {})
    job_emf = out.get("emf")
    if isinstance(job_emf, dict):
        emf.update(job_emf)
    elif job_emf is not None:
        return out  # not a mapping: let validation report it
    if not emf.get("namespace") and isinstance(out.get("job_name"), str):
        emf["namespace"] = out["job_name"]
    out["emf"] = emf
    return out
