"""HTTP client settings of a Prometheus config: what a scrape job and an HTTP-based discovery
(``http_sd_configs``) share -- Prometheus' ``HTTPClientConfig`` keys promwatch supports.

Secrets are :class:`~pydantic.SecretStr`: their repr never shows them, and one that cannot travel
in an HTTP header is refused without being quoted (:mod:`promwatch.credentials`); a value
``ssm:/name`` or ``secretsmanager:name`` is a reference resolved when it is used
(:mod:`promwatch.scrape.secrets`). The models live outside :mod:`promwatch.scrape` so that
:mod:`promwatch.discovery` can use them without an import cycle (the scrape config imports the
discovery configs).
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from promwatch.credentials import CredentialKind, check_credential

__all__ = ["Authorization", "BasicAuth", "HttpClientConfig", "TlsConfig", "check_one_authorization"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:
        # As Prometheus: a key written with no value (``basic_auth:``) keeps its default.
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


class BasicAuth(_Strict):
    """HTTP basic authentication; the password may be a file or an SSM/Secrets Manager reference."""

    username: str = ""
    username_file: str | None = None
    password: SecretStr | None = None
    password_file: str | None = None

    @field_validator("username")
    @classmethod
    def _username_fits(cls, value: str) -> str:
        check_credential(value, CredentialKind.BASIC_USERNAME)
        return value

    @field_validator("password")
    @classmethod
    def _password_fits(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_credential(value.get_secret_value(), CredentialKind.BASIC_PASSWORD)
        return value

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

    @field_validator("type")
    @classmethod
    def _type_is_a_word(cls, value: str) -> str:
        check_credential(value, CredentialKind.HEADER)
        if any(c.isspace() for c in value.strip()):
            raise ValueError("is not one word; expected the scheme alone (Bearer), the token under credentials")
        return value

    @field_validator("credentials")
    @classmethod
    def _credentials_fit(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_credential(value.get_secret_value(), CredentialKind.HEADER)
        return value

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

    @field_validator("server_name")
    @classmethod
    def _host_name(cls, value: str | None) -> str | None:
        if value is not None and (not value or not value.isprintable() or any(c.isspace() for c in value)):
            raise ValueError(f"{value!r} is not a host name; expected e.g. api.internal")
        return value

    @model_validator(mode="after")
    def _cert_and_key(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("tls_config needs both cert_file and key_file for a client certificate, or neither")
        return self


def check_one_authorization(
    basic_auth: BasicAuth | None,
    authorization: Authorization | None,
    bearer_token: SecretStr | None,
    bearer_token_file: str | None,
) -> None:
    """Refuse more than one way to authenticate, as Prometheus does.

    Raises
    ------
    ValueError
        Naming the keys that were given together.
    """
    chosen = [
        name for name, value in (
            ("basic_auth", basic_auth), ("authorization", authorization),
            ("bearer_token", bearer_token), ("bearer_token_file", bearer_token_file),
        ) if value is not None
    ]
    if len(chosen) > 1:
        raise ValueError(f"at most one of {' & '.join(chosen)} must be configured")


class HttpClientConfig(_Strict):
    """The HTTP client keys of an HTTP-based discovery (a scrape job has the same ones)."""

    basic_auth: BasicAuth | None = None
    authorization: Authorization | None = None
    bearer_token: SecretStr | None = None
    bearer_token_file: str | None = None
    tls_config: TlsConfig = Field(default_factory=TlsConfig)
    follow_redirects: bool = True

    @field_validator("bearer_token")
    @classmethod
    def _bearer_token_fits(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_credential(value.get_secret_value(), CredentialKind.HEADER)
        return value

    @model_validator(mode="after")
    def _one_auth(self) -> HttpClientConfig:
        check_one_authorization(self.basic_auth, self.authorization, self.bearer_token, self.bearer_token_file)
        return self
