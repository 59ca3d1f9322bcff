"""The scrape configuration: Prometheus-compatible YAML, validated with pydantic.

Durations use Prometheus syntax (``15s``, ``1m``), sizes too (``10MB`` = 10 MiB); a scrape
interval or timeout of 0 is refused (Prometheus reads 0 as "unset": leave the key out instead).
Job-level settings left out inherit the ``global`` ones, as in Prometheus; the ``emf`` section
merges key by key (job keys win) and its namespace defaults to the job name (characters a
namespace cannot hold as ``_``). A broken ``global`` key is reported once, under ``global``: the
jobs do not inherit it, nor fail for want of it. Secrets are :class:`~pydantic.SecretStr`: their
repr never shows them, and one that cannot travel in an HTTP header is refused without being
quoted (:mod:`promwatch.credentials`); a value ``ssm:/name`` or ``secretsmanager:name`` is
a reference resolved at scrape time (:mod:`promwatch.httpclient.secrets`). The HTTP client settings
(``basic_auth``, ``authorization``, ``tls_config``) are :mod:`promwatch.httpclient.config`'s, shared with
``http_sd_configs``.

``outputs`` (job or ``global``; a job's list replaces the global one) says where a job's samples
go: ``emf`` (the default: the ``emf:`` section and its ``emf.output``), ``otlp`` (OpenTelemetry
metrics, :class:`promwatch.otlp.OtlpOutput`), or both while migrating::

    outputs: [emf, {type: otlp, region: eu-west-1}]

``metric_name_validation_scheme`` (``utf8`` or ``legacy``) and ``metric_name_escaping_scheme``
(``allow-utf-8``, ``underscores``, ``dots``, ``values``), job or ``global``, are Prometheus 3's:
they choose the ``escaping`` the scrape asks for (:attr:`ScrapeJob.name_escaping`). Unset, a
job whose only output is OTLP asks for UTF-8 names (``allow-utf-8``), and a job with EMF sends
the Accept header it always has.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from promwatch.credentials import CredentialKind, check_credential
from promwatch.discovery import KubernetesSDConfig, SDConfig
from promwatch.discovery.aws import AwsSDConfig
from promwatch.discovery.dns import DnsSDConfig
from promwatch.discovery.ec2 import Ec2SDConfig
from promwatch.discovery.file import FileSDConfig
from promwatch.discovery.http import HttpSDConfig
from promwatch.discovery.model import ADDRESS
from promwatch.emf import EmfSettings
from promwatch.emf.identifiers import check_dimension_value
from promwatch.emf.naming import default_namespace
from promwatch.httpclient.config import Authorization, BasicAuth, ConfigSection, TlsConfig, configured_auth
from promwatch.httpclient.errors import InvalidTargetError
from promwatch.httpclient.url import parse_authority
from promwatch.otlp.config import OtlpOutput, Outputs, emf_only
from promwatch.scrape.budget import MAX_SERIES_BUDGET
from promwatch.scrape.errors import ConfigValueError, UnknownJobError
from promwatch.scrape.relabel import RelabelConfig, ScalarText
from promwatch.scrape.static import StaticConfig
from promwatch.units import ByteSize, Limit, PositiveDuration, duration_seconds, format_duration

ValidationScheme = Literal["utf8", "legacy"]
"""``metric_name_validation_scheme``: Prometheus 3's names."""
EscapingScheme = Literal["allow-utf-8", "underscores", "dots", "values"]
"""``metric_name_escaping_scheme``: the ``escaping`` values of Prometheus's content negotiation."""


DEFAULT_SCRAPE_INTERVAL = 60.0
SeriesBudget = Annotated[Limit, Field(le=MAX_SERIES_BUDGET)]
"""``max_series``: 0 (no budget) up to :data:`~promwatch.scrape.budget.MAX_SERIES_BUDGET`."""
DEFAULT_SCRAPE_TIMEOUT = 10.0


