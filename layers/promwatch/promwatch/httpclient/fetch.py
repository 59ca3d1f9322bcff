"""Fetching one target: guard, pinned connection, deadline, size cap, redirects by hand.

The URL is read by :mod:`promwatch.httpclient.url`, the addresses judged by
:mod:`promwatch.httpclient.guard`, and the connection opened to one of those very addresses
(:mod:`promwatch.httpclient.connection`); each redirect hop goes through all three again.
``scrape_timeout`` is a deadline for the whole fetch: name resolution, connect, TLS, headers,
body and its decompression. The body cap counts decompressed bytes, so a gzip bomb stops at
the cap, and a job without ``body_size_limit`` still gets one that fits the function's memory.
"""
from __future__ import annotations

import dataclasses
import http.client
import os
import re
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from promwatch import __version__
from promwatch.exposition.negotiation import decode_body
from promwatch.httpclient.connection import (
    Clock,
    Connection,
    ConnectionPool,
    DeadlineExceeded,
    Endpoint,
    TlsSettings,
)
from promwatch.httpclient.errors import BodyTooLargeError, FetchError, HttpStatusError, TargetRefusedError
from promwatch.httpclient.guard import GuardPolicy, Resolver, checked_addresses, resolve_host
from promwatch.httpclient.url import IPAddress, TargetURL, parse_url
from promwatch.text import shown

MAX_REDIRECTS = 10
"""Hops followed before giving up (Go's http.Client default, which Prometheus uses)."""
USER_AGENT = f"promwatch/{__version__}"
CHUNK_BYTES = 64 * 1024
DEFAULT_POOL_SIZE = 16
BODY_LIMIT_MEMORY_FRACTION = 32
"""Inside Lambda, a job without ``body_size_limit`` may take 1/32 of the function's memory
(32 MiB of a 1024 MB function): a page costs about 5x its size parsed and 12-15x through
translation, and other targets are scraped at the same time."""
DEFAULT_BODY_SIZE_LIMIT = 128 * 1024 * 1024
"""Outside Lambda (the CLI), the cap of a job without ``body_size_limit``."""
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_SENSITIVE_HEADERS = ("authorization", "cookie")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """What the process the scraper runs in implies for every fetch.

    Attributes
    ----------
    in_lambda
        Inside Lambda: loopback is refused (the Runtime API lives there).
    default_body_size_limit
        The body cap of a job that sets none.
    """

    in_lambda: bool = False
    default_body_size_limit: int = DEFAULT_BODY_SIZE_LIMIT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FetchPolicy:
        """The policy of this process: Lambda's ``AWS_LAMBDA_RUNTIME_API`` and
        ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE`` (MB) when they are set in ``environ`` (default ``os.environ``)."""
        environ = os.environ if environ is None else environ
        memory = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        limit = DEFAULT_BODY_SIZE_LIMIT
        if memory.isdigit() and int(memory) > 0:
            limit = int(memory) * 1024 * 1024 // BODY_LIMIT_MEMORY_FRACTION
        return cls(in_lambda=bool(environ.get("AWS_LAMBDA_RUNTIME_API")), default_body_size_limit=limit)


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """Everything needed to fetch one target (credentials already resolved)."""

    url: str
    timeout: float
    accept: str
    body_size_limit: int = 0
    """Decompressed bytes at most; 0: the policy's default."""
    headers: Mapping[str, str] | None = None
    verify: bool | str = True
    client_cert: tuple[str, str] | None = None
    server_name: str | None = None
    follow_redirects: bool = True
    allow_link_local: bool = False
    ca_data: str | None = None
    """PEM certificates to trust instead of the system's store (see :class:`TlsSettings`)."""
    error_body_limit: int = 0
    """Bytes of a non-200 answer's body kept in the :class:`HttpStatusError` (an API's error
    text); 0: the body is not read."""

    def __repr__(self) -> str:  # headers may hold credentials: never show them
        return f"FetchRequest(url={self.url!r}, timeout={self.timeout!r})"

    def with_timeout(self, timeout: float) -> FetchRequest:
        """This request with a shorter deadline (what is left of the cycle's)."""
        return dataclasses.replace(self, timeout=timeout)


@dataclass(frozen=True, slots=True)
class FetchResponse:
    """A target's body, decoded, and what the parser needs to know about it."""

    text: str
    content_type: str | None
    status: int
    body_bytes: int
    """Uncompressed size."""
    url: str
    """The URL that answered (after redirects)."""


