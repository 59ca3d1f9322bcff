"""A scrape job's HTTP settings -> how to fetch one of its targets (credentials resolved at the edge)."""
from __future__ import annotations

from promwatch.exposition import accept_header
from promwatch.httpclient.fetch import FetchRequest
from promwatch.httpclient.request import client_authorization, client_request
from promwatch.httpclient.secrets import SecretResolver
from promwatch.scrape.config import ScrapeJob
from promwatch.scrape.targets import Target


def authorization_header(job: ScrapeJob, secrets: SecretResolver) -> str | None:
    """The ``Authorization`` header value of a job, or None.

    Raises
    ------
    SecretError
        When a credential file or reference cannot be resolved, or holds what a header cannot
        carry (the message names the file or reference and the job, never the value).
    """
    return client_authorization(job, secrets, f"job {job.job_name!r}")


def fetch_request(job: ScrapeJob, target: Target, secrets: SecretResolver) -> FetchRequest:
    """How to fetch ``target`` of ``job``.

    Raises
    ------
    SecretError
        When a credential cannot be resolved.
    """
    return client_request(
        job, target.url, secrets, owner=f"job {job.job_name!r}", timeout=job.timeout, accept=accept_header(job.name_escaping),
        body_size_limit=job.body_size_limit or 0, allow_link_local=job.allow_link_local,
    )
