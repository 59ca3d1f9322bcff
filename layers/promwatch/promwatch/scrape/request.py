"""A job's HTTP settings -> a :class:`FetchRequest` (credentials resolved at the edge)."""
from __future__ import annotations

import base64

from promwatch.exposition import ACCEPT_HEADER
from promwatch.scrape.config import ScrapeJob
from promwatch.scrape.fetch import FetchRequest
from promwatch.scrape.secrets import SecretResolver
from promwatch.scrape.targets import Target


def authorization_header(job: ScrapeJob, secrets: SecretResolver) -> str | None:
    """The ``Authorization`` header value of a job, or None.

    Raises
    ------
    SecretError
        When a credential file or reference cannot be resolved.
    """
    if job.basic_auth is not None:
        auth = job.basic_auth
        username = secrets.file(auth.username_file) if auth.username_file else auth.username
        if auth.password_file:
            password = secrets.file(auth.password_file)
        elif auth.password is not None:
            password = secrets.value(auth.password)
        else:
            password = ""
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return f"Basic {token}"
    if job.authorization is not None:
        authz = job.authorization
        if authz.credentials_file:
            credentials = secrets.file(authz.credentials_file)
        elif authz.credentials is not None:
            credentials = secrets.value(authz.credentials)
        else:
            return None
        return f"{authz.type.strip() or 'Bearer'} {credentials}"
    if job.bearer_token is not None:
        return f"Bearer {secrets.value(job.bearer_token)}"
    if job.bearer_token_file:
        return f"Bearer {secrets.file(job.bearer_token_file)}"
    return None


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