def fetch(
    request: FetchRequest,
    *,
    pool: ConnectionPool,
    resolver: Resolver = resolve_host,
    clock: Clock = time.monotonic,
    policy: FetchPolicy | None = None,
) -> FetchResponse:
    """GET one target within ``request.timeout``, connecting only to addresses the guard allowed.

    Parameters
    ----------
    request
        What to fetch and how.
    pool
        Where connections come from and host names are resolved: its owner's (the scrape
        runtime's, a tool run's, a discovery environment's).
    resolver
        Host name -> addresses.
    clock
        Monotonic seconds: the whole fetch (redirects and body included) ends within
        ``request.timeout``.
    policy
        The process' policy (None: outside Lambda, default body cap).

    Raises
    ------
    TargetRefusedError
        When the URL, or a redirect, is one the guard refuses (or cannot read safely).
    BodyTooLargeError
        When the decompressed body exceeds the cap.
    FetchError
        For resolution and connection errors, timeouts, TLS failures, non-200 statuses, bad
        responses and too many redirects; messages never carry a request header's value.
    """
    policy = policy or FetchPolicy()
    guard = GuardPolicy(allow_link_local=request.allow_link_local, in_lambda=policy.in_lambda)
    limit = request.body_size_limit or policy.default_body_size_limit
    deadline = clock() + request.timeout
    headers = _request_headers(request)
    url = parse_url(request.url)
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            addresses = _checked(url, guard, pool, resolver, deadline, clock)
            connection, response = _exchange(pool, url, addresses, request, headers, deadline, clock)
        except DeadlineExceeded:
            raise DeadlineExceeded(f"{url}: timeout after {request.timeout:g}s") from None
        except TargetRefusedError as exc:
            raise type(exc)(f"{url}: refused: {exc}") from None
        except FetchError as exc:
            raise FetchError(f"{url}: {exc}") from None
        status = response.status
        if status in _REDIRECT_STATUSES and request.follow_redirects:
            location = response.getheader("Location")
            connection.close()
            if not location:
                raise FetchError(f"{url}: HTTP {status} redirect without a Location header")
            try:
                next_url = url.join(location)
            except TargetRefusedError as exc:
                raise type(exc)(f"{url}: refused: {exc}") from None
            if (next_url.scheme, next_url.host, next_url.port) != (url.scheme, url.host, url.port):
                # Like Go's http.Client: credentials stay with the host they were meant for.
                headers = {k: v for k, v in headers.items() if k.lower() not in _SENSITIVE_HEADERS}
            url = next_url
            continue
        if status != 200:
            body_text = _error_body(response, request.error_body_limit)
            connection.close()
            raise HttpStatusError(f"{url}: server returned HTTP status {status} {_shown(response.reason)}",
                                  status=status, body=body_text)
        try:
            body = _read_body(response, limit)
        except DeadlineExceeded:
            connection.close()
            raise DeadlineExceeded(f"{url}: timeout after {request.timeout:g}s while reading the body") from None
        except FetchError as exc:
            connection.close()
            raise type(exc)(f"{url}: {exc}") from None
        if response.will_close:
            connection.close()
        else:
            pool.release(connection)
        content_type = response.getheader("Content-Type")
        return FetchResponse(decode_body(body, content_type), content_type, status, len(body), str(url))
    raise FetchError(f"{request.url}: stopped after {MAX_REDIRECTS} redirects")


def _request_headers(request: FetchRequest) -> dict[str, str]:
    """The request's headers, each checked: a value with CR, LF or another control character
    would split the request; it is refused, and neither it nor the error carries the value."""
    headers = {
        "Accept": request.accept,
        "Accept-Encoding": "gzip",
        "User-Agent": USER_AGENT,
        "X-Prometheus-Scrape-Timeout-Seconds": f"{request.timeout:g}",
        **(request.headers or {}),
    }
    for name, value in headers.items():
        if not _TOKEN.match(name):
            raise FetchError(f"{request.url}: header name {_shown(name)} is not an HTTP token")
        if _BAD_VALUE.search(value):
            raise FetchError(f"{request.url}: the {name} header's value holds a control character (CR, LF or NUL); "
                             "refused (the value is not shown)")
    return headers


def _checked(
    url: TargetURL, guard: GuardPolicy, pool: ConnectionPool, resolver: Resolver, deadline: float, clock: Clock
) -> list[IPAddress]:
    if url.authority.ip is not None:
        return checked_addresses(url.host, url.authority.ip, guard, resolver)
    remaining = deadline - clock()
    if remaining <= 0:
        raise DeadlineExceeded("deadline passed before resolving")
    answers = pool.resolve_within(resolver, url.host, remaining)
    return checked_addresses(url.host, None, guard, lambda _host: answers)


