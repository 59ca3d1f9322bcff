"""HTTP fetching of one target: pooled session, size cap while streaming, guarded redirects.

One :class:`SessionPool` lives per execution environment (module scope in Lambda), so warm
invocations reuse connections. Redirects are followed by hand (at most
:data:`MAX_REDIRECTS`) so the target guard sees every hop and credentials never follow a
redirect to another host.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import InsecureRequestWarning

from promwatch import __version__
from promwatch.scrape.errors import BodyTooLargeError, FetchError, TargetRefusedError
from promwatch.scrape.guard import Resolver, refusal, resolve_host

MAX_REDIRECTS = 10
"""Hops followed before giving up (Go's http.Client default, which Prometheus uses)."""
USER_AGENT = f"promwatch/{__version__}"
CHUNK_BYTES = 64 * 1024
DEFAULT_POOL_SIZE = 16
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """Everything needed to fetch one target (credentials already resolved)."""

    url: str
    timeout: float
    accept: str
    body_size_limit: int = 0
    headers: Mapping[str, str] | None = None
    verify: bool | str = True
    client_cert: tuple[str, str] | None = None
    server_name: str | None = None
    follow_redirects: bool = True
    allow_link_local: bool = False

    def __repr__(self) -> str:  # headers may hold credentials: never show them
        return f"FetchRequest(url={self.url!r}, timeout={self.timeout!r})"


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


class _ServerNameAdapter(HTTPAdapter):
    """An adapter that sends ``server_name`` as TLS SNI and checks the certificate against it."""

    def __init__(self, server_name: str, **kwargs: Any) -> None:
        self._server_name = server_name
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = self._server_name
        kwargs["assert_hostname"] = self._server_name
        super().init_poolmanager(*args, **kwargs)


class SessionPool:
    """requests Sessions shared by every scrape of the execution environment.

    One session serves every target; a target with a ``tls_config.server_name`` gets its own
    (SNI is a property of the connection pool).
    """

    def __init__(self, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self._pool_size = pool_size
        self._sessions: dict[str | None, requests.Session] = {}
        self._lock = threading.Lock()

    def session(self, server_name: str | None = None) -> requests.Session:
        """The session for connections with this TLS server name (None: the default one)."""
        with self._lock:
            session = self._sessions.get(server_name)
            if session is None:
                session = requests.Session()
                session.trust_env = False  # proxies/netrc from the environment must not reroute scrapes
                kwargs: dict[str, Any] = {
                    "pool_connections": self._pool_size, "pool_maxsize": self._pool_size, "max_retries": 0,
                }
                session.mount("http://", HTTPAdapter(**kwargs))
                session.mount(
                    "https://", _ServerNameAdapter(server_name, **kwargs) if server_name else HTTPAdapter(**kwargs)
                )
                self._sessions[server_name] = session
            return session


_SHARED_POOL: SessionPool | None = None


def shared_pool() -> SessionPool:
    """The execution environment's session pool."""
    global _SHARED_POOL
    if _SHARED_POOL is None:
        _SHARED_POOL = SessionPool()
    return _SHARED_POOL


def fetch(
    request: FetchRequest,
    *,
    session: requests.Session | None = None,
    resolver: Resolver = resolve_host,
    clock: Callable[[], float] = time.monotonic,
) -> FetchResponse:
    """GET one target, enforcing the guard, the timeout and the body size cap.

    Parameters
    ----------
    request
        What to fetch and how.
    session
        A requests Session; None takes one from the shared pool.
    resolver
        Host name -> addresses, for the guard.
    clock
        Monotonic seconds: the whole fetch (redirects and body included) must end within
        ``request.timeout``.

    Raises
    ------
    TargetRefusedError
        When the URL, or a redirect, points at a link-local / metadata address.
    BodyTooLargeError
        When the (uncompressed) body exceeds ``request.body_size_limit``.
    FetchError
        For connection errors, timeouts, TLS failures, non-200 statuses and too many redirects.
    """
    if session is None:
        session = shared_pool().session(request.server_name)
    if request.verify is False:
        # The job opted out of verification explicitly; urllib3 would warn on every scrape.
        urllib3.disable_warnings(InsecureRequestWarning)
    deadline = clock() + request.timeout
    headers = {
        "Accept": request.accept,
        "Accept-Encoding": "gzip",
        "User-Agent": USER_AGENT,
        "X-Prometheus-Scrape-Timeout-Seconds": f"{request.timeout:g}",
        **(request.headers or {}),
    }
    url = request.url
    for _hop in range(MAX_REDIRECTS + 1):
        reason = refusal(url, allow_link_local=request.allow_link_local, resolver=resolver)
        if reason is not None:
            raise TargetRefusedError(f"{url}: refused: {reason}")
        remaining = deadline - clock()
        if remaining <= 0:
            raise FetchError(f"{url}: timeout after {request.timeout:g}s")
        try:
            response = session.get(
                url,
                headers=headers,
                timeout=remaining,
                stream=True,
                allow_redirects=False,
                verify=request.verify,
                cert=request.client_cert,
            )
        except requests.Timeout as exc:
            raise FetchError(f"{url}: timeout after {request.timeout:g}s") from exc
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
        with response:
            if response.status_code in _REDIRECT_STATUSES and request.follow_redirects:
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(f"{url}: HTTP {response.status_code} redirect without a Location header")
                next_url = urljoin(url, location)
                if urlsplit(next_url).netloc != urlsplit(url).netloc:
                    # Like Go's http.Client: credentials stay with the host they were meant for.
                    headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
                url = next_url
                continue
            if response.status_code != 200:
                raise FetchError(f"{url}: server returned HTTP status {response.status_code} {response.reason}")
            return _read_body(response, request, url, deadline, clock)
    raise FetchError(f"{request.url}: stopped after {MAX_REDIRECTS} redirects")


def _read_body(
    response: requests.Response,
    request: FetchRequest,
    url: str,
    deadline: float,
    clock: Callable[[], float],
) -> FetchResponse:
    limit = request.body_size_limit
    encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
    declared = response.headers.get("Content-Length")
    if limit and not encoded and declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"{url}: body of {declared} bytes exceeds body_size_limit {limit}")
    chunks: list[bytes] = []
    size = 0
    try:
        # decode_content=True inflates gzip as it streams, so the cap applies to what the
        # parser would see and a gzip bomb stops at the limit.
        for chunk in response.raw.stream(CHUNK_BYTES, decode_content=True):
            size += len(chunk)
            if limit and size > limit:
                raise BodyTooLargeError(f"{url}: body exceeds body_size_limit {limit} bytes; stopped reading")
            if clock() > deadline:
                raise FetchError(f"{url}: timeout after {request.timeout:g}s while reading the body")
            chunks.append(chunk)
    except (requests.RequestException, Urllib3Error, OSError) as exc:
        # urllib3 raises its own errors while streaming (ProtocolError, DecodeError, ReadTimeoutError).
        raise FetchError(f"{url}: reading the body failed: {type(exc).__name__}: {exc}") from exc
    content_type = response.headers.get("Content-Type")
    return FetchResponse(decode_body(b"".join(chunks), content_type), content_type, response.status_code, size, url)


def decode_body(body: bytes, content_type: str | None) -> str:
    """A response body as text: decoded with the Content-Type's charset (UTF-8 when it names
    none or one Python does not know), undecodable bytes replaced.

    The text holds no lone surrogates: some codecs a target may name (``unicode_escape``,
    ``utf-7``, ...) decode to them, and no UTF-8 log event can carry one, so they are replaced
    as undecodable bytes are.
    """
    charset = _charset(content_type)
    text = body.decode(charset, errors="replace")
    if charset != "utf-8" and not text.isascii():  # a UTF-8 decode never yields a surrogate
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _charset(content_type: str | None) -> str:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            name = value.strip('"').lower()
            try:
                "".encode(name)
                return name
            except LookupError:
                break
    return "utf-8"