class GlobalConfig(ConfigSection):
    """The ``global`` section: defaults for every job."""

    scrape_interval: PositiveDuration = DEFAULT_SCRAPE_INTERVAL
    scrape_timeout: PositiveDuration = DEFAULT_SCRAPE_TIMEOUT
    external_labels: dict[str, ScalarText] = Field(default_factory=dict)
    sample_limit: Limit = 0
    label_limit: Limit = 0
    label_name_length_limit: Limit = 0
    label_value_length_limit: Limit = 0
    body_size_limit: ByteSize = 0
    max_series: SeriesBudget = 0
    emf: EmfSettings | None = None
    """``emf`` defaults, valid on their own; each job validates the merge of these (as written)
    and its own section."""
    outputs: Outputs | None = None
    """The jobs' ``outputs`` when they name none."""
    metric_name_validation_scheme: ValidationScheme | None = None
    metric_name_escaping_scheme: EscapingScheme | None = None

    @field_validator("external_labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        return StaticConfig._label_names(value)

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> GlobalConfig:
        # As Prometheus: a timeout written longer than the interval is an error; the default
        # timeout shrinks to a shorter interval.
        if self.scrape_timeout > self.scrape_interval:
            if "scrape_timeout" in self.model_fields_set:
                raise ConfigValueError(
                    f"global scrape timeout {format_duration(self.scrape_timeout)} is greater than scrape interval "
                    f"{format_duration(self.scrape_interval)}; expected timeout <= interval"
                )
            self.scrape_timeout = self.scrape_interval
        return self


class ScrapeJob(ConfigSection):
    """A ``scrape_configs`` entry, with the global defaults filled in."""

    job_name: Annotated[str, AfterValidator(check_dimension_value)]  # every series' ``job`` dimension
    scrape_interval: PositiveDuration | None = None
    scrape_timeout: PositiveDuration | None = None
    metrics_path: str = "/metrics"
    scheme: Literal["http", "https"] = "http"
    params: dict[str, list[ScalarText]] = Field(default_factory=dict)
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
    max_series: SeriesBudget = 0
    """Series budget of each target: at most this many CloudWatch metrics published; new series
    beyond it are withheld and counted, those already flowing keep flowing
    (:mod:`promwatch.scrape.budget`). 0 (the default): no budget."""
    strict: bool = False
    """False (the default): bad lines of the text format are skipped and counted. True: a bad
    line fails the scrape, as in Prometheus."""
    allow_link_local: bool = False
    """Allow targets on link-local / instance-metadata addresses (refused by default)."""
    file_sd_configs: list[FileSDConfig] = Field(default_factory=list)
    ec2_sd_configs: list[Ec2SDConfig] = Field(default_factory=list)
    aws_sd_configs: list[AwsSDConfig] = Field(default_factory=list)
    kubernetes_sd_configs: list[KubernetesSDConfig] = Field(default_factory=list)
    dns_sd_configs: list[DnsSDConfig] = Field(default_factory=list)
    http_sd_configs: list[HttpSDConfig] = Field(default_factory=list)
    emf: EmfSettings = Field(default_factory=EmfSettings)
    outputs: Outputs = Field(default_factory=emf_only)
    """Where the samples go: EMF, OTLP or both (see the module docstring)."""
    metric_name_validation_scheme: ValidationScheme | None = None
    metric_name_escaping_scheme: EscapingScheme | None = None

    @field_validator("bearer_token")
    @classmethod
    def _bearer_token_fits(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_credential(value.get_secret_value(), CredentialKind.HEADER)
        return value

    @field_validator("metrics_path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ConfigValueError(f"{value!r} is not an absolute path; expected it to start with '/'")
        return value

    @model_validator(mode="after")
    def _static_targets_become_addresses(self) -> ScrapeJob:
        # As Prometheus, a static target is checked as an address after relabelling; a job
        # whose relabel_configs never write __address__ keeps its targets as they are written.
        if any(rule.target_label == ADDRESS or "$" in rule.target_label or rule.action == "labelmap"
               for rule in self.relabel_configs):
            return self
        for index, static in enumerate(self.static_configs):
            for target in static.targets:
                try:
                    parse_authority(target)
                except InvalidTargetError as exc:
                    raise ConfigValueError(
                        f"static_configs[{index}].targets: {exc}; a URL or path target needs relabel_configs "
                        "that set __address__ (and e.g. __param_target), as for a blackbox exporter"
                    ) from None
        return self

    @model_validator(mode="after")
    def _one_auth(self) -> ScrapeJob:
        chosen = configured_auth(self)
        if len(chosen) > 1:
            raise ConfigValueError(f"at most one of {' & '.join(chosen)} must be configured")
        if self.metric_name_validation_scheme == "legacy" and self.metric_name_escaping_scheme == "allow-utf-8":
            raise ConfigValueError("metric_name_escaping_scheme 'allow-utf-8' asks for UTF-8 names, which "
                             "metric_name_validation_scheme 'legacy' refuses; expected underscores, dots or values")
        if self.timeout > self.interval:
            raise ConfigValueError(
                f"scrape timeout {format_duration(self.timeout)} is greater than scrape interval "
                f"{format_duration(self.interval)}; expected timeout <= interval"
            )
        return self

    def sd_configs(self) -> list[tuple[str, SDConfig]]:
        """Every ``*_sd_configs`` entry of the job, as ``("file_sd_configs[0]", config)``."""
        found: list[tuple[str, SDConfig]] = []
        for name in type(self).model_fields:
            if name.endswith("_sd_configs"):
                found.extend((f"{name}[{index}]", config) for index, config in enumerate(getattr(self, name)))
        return found

    @property
    def sends_emf(self) -> bool:
        """Whether the job's samples go out as EMF."""
        return any(entry.type == "emf" for entry in self.outputs)

    @property
    def name_escaping(self) -> str | None:
        """The ``escaping`` the scrape's Accept header asks for; None: the header EMF jobs have
        always sent (no ``escaping``: targets escape UTF-8 names to the legacy characters).

        ``metric_name_escaping_scheme`` when set; else ``allow-utf-8`` when
        ``metric_name_validation_scheme`` is ``utf8``, or unset and the job's only output is OTLP
        (which keeps names as exposed); else None.
        """
        if self.metric_name_escaping_scheme is not None:
            return self.metric_name_escaping_scheme
        scheme = self.metric_name_validation_scheme
        if scheme == "utf8" or (scheme is None and not self.sends_emf):
            return "allow-utf-8"
        return None

    @property
    def otlp(self) -> OtlpOutput | None:
        """The job's OTLP output, if it has one."""
        return next((entry for entry in self.outputs if isinstance(entry, OtlpOutput)), None)

    @property
    def interval(self) -> float:
        """Scrape interval in seconds (global default applied)."""
        return self.scrape_interval if self.scrape_interval is not None else DEFAULT_SCRAPE_INTERVAL

    @property
    def timeout(self) -> float:
        """Scrape timeout in seconds (global default applied)."""
        return self.scrape_timeout if self.scrape_timeout is not None else DEFAULT_SCRAPE_TIMEOUT


class ScrapeConfig(ConfigSection):
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
        jobs = data.get("scrape_configs") or []
        if not isinstance(jobs, list):
            return data
        raw_global = data.get("global") or {}
        defaults, broken = _usable_defaults(raw_global)
        emf = raw_global.get("emf") if isinstance(raw_global, dict) and "emf" not in broken else None
        filled = [_job_with_defaults(job, defaults, broken, emf) if isinstance(job, dict) else job for job in jobs]
        return {**data, "scrape_configs": filled}

    @model_validator(mode="after")
    def _unique_jobs(self) -> ScrapeConfig:
        seen: set[str] = set()
        for job in self.scrape_configs:
            if job.job_name in seen:
                raise ConfigValueError(f"found multiple scrape configs with job name {job.job_name!r}")
            seen.add(job.job_name)
        return self

    def job(self, name: str) -> ScrapeJob:
        """The job called ``name``.

        Raises
        ------
        UnknownJobError
            When no job has that name (a ``KeyError`` too).
        """
        for job in self.scrape_configs:
            if job.job_name == name:
                return job
        raise UnknownJobError(name)


def _seconds_or_zero(value: Any) -> float:
    try:
        return duration_seconds(value) if value is not None else 0.0
    except ValueError:
        return 0.0  # not a duration: the job's own validation reports it under its key path


def _usable_defaults(raw_global: Any) -> tuple[GlobalConfig, frozenset[str]]:
    """The defaults ``global`` gives the jobs, and its keys that are broken.

    A broken key is reported under ``global`` (by the field's own validation); the jobs get the
    built-in default instead, so that one mistake is not repeated, or echoed as bogus errors, in
    every job.
    """
    if not isinstance(raw_global, dict):
        return GlobalConfig(), frozenset(GlobalConfig.model_fields)
    try:
        return GlobalConfig.model_validate(raw_global), frozenset()
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    broken = {str(error["loc"][0]) for error in errors if error["loc"]}
    if any(not error["loc"] for error in errors):  # the model's own check: timeout > interval
        broken |= {"scrape_interval", "scrape_timeout"}
    try:
        usable = GlobalConfig.model_validate({k: v for k, v in raw_global.items() if k not in broken})
    except ValidationError:
        return GlobalConfig(), frozenset(GlobalConfig.model_fields)
    return usable, frozenset(broken)


def _job_with_defaults(
    job: dict[str, Any], defaults: GlobalConfig, broken: frozenset[str], global_emf: Any
) -> dict[str, Any]:
    out = dict(job)
    if out.get("scrape_interval") is None:
        interval_s = defaults.scrape_interval
        if "scrape_interval" in broken:
            # Unknown (reported under global): an interval that cannot make the job's own
            # timeout look too long.
            interval_s = max(interval_s, _seconds_or_zero(out.get("scrape_timeout")))
        out["scrape_interval"] = interval_s
    else:
        interval_s = _seconds_or_zero(out["scrape_interval"])
    if out.get("scrape_timeout") is None:
        # As Prometheus: a global timeout longer than the job's interval shrinks to it.
        timeout = defaults.scrape_timeout
        if timeout > interval_s > 0:
            timeout = interval_s
        out["scrape_timeout"] = timeout
    for key in ("sample_limit", "label_limit", "label_name_length_limit", "label_value_length_limit",
                "body_size_limit", "max_series", "metric_name_validation_scheme", "metric_name_escaping_scheme"):
        if out.get(key) is None:
            out[key] = getattr(defaults, key)
    if out.get("outputs") is None and defaults.outputs is not None:
        out["outputs"] = defaults.outputs
    job_emf = out.get("emf")
    if job_emf is not None and not isinstance(job_emf, dict):
        return out  # not a mapping: its validation reports it
    emf = {**(global_emf if isinstance(global_emf, dict) else {}), **(job_emf or {})}
    if not emf.get("namespace") and isinstance(out.get("job_name"), str):
        emf["namespace"] = default_namespace(out["job_name"])
    out["emf"] = emf
    return out