def _exchange(
    pool: ConnectionPool,
    url: TargetURL,
    addresses: list[IPAddress],
    request: FetchRequest,
    headers: Mapping[str, str],
    deadline: float,
    clock: Clock,
) -> tuple[Connection, http.client.HTTPResponse]:
    """Send the GET on a connection to one of ``addresses`` and read the status and headers."""
    tls = None
    if url.scheme == "https":
        tls = TlsSettings(request.verify, request.client_cert, request.server_name, request.ca_data)
    head = "".join(
        [f"GET {url.target} HTTP/1.1\r\nHost: {url.host_header}\r\n",
         *(f"{name}: {value}\r\n" for name, value in headers.items()), "\r\n"]
    ).encode("utf-8")
    last: FetchError | None = None
    for address in addresses:
        endpoint = Endpoint(address, url.port, tls, url.host)
        for _attempt in range(2):
            connection = pool.acquire(endpoint, deadline, clock)
            try:
                connection.send(head)
                response = http.client.HTTPResponse(connection, method="GET")  # type: ignore[arg-type]
                response.begin()
                return connection, response
            except (DeadlineExceeded, TimeoutError):
                connection.close()
                raise DeadlineExceeded("deadline passed") from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                connection.close()
                if connection.reused:
                    continue  # a kept-alive connection the server had closed: once more, fresh
                last = FetchError(f"{type(exc).__name__}: the server closed the connection")
                break
            except http.client.HTTPException as exc:
                connection.close()
                raise FetchError(f"bad HTTP response: {type(exc).__name__}: {_shown(str(exc))}") from None
            except OSError as exc:
                connection.close()
                last = FetchError(f"{type(exc).__name__}: {exc.strerror or 'connection failed'}")
                break
    raise last or FetchError("no address to connect to")


class _Inflater:
    """gzip (multi-member, as Go reads it) inflated at most ``limit`` + 1 bytes at a time."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._fed = False
        self.size = 0

    def feed(self, data: bytes, out: bytearray) -> None:
        self._fed = True
        while data:
            piece = self._decompressor.decompress(data, max(1, self._limit - self.size + 1))
            self.size += len(piece)
            if self.size > self._limit:
                raise BodyTooLargeError(f"decompressed body exceeds body_size_limit {self._limit} bytes; stopped reading")
            out += piece
            data = self._decompressor.unconsumed_tail
            if self._decompressor.eof:
                data = self._decompressor.unused_data
                if data:
                    self._decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def finish(self) -> None:
        if self._fed and not self._decompressor.eof:
            raise FetchError("truncated gzip body")


def _read_body(response: http.client.HTTPResponse, limit: int) -> bytearray:
    """The body, decompressed, at most ``limit`` bytes.

    Raises
    ------
    BodyTooLargeError, DeadlineExceeded, FetchError
    """
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    inflater: _Inflater | None = None
    if encoding in ("gzip", "x-gzip"):
        inflater = _Inflater(limit)
    elif encoding != "identity":
        raise FetchError(f"unsupported Content-Encoding {_shown(encoding)}; expected gzip or identity")
    declared = response.getheader("Content-Length")
    if inflater is None and declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"body of {declared} bytes exceeds body_size_limit {limit}")
    body = bytearray()
    try:
        while True:
            chunk = response.read(CHUNK_BYTES)
            if not chunk:
                break
            if inflater is not None:
                inflater.feed(chunk, body)
            elif len(body) + len(chunk) > limit:
                raise BodyTooLargeError(f"body exceeds body_size_limit {limit} bytes; stopped reading")
            else:
                body += chunk
        if response.length:  # http.client returns a short body silently; Go reports unexpected EOF
            raise FetchError(f"the body ended {response.length} bytes short of its Content-Length")
        if inflater is not None:
            inflater.finish()
    except TimeoutError:
        raise DeadlineExceeded("deadline passed while reading the body") from None
    except zlib.error as exc:
        raise FetchError(f"bad gzip body: {exc}") from None
    except (http.client.HTTPException, OSError) as exc:
        raise FetchError(f"reading the body failed: {type(exc).__name__}") from None
    return body


def _error_body(response: http.client.HTTPResponse, limit: int) -> str | None:
    """The first ``limit`` bytes of an error answer, as text (None: not asked for, compressed, or unreadable)."""
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if limit <= 0 or encoding != "identity":
        return None
    try:
        return response.read(limit).decode("utf-8", "replace")
    except (http.client.HTTPException, OSError):  # a timeout included: the status alone is reported
        return None


def _shown(value: str) -> str:
    return shown(value, 120)
