"""HTTP/1.1 connections to checked addresses, bounded by a deadline, kept alive between scrapes.

The scraper does not hand a URL to an HTTP library that would parse and resolve it again: it
opens a TCP connection to an address the guard has judged (:mod:`promwatch.httpclient.guard`),
wraps it in TLS with the URL's host as SNI and for the certificate check, and lets the
standard library's :class:`http.client.HTTPResponse` read the answer (its limits: 64 KiB per
header line, 100 headers). Every read, write, connect and TLS handshake is bounded by what is
left of the fetch's deadline, so a target that answers one byte a second cannot stretch a
scrape past its ``scrape_timeout``.

Connections are pooled per (checked address, port, TLS settings, server name): a warm Lambda
reuses them, and a connection is never reused for another address. The pool also owns the
threads that resolve host names within a deadline; its owner (the scrape runtime, a run of a
tool, a discovery environment) makes it and closes it.
"""
from __future__ import annotations

import io
import select
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from promwatch.httpclient.errors import FetchError
from promwatch.httpclient.url import IPAddress

Clock = Callable[[], float]
Connector = Callable[[IPAddress, int, float], socket.socket]
"""Opens a TCP connection to (address, port) within the timeout given (seconds)."""

MAX_IDLE_PER_ENDPOINT = 4
"""Idle connections kept per endpoint (a cycle scrapes each target once)."""
MAX_IDLE_TOTAL = 256
"""Idle connections kept in all; the least recently used go first."""
RESOLVER_THREADS = 16
"""Host names resolved at the same time, each in a thread of the pool (a resolver may hang)."""


class DeadlineExceeded(FetchError):
    """The fetch's deadline passed while connecting, sending or reading."""


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """How to speak TLS to one target.

    Attributes
    ----------
    verify
        True: check the certificate against the system's trust store; a path: against that CA
        file; False: no check (the job's ``insecure_skip_verify``).
    client_cert
        ``(cert_file, key_file)`` for mutual TLS.
    server_name
        Sent as SNI and checked in the certificate instead of the URL's host.
    ca_data
        PEM certificates to trust (an EKS cluster's CA, which DescribeCluster hands out as data):
        with them the system's store is not used; with a CA file as well, both are trusted.
    """

    verify: bool | str = True
    client_cert: tuple[str, str] | None = None
    server_name: str | None = None
    ca_data: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a connection goes: the checked address, the port, and TLS (None for plain HTTP)."""

    address: IPAddress
    port: int
    tls: TlsSettings | None
    host: str
    """The URL's host: SNI and certificate name unless ``tls.server_name`` says otherwise."""


def open_tcp(address: IPAddress, port: int, timeout: float) -> socket.socket:
    """Connect to ``address:port`` (the default :data:`Connector`)."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((str(address), port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


class _DeadlineReader(io.RawIOBase):
    """A socket's receiving side where each read waits at most for what is left of the deadline."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self.sock = sock
        self.deadline = 0.0
        self.clock: Clock = time.monotonic

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self.deadline - self.clock()
        if remaining <= 0:
            raise DeadlineExceeded("deadline passed while reading")
        self.sock.settimeout(remaining)
        return self.sock.recv_into(buffer)


class _KeepOpen:
    """The buffered reader as :class:`http.client.HTTPResponse` sees it: closing the response
    must not close the connection, which may serve the next request."""

    def __init__(self, reader: io.BufferedReader[Any]) -> None:
        self._reader = reader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def close(self) -> None:
        return


