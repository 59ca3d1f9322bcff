"""Prometheus' ``<http_config>`` keys, shared by scrape jobs and the discoveries that speak HTTP.

A scrape job and a ``kubernetes_sd_configs`` entry authenticate and verify TLS with the same
keys (``basic_auth``, ``authorization``, ``bearer_token(_file)``, ``tls_config``,
``follow_redirects``), validated here once. Secrets are :class:`~pydantic.SecretStr`: their repr
never shows them, and one that cannot travel in an HTTP header is refused without being quoted
(:mod:`promwatch.credentials`); ``ssm:/name`` and ``secretsmanager:name`` values are references
resolved when the request is made (:mod:`promwatch.httpclient.secrets`).
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr, field_validator, model_validator

from promwatch.credentials import CredentialKind, check_credential
from promwatch.httpclient.errors import HttpConfigError

__all__ = [
    "Authorization",
    "BasicAuth",
    "ConfigSection",
    "HeaderSecret",
    "HttpClientConfig",
    "PasswordSecret",
    "TlsConfig",
    "configured_auth",
]


class ConfigSection(BaseModel):
    """A section of a Prometheus configuration: unknown keys are refused, and a key written with
    no value (``global:``) keeps its default, as in Prometheus."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


def _fits(kind: CredentialKind) -> AfterValidator:
    """Validates a secret as a ``kind`` credential (:func:`~promwatch.credentials.check_credential`)."""

    def check(value: SecretStr) -> SecretStr:
        check_credential(value.get_secret_value(), kind)
        return value

    return AfterValidator(check)


HeaderSecret = Annotated[SecretStr, _fits(CredentialKind.HEADER)]
"""A secret that travels in an ``Authorization`` header as it is."""
PasswordSecret = Annotated[SecretStr, _fits(CredentialKind.BASIC_PASSWORD)]
"""A basic authentication password."""


class BasicAuth(ConfigSection):
    """HTTP basic authentication; the password may be a file or an SSM/Secrets Manager reference."""

    username: str = ""
    username_file: str | None = None
    password: PasswordSecret | None = None
    password_file: str | None = None

    @field_validator("username")
    @classmethod
    def _username_fits(cls, value: str) -> str:
        check_credential(value, CredentialKind.BASIC_USERNAME)
        return value

    @model_validator(mode="after")
    def _one_password(self) -> BasicAuth:
        if self.password is not None and self.password_file is not None:
            raise HttpConfigError("at most one of basic_auth password & password_file must be configured")
        if self.username and self.username_file is not None:
            raise HttpConfigError("at most one of basic_auth username & username_file must be configured")
        return self


class Authorization(ConfigSection):
    """The ``Authorization`` header: ``<type> <credentials>``."""

    type: str = "Bearer"
    credentials: HeaderSecret | None = None
    credentials_file: str | None = None

    @field_validator("type")
    @classmethod
    def _type_is_a_word(cls, value: str) -> str:
        check_credential(value, CredentialKind.HEADER)
        if any(c.isspace() for c in value.strip()):
            raise HttpConfigError("is not one word; expected the scheme alone (Bearer), the token under credentials")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Authorization:
        if self.credentials is not None and self.credentials_file is not None:
            raise HttpConfigError("at most one of authorization credentials & credentials_file must be configured")
        if self.type.strip().lower() == "basic":
            raise HttpConfigError("authorization type cannot be set to 'Basic'; use 'basic_auth' instead")
        return self


class TlsConfig(ConfigSection):
    """TLS settings; certificates are verified unless ``insecure_skip_verify`` says otherwise."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False

    @field_validator("server_name")
    @classmethod
    def _host_name(cls, value: str | None) -> str | None:
        if value is not None and (not value or not value.isprintable() or any(c.isspace() for c in value)):
            raise HttpConfigError(f"{value!r} is not a host name; expected e.g. api.internal")
        return value

    @model_validator(mode="after")
    def _cert_and_key(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise HttpConfigError("tls_config needs both cert_file and key_file for a client certificate, or neither")
        return self


def configured_auth(settings: Any) -> list[str]:
    """The authentication keys ``settings`` sets (Prometheus allows at most one)."""
    return [
        name for name in ("basic_auth", "authorization", "bearer_token", "bearer_token_file")
        if getattr(settings, name) is not None
    ]


class HttpClientConfig(ConfigSection):
    """The ``<http_config>`` keys promwatch reads, for a section that is an HTTP client."""

    basic_auth: BasicAuth | None = None
    authorization: Authorization | None = None
    bearer_token: HeaderSecret | None = None
    bearer_token_file: str | None = None
    tls_config: TlsConfig = TlsConfig()
    follow_redirects: bool = True

    @model_validator(mode="after")
    def _one_auth(self) -> HttpClientConfig:
        chosen = configured_auth(self)
        if len(chosen) > 1:
            raise HttpConfigError(f"at most one of {' & '.join(chosen)} must be configured")
        return self
