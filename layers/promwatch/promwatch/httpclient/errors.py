"""Errors of the HTTP client: fetching, the target guard, and the credentials a request carries."""
from __future__ import annotations

from promwatch.errors import PromwatchError, PromwatchValueError


class HttpClientError(PromwatchError):
    """Root of the HTTP client's errors."""


class HttpConfigError(HttpClientError, PromwatchValueError):
    """A value of a job's HTTP settings (auth, TLS, proxy) refused by its validator; also a
    ``ValueError``, which pydantic reports under the value's key path."""


class SecretError(HttpClientError):
    """A credential reference (file, ``ssm:``, ``secretsmanager:``) could not be resolved.

    The message names the reference, never the secret.
    """


class FetchError(HttpClientError):
    """A URL could not be fetched (connection, HTTP status, size cap, timeout, guard)."""


class HttpStatusError(FetchError):
    """The server answered a status other than 200 (redirects followed); ``body`` holds the start
    of its answer when the request asked for it (``FetchRequest.error_body_limit``), else None."""

    def __init__(self, message: str, *, status: int, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class TargetRefusedError(FetchError):
    """The target guard refused a URL (a blocked address, or one it cannot read safely)."""


class InvalidTargetError(TargetRefusedError):
    """A URL or address the client will not read: userinfo, backslashes, control characters,
    a non-canonical numeric host, a bad port (see :mod:`promwatch.httpclient.url`)."""


class BodyTooLargeError(FetchError):
    """A response body grew beyond its cap; reading stopped there."""