class Connection:
    """One TCP (or TLS) connection to an :class:`Endpoint`."""

    def __init__(self, endpoint: Endpoint, sock: socket.socket) -> None:
        self.endpoint = endpoint
        self.sock = sock
        self._raw = _DeadlineReader(sock)
        self._reader = io.BufferedReader(self._raw, 64 * 1024)
        self.reused = False

    def arm(self, deadline: float, clock: Clock) -> None:
        """Bound every following read and write by ``deadline`` (monotonic seconds of ``clock``)."""
        self._raw.deadline, self._raw.clock = deadline, clock

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        """What :class:`http.client.HTTPResponse` reads from."""
        return _KeepOpen(self._reader)

    def send(self, data: bytes) -> None:
        """Send ``data`` within the deadline."""
        remaining = self._raw.deadline - self._raw.clock()
        if remaining <= 0:
            raise DeadlineExceeded("deadline passed before sending the request")
        self.sock.settimeout(remaining)
        self.sock.sendall(data)

    def idle_and_clean(self) -> bool:
        """True when nothing is buffered or waiting: the peer neither closed nor sent more."""
        if self._buffered():
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def _buffered(self) -> bool:
        # With the deadline already passed, peek returns what is buffered without waiting for
        # the socket (an empty buffer makes it ask the reader, which refuses at once).
        saved = self._raw.deadline
        self._raw.deadline = float("-inf")
        try:
            return bool(self._reader.peek(1))
        except DeadlineExceeded:
            return False
        finally:
            self._raw.deadline = saved

    def close(self) -> None:
        """Close the socket."""
        try:
            self.sock.close()
        except OSError:
            return


class ConnectionPool:
    """Connections by endpoint, kept alive between fetches, and the threads that resolve host
    names: made by its owner (one per execution environment, or per run of a tool), passed to
    every fetch, closed by the owner (:meth:`close`, or a ``with`` block).

    Parameters
    ----------
    connect
        Opens TCP connections (tests pass one that serves canned pages).
    """

    def __init__(self, connect: Connector = open_tcp) -> None:
        self._connect = connect
        self._idle: OrderedDict[Endpoint, list[Connection]] = OrderedDict()
        self._idle_count = 0
        self._contexts: dict[TlsSettings, ssl.SSLContext] = {}
        self._resolvers: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> ConnectionPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def resolve_within(self, resolver: Callable[[str], Iterable[str]], host: str, remaining: float) -> list[str]:
        """``resolver(host)`` in one of the pool's threads, so a resolver that hangs cannot
        outlast the fetch's deadline (``remaining`` seconds).

        Raises
        ------
        DeadlineExceeded
            When the answer does not come in time.
        """
        with self._lock:
            if self._resolvers is None:  # made on the first host name: a pool of IP targets has no threads
                self._resolvers = ThreadPoolExecutor(max_workers=RESOLVER_THREADS, thread_name_prefix="promwatch-dns")
            executor = self._resolvers
        future = executor.submit(lambda: list(resolver(host)))
        try:
            return future.result(timeout=max(remaining, 0.0))
        except FutureTimeout:
            future.cancel()
            raise DeadlineExceeded(f"resolving {host!r} timed out") from None

    def acquire(self, endpoint: Endpoint, deadline: float, clock: Clock) -> Connection:
        """An idle connection to ``endpoint`` that is still good, or a new one.

        Raises
        ------
        FetchError
            When connecting or the TLS handshake fails or the deadline passes.
        """
        while True:
            with self._lock:
                idle = self._idle.get(endpoint)
                connection = idle.pop() if idle else None
                if connection is not None:
                    self._idle_count -= 1
                    if not idle:
                        del self._idle[endpoint]
            if connection is None:
                break
            if connection.idle_and_clean():
                connection.reused = True
                connection.arm(deadline, clock)
                return connection
            connection.close()
        connection = self._open(endpoint, deadline, clock)
        connection.arm(deadline, clock)
        return connection

    def release(self, connection: Connection) -> None:
        """Keep ``connection`` for the next fetch to the same endpoint (the response was read whole)."""
        with self._lock:
            idle = self._idle.setdefault(connection.endpoint, [])
            self._idle.move_to_end(connection.endpoint)
            if len(idle) >= MAX_IDLE_PER_ENDPOINT:
                connection.close()
                return
            idle.append(connection)
            self._idle_count += 1
            while self._idle_count > MAX_IDLE_TOTAL:
                oldest, connections = next(iter(self._idle.items()))
                connections.pop(0).close()
                self._idle_count -= 1
                if not connections:
                    del self._idle[oldest]

    def close(self) -> None:
        """Close every idle connection and let the resolver threads end (a lookup still hanging
        ends on its own; nothing waits for it)."""
        with self._lock:
            for connections in self._idle.values():
                for connection in connections:
                    connection.close()
            self._idle.clear()
            self._idle_count = 0
            resolvers, self._resolvers = self._resolvers, None
        if resolvers is not None:
            resolvers.shutdown(wait=False, cancel_futures=True)

    def _open(self, endpoint: Endpoint, deadline: float, clock: Clock) -> Connection:
        where = f"{endpoint.address}:{endpoint.port}" if endpoint.address.version == 4 else \
            f"[{endpoint.address}]:{endpoint.port}"
        remaining = deadline - clock()
        if remaining <= 0:
            raise DeadlineExceeded(f"deadline passed before connecting to {where}")
        try:
            sock = self._connect(endpoint.address, endpoint.port, remaining)
        except TimeoutError:
            raise DeadlineExceeded(f"connecting to {where} timed out") from None
        except OSError as exc:
            raise FetchError(f"connecting to {where} failed: {exc.strerror or type(exc).__name__}") from None
        if endpoint.tls is None:
            return Connection(endpoint, sock)
        try:
            context = self._context(endpoint.tls)
            tls_sock = context.wrap_socket(sock, server_hostname=endpoint.tls.server_name or endpoint.host,
                                           do_handshake_on_connect=False)
        except (OSError, ValueError) as exc:
            sock.close()
            raise FetchError(f"TLS to {where}: {exc}") from None
        remaining = deadline - clock()
        if remaining <= 0:
            tls_sock.close()
            raise DeadlineExceeded(f"TLS handshake with {where} timed out")
        try:
            # CPython bounds the whole handshake by the socket's timeout (not each read).
            tls_sock.settimeout(remaining)
            tls_sock.do_handshake()
        except TimeoutError:
            tls_sock.close()
            raise DeadlineExceeded(f"TLS handshake with {where} timed out") from None
        except ssl.SSLCertVerificationError as exc:
            tls_sock.close()
            raise FetchError(f"TLS to {where}: certificate verify failed: {exc.verify_message}") from None
        except OSError as exc:
            tls_sock.close()
            raise FetchError(f"TLS handshake with {where} failed: {exc.strerror or exc}") from None
        return Connection(endpoint, tls_sock)

    def _context(self, tls: TlsSettings) -> ssl.SSLContext:
        with self._lock:
            context = self._contexts.get(tls)
        if context is not None:
            return context
        context = _make_context(tls)
        with self._lock:
            self._contexts[tls] = context
        return context


