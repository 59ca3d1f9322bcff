"""HTTP client settings (a job's, an HTTP discovery's) -> a :class:`FetchRequest`, credentials
resolved at the edge.

Credentials read from files or references are held to the rule the config holds written ones to
(:mod:`promwatch.credentials`), so none that cannot travel in a header reaches the fetch.
"""
from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Protocol

from pydantic import SecretStr

from promwatch.credentials import CredentialKind, credential_problem
from promwatch.httpclient.config import Authorization, BasicAuth, TlsConfig
from promwatch.httpclient.errors import SecretError
from promwatch.httpclient.fetch import FetchRequest
from promwatch.httpclient.secrets import SecretResolver, is_reference


class HttpAuthSettings(Protocol):
    """What :func:`client_authorization` reads: the authentication keys of ``<http_config>``."""

    @property
    def basic_auth(self) -> BasicAuth | None: ...
    @property
    def authorization(self) -> Authorization | None: ...
    @property
    def bearer_token(self) -> SecretStr | None: ...
    @property
    def bearer_token_file(self) -> str | None: ...


class HttpClientSettings(HttpAuthSettings, Protocol):
    """What a request is made with: a :class:`ScrapeJob`'s or an
    :class:`~promwatch.httpclient.config.HttpClientConfig`'s keys."""

    @property
    def tls_config(self) -> TlsConfig: ...
    @property
    def follow_redirects(self) -> bool: ...


def client_authorization(settings: HttpAuthSettings, secrets: SecretResolver, owner: str) -> str | None:
    """The ``Authorization`` header value of any HTTP client section (a job, a discovery), or None.

    Parameters
    ----------
    settings
        Its ``basic_auth``, ``authorization``, ``bearer_token`` and ``bearer_token_file``.
    secrets
        Resolves files and references.
    owner
        Names the section in messages (``job 'node'``, ``kubernetes_sd_configs[0]``).

    Raises
    ------
    SecretError
        When a credential file or reference cannot be resolved, or holds what a header cannot
        carry (the message names the file or reference and ``owner``, never the value).
    """
    resolve = _Resolve(owner, secrets)
    if settings.basic_auth is not None:
        auth = settings.basic_auth
        if auth.username_file:
            username = resolve.file(auth.username_file, CredentialKind.BASIC_USERNAME)
        else:
            username = auth.username
        password = resolve.either(auth.password_file, auth.password, CredentialKind.BASIC_PASSWORD) or ""
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return f"Basic {token}"
    if settings.authorization is not None:
        authz = settings.authorization
        credentials = resolve.either(authz.credentials_file, authz.credentials, CredentialKind.HEADER)
        return f"{authz.type.strip() or 'Bearer'} {credentials}" if credentials is not None else None
    bearer = resolve.either(settings.bearer_token_file, settings.bearer_token, CredentialKind.HEADER)
    return f"Bearer {bearer}" if bearer is not None else None


class _Resolve:
    """Resolves a section's credentials and checks what they hold."""

    def __init__(self, owner: str, secrets: SecretResolver) -> None:
        self._owner = owner
        self._secrets = secrets

    def file(self, path: str, kind: CredentialKind) -> str:
        return self._checked(self._secrets.file(path), f"credentials file {path!r}", kind)

    def value(self, secret: SecretStr, kind: CredentialKind) -> str:
        raw = secret.get_secret_value()
        # Written in the config: the config check passed it. A reference is named, a value never.
        source = f"secret {raw!r}" if is_reference(raw) else "the configured credential"
        return self._checked(self._secrets.value(secret), source, kind)

    def either(self, path: str | None, secret: SecretStr | None, kind: CredentialKind) -> str | None:
        """The credential of a ``..._file`` key when set, else of its inline key, else None (the
        config allows at most one of the two)."""
        if path:
            return self.file(path, kind)
        return self.value(secret, kind) if secret is not None else None

    def _checked(self, value: str, source: str, kind: CredentialKind) -> str:
        problem = credential_problem(value, kind)
        if problem is not None:
            raise SecretError(f"{self._owner}: {source} {problem}")
        return value


def client_request(
    client: HttpClientSettings,
    url: str,
    secrets: SecretResolver,
    *,
    owner: str,
    timeout: float,
    accept: str,
    body_size_limit: int = 0,
    allow_link_local: bool = False,
    headers: Mapping[str, str] | None = None,
) -> FetchRequest:
    """How to GET ``url`` with ``client``'s credentials, TLS settings and redirect policy.

    Raises
    ------
    SecretError
        When a credential cannot be resolved (the message starts with ``owner``).
    """
    header = client_authorization(client, secrets, owner)
    tls = client.tls_config
    verify: bool | str = False if tls.insecure_skip_verify else (tls.ca_file or True)
    return FetchRequest(
        url=url,
        timeout=timeout,
        accept=accept,
        body_size_limit=body_size_limit,
        headers={**(headers or {}), **({"Authorization": header} if header else {})} or None,
        verify=verify,
        client_cert=(tls.cert_file, tls.key_file) if tls.cert_file and tls.key_file else None,
        server_name=tls.server_name,
        follow_redirects=client.follow_redirects,
        allow_link_local=allow_link_local,
    )
