"""``http_sd_configs``: target groups from an HTTP endpoint, by Prometheus' HTTP SD protocol.

Every ``refresh_interval`` (default 60s) the ``url`` is fetched with a GET carrying
``Accept: application/json`` and ``X-Prometheus-Refresh-Interval-Seconds`` (the interval, so the
endpoint knows how often it is asked). The answer must be HTTP 200 with ``Content-Type:
application/json`` (``; charset=utf-8`` allowed) and a JSON list of ``{"targets": [...],
"labels": {...}}``, as a file_sd file holds; each group gets ``__meta_url`` (the URL) and is
named ``<url>:<index>``. Anything else fails the refresh, and the job keeps its last list.

The HTTP client keys are Prometheus' (``basic_auth``, ``authorization``, ``bearer_token[_file]``,
``tls_config``, ``follow_redirects``; :mod:`promwatch.httpclient.config`), and the fetch is the
scraper's own (:func:`promwatch.httpclient.fetch.fetch`), so the target guard applies to the URL
and to every redirect: no instance-metadata or link-local address, the connection pinned to the
address judged, a deadline and a size cap. Unlike Prometheus, whose deadline is
``refresh_interval``, the fetch ends within :data:`HTTP_SD_TIMEOUT_SECONDS` at most.
"""
from __future__ import annotations

import re
from decimal import Decimal

from pydantic import field_validator

from promwatch.discovery.base import FETCH_POLICY, SECRETS, DiscoveryEnv, SDConfig, http_pool
from promwatch.discovery.groups import parse_target_groups
from promwatch.discovery.model import DiscoveryConfigError, DiscoveryError, TargetGroup
from promwatch.httpclient.config import HttpClientConfig
from promwatch.safeload import MAX_DOCUMENT_CHARS, DocumentError, load_json
from promwatch.units import PositiveDuration

URL_LABEL = "__meta_url"
REFRESH_INTERVAL_HEADER = "X-Prometheus-Refresh-Interval-Seconds"
HTTP_SD_TIMEOUT_SECONDS = 10.0
"""Longest fetch of an HTTP SD endpoint (Prometheus waits up to ``refresh_interval``; a Lambda
invocation cannot wait a minute on one endpoint)."""
ACCEPT = "application/json"
# Prometheus' matchContentType: ``^(?i:application\/json(;\s*charset=("utf-8"|utf-8))?)$``.
_JSON_CONTENT_TYPE = re.compile(r'application/json(;[\t\n\f\r ]*charset=("utf-8"|utf-8))?', re.IGNORECASE)


class HttpSDConfig(SDConfig, HttpClientConfig):
    """An ``http_sd_configs`` entry."""

    url: str
    refresh_interval: PositiveDuration = 60.0

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        # Read by the scraper's own URL parser, which the fetch uses: what is checked is what is fetched.
        from promwatch.httpclient.errors import InvalidTargetError
        from promwatch.httpclient.url import parse_url

        try:
            parse_url(value)
        except InvalidTargetError as exc:
            raise DiscoveryConfigError(str(exc)) from None
        return value

    def discover(self, env: DiscoveryEnv) -> list[TargetGroup]:
        """The groups the endpoint lists now.

        ``env.extras`` may hold :data:`~promwatch.discovery.base.SECRETS` (a
        :class:`~promwatch.httpclient.SecretResolver`; by default one made on the first refresh
        and kept there, so its TTL cache spares SSM and Secrets Manager on later refreshes) and
        :data:`~promwatch.discovery.base.FETCH_POLICY` (a :class:`~promwatch.httpclient.FetchPolicy`;
        by default this process's). Connections come from the pool the environment keeps
        (:func:`~promwatch.discovery.base.http_pool`).

        Raises
        ------
        DiscoveryError
            Naming the URL, when the fetch fails (refused, timeout, HTTP status, size) or the
            answer is not a JSON list of target groups.
        """
        from promwatch.httpclient.errors import HttpClientError
        from promwatch.httpclient.fetch import FetchPolicy, fetch
        from promwatch.httpclient.request import client_request
        from promwatch.httpclient.secrets import SecretResolver

        secrets: SecretResolver = env.kept(SECRETS, SecretResolver)
        policy: FetchPolicy = env.extras.get(FETCH_POLICY) or FetchPolicy.from_env()
        try:
            request = client_request(
                self, self.url, secrets, owner=f"http_sd {self.url!r}",
                timeout=min(self.refresh_interval, HTTP_SD_TIMEOUT_SECONDS), accept=ACCEPT,
                body_size_limit=MAX_DOCUMENT_CHARS,
                headers={REFRESH_INTERVAL_HEADER: go_seconds(self.refresh_interval)},
            )
            response = fetch(request, pool=http_pool(env), policy=policy)
        except HttpClientError as exc:
            raise DiscoveryError(f"http_sd {self.url!r}: {exc}") from None
        return parse_http_sd(self.url, response.content_type, response.text)


def parse_http_sd(url: str, content_type: str | None, text: str) -> list[TargetGroup]:
    """The target groups of an HTTP SD answer (pure).

    Raises
    ------
    DiscoveryError
        When the content type is not JSON or the body not a list of target groups.
    """
    where = f"http_sd {url!r}"
    if not _JSON_CONTENT_TYPE.fullmatch((content_type or "").strip(" \t\n\r\f\v")):
        raise DiscoveryError(f"{where}: unsupported content type {content_type or ''!r}; expected application/json")
    try:
        data = load_json(text)
    except DocumentError as exc:
        raise DiscoveryError(f"{where}: {exc}") from None
    return parse_target_groups(data, where=where, origin=url, meta={URL_LABEL: url})


def go_seconds(seconds: float) -> str:
    """Seconds as Go's ``strconv.FormatFloat(s, 'f', -1, 64)`` writes them: ``60``, ``0.5``."""
    text = format(Decimal(repr(seconds)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