def _make_context(tls: TlsSettings) -> ssl.SSLContext:
    """An SSL context for these settings (certificates checked unless ``verify`` is False).

    Raises
    ------
    FetchError
        Naming the CA, certificate or key file that cannot be loaded (never its content).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls.verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        # The system's store only when no CA of its own is given (a file, or data).
        system_store = not isinstance(tls.verify, str) and tls.ca_data is None
        cafile = tls.verify if isinstance(tls.verify, str) else _default_ca_file() if system_store else None
        try:
            if cafile is not None:
                context.load_verify_locations(cafile=cafile)
            elif system_store:
                context.load_default_certs()
        except (OSError, ssl.SSLError) as exc:
            raise FetchError(f"tls_config: cannot load CA file {cafile!r}: {getattr(exc, 'strerror', None) or exc}") from None
        if tls.ca_data is not None:
            try:
                context.load_verify_locations(cadata=tls.ca_data)
            except (ssl.SSLError, ValueError) as exc:
                raise FetchError(f"cannot load the CA certificates given as data: {exc}; expected PEM certificates") from None
    if tls.client_cert is not None:
        cert_file, key_file = tls.client_cert
        try:
            context.load_cert_chain(cert_file, key_file)
        except (OSError, ssl.SSLError) as exc:
            raise FetchError(
                f"tls_config: cannot load client certificate {cert_file!r} / key {key_file!r}: "
                f"{getattr(exc, 'strerror', None) or type(exc).__name__}"
            ) from None
    return context


def _default_ca_file() -> str | None:
    """certifi's bundle when it is installed (it is, with botocore), else the system's store."""
    try:
        import certifi
    except ImportError:
        return None
    return str(certifi.where())
