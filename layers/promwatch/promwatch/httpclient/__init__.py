"""The HTTP client of the scraper and of the discoveries that speak HTTP: one URL parser, the
target guard, pinned connections bounded by a deadline, the decompressed-body cap, redirects by
hand, and the credentials and TLS settings of a Prometheus ``<http_config>``.

Public API
----------
``fetch(request, *, pool, resolver=..., clock=..., policy=None) -> FetchResponse``
    GET one URL within ``request.timeout``, connecting only to addresses the guard allowed.
``ConnectionPool()``
    Kept-alive connections and the name-resolving threads: made, passed in and closed by its owner.
``client_request(settings, url, secrets, *, owner, timeout, accept, ...) -> FetchRequest``
    A request with the credentials, TLS settings and redirect policy of an ``<http_config>``.
``refusal(url, allow_link_local=...)``, ``BLOCKED_RANGES``, ``GuardPolicy``
    The target guard: what it refuses and why.
``parse_url(url)``, ``parse_authority(host_port)``
    The one URL parser: what is judged is what is connected to.
"""
from __future__ import annotations

from promwatch.httpclient.config import Authorization, BasicAuth, HttpClientConfig, TlsConfig
from promwatch.httpclient.connection import ConnectionPool, TlsSettings
from promwatch.httpclient.errors import (
    BodyTooLargeError,
    FetchError,
    HttpClientError,
    HttpConfigError,
    HttpStatusError,
    InvalidTargetError,
    SecretError,
    TargetRefusedError,
)
from promwatch.httpclient.fetch import FetchPolicy, FetchRequest, FetchResponse, fetch
from promwatch.httpclient.guard import BLOCKED_RANGES, GuardPolicy, refusal
from promwatch.httpclient.request import client_authorization, client_request
from promwatch.httpclient.secrets import SecretResolver
from promwatch.httpclient.url import parse_authority, parse_url

__all__ = [
    "BLOCKED_RANGES",
    "Authorization",
    "BasicAuth",
    "BodyTooLargeError",
    "ConnectionPool",
    "FetchError",
    "FetchPolicy",
    "FetchRequest",
    "FetchResponse",
    "GuardPolicy",
    "HttpClientConfig",
    "HttpClientError",
    "HttpConfigError",
    "HttpStatusError",
    "InvalidTargetError",
    "SecretError",
    "SecretResolver",
    "TargetRefusedError",
    "TlsConfig",
    "TlsSettings",
    "client_authorization",
    "client_request",
    "fetch",
    "parse_authority",
    "parse_url",
    "refusal",
]
