"""A job's HTTP settings -> a :class:`FetchRequest` (credentials resolved at the edge).

Credentials read from files or references are held to the rule the config holds written ones to
(:mod:`promwatch.scrape.credentials`), so none that cannot travel in a header reaches the fetch.
"""
from __future__ import annotations

import base64

from pydantic import SecretStr

from promwatch.exposition import ACCEPT_HEADER
from promwatch.scrape.config import ScrapeJob
from promwatch.scrape.credentials import CredentialKind, credential_problem
from promwatch.scrape.errors import SecretError
from promwatch.scrape.fetch import FetchRequest
from promwatch.scrape.secrets import SecretResolver, is_reference
from promwatch.scrape.targets import Target


def authorization_header(job: ScrapeJob, secrets: SecretResolver) -> str | None:
    """The ``Authorization`` header value of a job, or None.

    Raises
    ------
    SecretError
        When a credential file or reference cannot be resolved, or holds what a header cannot
        carry (the message names the file or reference and the job, never the value).
    """
    resolve = _Resolve(job, secrets)
    if job.basic_auth is not None:
        auth = job.basic_auth
        if auth.username_file:
            username = resolve.file(auth.username_file, CredentialKind.BASIC_USERNAME)
        else:
            username = auth.username
        if auth.password_file:
            password = resolve.file(auth.password_file, CredentialKind.BASIC_PASSWORD)
        elif auth.password is not None:
            password = resolve.value(auth.password, CredentialKind.BASIC_PASSWORD)
        else:
            password = ""
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return f"Basic {token}"
    if job.authorization is not None:
        authz = job.authorization
        if authz.credentials_file:
            credentials = resolve.file(authz.credentials_file, CredentialKind.HEADER)
        elif authz.credentials is not None:
            credentials = resolve.value(authz.credentials, CredentialKind.HEADER)
        else:
            return None
        return f"{authz.type.strip() or 'Bearer'} {credentials}"
    if job.bearer_token is not None:
        return f"Bearer {resolve.value(job.bearer_token, CredentialKind.HEADER)}"
    if job.bearer_token_file:
        return f"Bearer {resolve.file(job.bearer_token_file, CredentialKind.HEADER)}"
    return None


class _Resolve:
    """Resolves a job's credentials and checks what they hold."""

    def __init__(self, job: ScrapeJob, secrets: SecretResolver) -> None:
        self._job = job
        self._secrets = secrets

    def file(self, path: str, kind: CredentialKind) -> str:
        return self._checked(self._secrets.file(path), f"credentials file {path!r}", kind)

    def value(self, secret: SecretStr, kind: CredentialKind) -> str:
        raw = secret.get_secret_value()
        # Written in the config: the config check passed it. A reference is named, a value never.
        source = f"secret {raw!r}" if is_reference(raw) else "the configured credential"
        return self._checked(self._secrets.value(secret), source, kind)

    def _checked(self, value: str, source: str, kind: CredentialKind) -> str:
        problem = credential_problem(value, kind)
        if problem is not None:
            raise SecretError(f"job {self._job.job_name!r}: {source} {problem}")
        return value


def fetch_request(job: ScrapeJob, target: Target, secrets: SecretResolver) -> FetchRequest:
    """How to fetch ``target`` of ``job``.

    Raises
    ------
    SecretError
        When a credential cannot be resolved.
    """
    header = authorization_header(job, secrets)
    tls = job.tls_config
    verify: bool | str = False if tls.insecure_skip_verify else (tls.ca_file or True)
    return FetchRequest(
        url=target.url,
        timeout=job.timeout,
        accept=ACCEPT_HEADER,
        body_size_limit=job.body_size_limit or 0,
        headers={"Authorization": header} if header else None,
        verify=verify,
        client_cert=(tls.cert_file, tls.key_file) if tls.cert_file and tls.key_file else None,
        server_name=tls.server_name,
        follow_redirects=job.follow_redirects,
        allow_link_local=job.allow_link_local,
    )
