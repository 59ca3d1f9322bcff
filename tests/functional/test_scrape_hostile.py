"""A hostile or broken target against the scraper's fetch: every attack of the hardening issue,
tried against real sockets on 127.0.0.1 (the servers below misbehave on purpose)."""
from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator

import pytest
from promwatch.exposition import ACCEPT_HEADER
from promwatch.httpclient import (
    BodyTooLargeError,
    ConnectionPool,
    FetchError,
    FetchPolicy,
    FetchRequest,
    TargetRefusedError,
    fetch,
)

PAGE = b"# TYPE up gauge\nup 1\n"
Handler = Callable[[socket.socket, bytes], None]


class RawServer:
    """A TCP server on 127.0.0.1 that hands each connection (and its request head) to ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(65536)
                if not data:
                    return
                head += data
            self.requests.append(head)
            try:
                self.handler(conn, head)
            except OSError:
                return

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], RawServer]]:
    servers: list[RawServer] = []

    def start(handler: Handler) -> RawServer:
        servers.append(RawServer(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def ok(body: bytes = PAGE, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def redirect_to(location: str) -> Handler:
    def handler(conn: socket.socket, head: bytes) -> None:
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: " + location.encode("latin-1") + b"\r\nContent-Length: 0\r\n\r\n")
    return handler


def request(url: str, **kwargs: object) -> FetchRequest:
    return FetchRequest(url=url, timeout=kwargs.pop("timeout", 5), accept=ACCEPT_HEADER, **kwargs)  # type: ignore[arg-type]


# --- 1. one parser: what the guard judges is what the client connects to -------------------

@pytest.mark.parametrize("location", [
    "http://169.254.169.254\\@127.0.0.1:{port}/../latest/meta-data/iam/security-credentials/",
    "http://169.254.169.254\\@127.0.0.1/../latest/meta-data/iam/security-credentials/",
    "http://169.254.169.254\\\\@127.0.0.1:{port}/",
    "http://127.0.0.1:{port}@169.254.169.254/latest/meta-data/",
    "http://carol:pw@127.0.0.1:{port}/metrics",
    "\\\\169.254.169.254\\latest\\meta-data",
    "http://169.254.169.254%2f@127.0.0.1:{port}/",
    "http://127.0.0.1:{port}\t@169.254.169.254/",
    "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
    "http://[::ffff:169.254.169.254]:80/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::1]/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[fd00:ec2::23]/v1/credentials",
    "http://0251.0376.0251.0376/latest/meta-data/",
    "http://0xa9.0xfe.0xa9.0xfe/latest/meta-data/",
    "http://2852039166/latest/meta-data/",
    "http://169.254.169.254./latest/meta-data/",
    "HTTP://169.254.169.254/latest/meta-data/",
    "//169.254.170.2/v2/credentials",
    "http://169.254.170.23/v1/credentials",
])
def test_a_redirect_is_refused_whatever_its_spelling(serve: Callable[[Handler], RawServer], location: str) -> None:
    # Given a loopback target whose redirect points, however spelled, at a link-local or
    # metadata address (or carries userinfo),
    server = serve(redirect_to(""))
    server.handler = redirect_to(location.format(port=server.port))
    # when it is fetched, then the redirect is refused and no second request is made,
    with pytest.raises(TargetRefusedError) as refused:
        fetch(request(f"{server.url}/metrics"), pool=ConnectionPool())
    assert len(server.requests) == 1
    # and the message never repeats a password the location carried.
    assert "pw" not in str(refused.value)


@pytest.mark.parametrize("url", [
    "http://169.254.169.254\\@127.0.0.1:18081/metrics",
    "http://carol:pw@127.0.0.1:18081/metrics",
    "http://127.0.0.1:18081 /metrics",
    "http://127.0.0.1:18081\r\nX-Injected: 1/metrics",
    "http://127.0.0.1:18081/metrics HTTP/1.1\r\nX-Injected: 1",
    "http://[fe80::1%25eth0]:9100/metrics",
])
def test_a_target_url_that_cannot_be_read_safely_is_refused_before_connecting(url: str) -> None:
    # Given a URL with a parser differential, userinfo, whitespace or control characters,
    def connect(*args: object) -> socket.socket:
        raise AssertionError(f"connected for {url!r}")

    # when fetched, then it is refused and nothing is connected to.
    with pytest.raises(TargetRefusedError) as refused:
        fetch(request(url), pool=ConnectionPool(connect=connect))
    # and the message never repeats the address's password (it would reach the logs)
    assert "pw" not in str(refused.value)


# --- 2. DNS rebinding: the connection goes to the address that was checked --------------------

def test_the_connection_goes_to_the_checked_address_not_to_a_second_answer(
    serve: Callable[[Handler], RawServer],
) -> None:
    # Given a name that answers 127.0.0.1 first and the metadata address on every later query,
    server = serve(lambda conn, head: conn.sendall(ok()))
    answers = iter([["127.0.0.1"]])

    def rebinding(host: str) -> list[str]:
        return next(answers, ["169.254.169.254"])

    connected: list[tuple[str, int]] = []

    def connect(address: object, port: int, timeout: float) -> socket.socket:
        connected.append((str(address), port))
        return socket.create_connection((str(address), port), timeout)

    # when it is fetched, then the page comes from the checked address, with the name as Host,
    response = fetch(request(f"http://rebind.test:{server.port}/metrics"), resolver=rebinding,
                     pool=ConnectionPool(connect=connect))
    assert response.text == PAGE.decode()
    assert connected == [("127.0.0.1", server.port)]
    assert b"Host: rebind.test:%d\r\n" % server.port in server.requests[0]
    # and the next fetch, resolving again, is refused before any connection.
    with pytest.raises(TargetRefusedError, match=r"169\.254\.169\.254"):
        fetch(request(f"http://rebind.test:{server.port}/metrics"), resolver=rebinding,
              pool=ConnectionPool(connect=connect))
    assert len(connected) == 1


def test_every_redirect_hop_is_resolved_checked_and_pinned(serve: Callable[[Handler], RawServer]) -> None:
    # Given a target redirecting to a name that now resolves to the metadata address,
    target = serve(redirect_to("http://internal.test/latest/meta-data/"))
    resolved: list[str] = []

    def resolver(host: str) -> list[str]:
        resolved.append(host)
        return ["127.0.0.1"] if host == "app.test" else ["169.254.169.254"]

    # when fetched, then the hop is refused after its own resolution.
    with pytest.raises(TargetRefusedError, match=r"internal\.test resolves to"):
        fetch(request(f"http://app.test:{target.port}/metrics"), resolver=resolver, pool=ConnectionPool())
    assert resolved == ["app.test", "internal.test"]


# --- 3. blocked ranges: Lambda's Runtime API and the IPv6 credential agents -------------------

@pytest.mark.parametrize("location", [
    "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",
    "http://localhost.test:9001/2018-06-01/runtime/invocation/next",
    "http://0.0.0.0:9001/2018-06-01/runtime/invocation/next",
    "http://[::1]:9001/2018-06-01/runtime/invocation/next",
    "http://[::ffff:127.0.0.1]:9001/2018-06-01/runtime/invocation/next",
    "http://127.9.9.9:2773/systemsmanager/parameters/get",
])
def test_inside_lambda_a_redirect_to_the_runtime_api_is_refused(location: str) -> None:
    # Given a target (reached at 10.0.0.8 through a connector that records where it connects)
    # that redirects to the Lambda Runtime API or an extension on loopback,
    pages: list[tuple[str, int]] = []

    def connect(address: object, port: int, timeout: float) -> socket.socket:
        pages.append((str(address), port))
        ours, theirs = socket.socketpair()

        def answer() -> None:
            with theirs:
                theirs.recv(65536)
                theirs.sendall(b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % location.encode())
        threading.Thread(target=answer, daemon=True).start()
        return ours

    lambda_policy = FetchPolicy.from_env({"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"})
    # when it is fetched inside Lambda, then the redirect is refused and nothing else is connected to.
    with pytest.raises(TargetRefusedError, match="Runtime API"):
        fetch(request("http://10.0.0.8:9100/metrics"), pool=ConnectionPool(connect=connect), policy=lambda_policy,
              resolver=lambda host: ["127.0.0.1"])
    assert pages == [("10.0.0.8", 9100)]


# --- 4. scrape_timeout is a deadline for the whole fetch ---------------------------------------

def drip(prefix: bytes, forever: bytes, every: float = 0.2) -> Handler:
    """Send ``prefix``, then ``forever`` over and over, one byte at a time: each byte well within
    any per-read timeout, the answer never complete."""
    def handler(conn: socket.socket, head: bytes) -> None:
        for byte in prefix:
            conn.sendall(bytes([byte]))
            time.sleep(every)
        while True:
            for byte in forever:
                conn.sendall(bytes([byte]))
                time.sleep(every)
    return handler


def silent(conn: socket.socket, head: bytes) -> None:
    time.sleep(120)


GZIPPED_PAGE = gzip.compress(b"".join(b"x{n=\"%d\"} %d\n" % (n, n) for n in range(2000)))
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("handler", [
    pytest.param(drip(b"HTTP/1.1 200 OK\r\n", b"X-A: b\r\n"), id="headers-one-byte-at-a-time"),
    pytest.param(drip(CHUNKED + b"\r\n", b"1\r\n#\r\n"), id="body-one-byte-at-a-time"),
    pytest.param(drip(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n", b"#"),
                 id="sized-body-one-byte-at-a-time"),
    pytest.param(drip(CHUNKED + b"Content-Encoding: gzip\r\n\r\n",
                      b"".join(b"1\r\n%c\r\n" % byte for byte in GZIPPED_PAGE)),
                 id="gzip-body-one-byte-at-a-time"),
    pytest.param(silent, id="no-answer"),
])
def test_a_slow_target_fails_at_its_deadline(serve: Callable[[Handler], RawServer], handler: Handler) -> None:
    # Given a target that keeps sending, slowly, an answer that never ends (or never answers),
    server = serve(handler)
    # when fetched with a 1 s timeout, then the fetch fails as a timeout (pytest-timeout fails
    # the test if it waits for the target instead).
    with pytest.raises(FetchError, match="timeout after 1s"):
        fetch(request(f"{server.url}/metrics", timeout=1), pool=ConnectionPool())


@pytest.mark.timeout(30)
def test_a_resolver_that_hangs_cannot_outlast_the_deadline() -> None:
    # Given a resolver that does not answer,
    release = threading.Event()

    def hanging(host: str) -> list[str]:
        release.wait(120)
        return ["127.0.0.1"]

    # when a name is fetched with a 1 s timeout, then the fetch fails as a timeout.
    try:
        with pytest.raises(FetchError, match="timeout after 1s"):
            fetch(request("http://slow-dns.test:9/metrics", timeout=1), resolver=hanging, pool=ConnectionPool())
    finally:
        release.set()


# --- 5. memory: decompressed bytes count against a cap every job has ---------------------------

def _gzip_of_zeros(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, compressor.flush()])


def test_a_gzip_bomb_stops_at_the_default_cap(serve: Callable[[Handler], RawServer]) -> None:
    # Given a job without body_size_limit and a ~100 KB gzip body inflating to 100 MiB,
    bomb = _gzip_of_zeros(100 * 1024 * 1024)
    server = serve(lambda conn, head: conn.sendall(ok(bomb, b"Content-Encoding: gzip\r\n")))
    # when fetched by a 256 MB Lambda function (a default cap of 8 MiB),
    policy = FetchPolicy.from_env({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"})
    assert policy.default_body_size_limit == 8 * 1024 * 1024
    # then reading stops at the cap.
    with pytest.raises(BodyTooLargeError, match="exceeds body_size_limit 8388608"):
        fetch(request(f"{server.url}/metrics"), pool=ConnectionPool(), policy=policy)


def test_a_body_without_length_stops_at_the_cap(serve: Callable[[Handler], RawServer]) -> None:
    # Given a target streaming an endless body with neither length nor chunking,
    def endless(conn: socket.socket, head: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        block = b"x" * 65536
        while True:
            conn.sendall(block)

    server = serve(endless)
    # then a 1 MiB cap ends the read.
    with pytest.raises(BodyTooLargeError):
        fetch(request(f"{server.url}/metrics", body_size_limit=1024 * 1024), pool=ConnectionPool())


@pytest.mark.parametrize("answer", [
    pytest.param(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 70000 + b"\r\n\r\n", id="header-line-over-64KiB"),
    pytest.param(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: a\r\n" * 200 + b"\r\n", id="over-100-headers"),
    pytest.param(b"SSH-2.0-OpenSSH_9.2\r\n\r\n", id="not-http"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc", id="unsupported-encoding"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc", id="bad-gzip"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", id="bad-chunk-size"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", id="short-body"),
])
def test_a_malformed_answer_is_a_fetch_error(serve: Callable[[Handler], RawServer], answer: bytes) -> None:
    # Given a target whose answer breaks HTTP, then the fetch fails with a FetchError (nothing else).
    server = serve(lambda conn, head: (conn.sendall(answer), conn.shutdown(socket.SHUT_WR)))
    with pytest.raises(FetchError):
        fetch(request(f"{server.url}/metrics"), pool=ConnectionPool())


# --- 9. credentials never split a request or reach a message -----------------------------------

@pytest.mark.parametrize("token", ["s3cr3t\r\nX-Injected: 1", "s3cr3t\nmore", "s3cr3t\x00", "s3cr3t\rmore"])
def test_a_credential_with_control_characters_is_refused_and_never_shown(
    serve: Callable[[Handler], RawServer], token: str
) -> None:
    # Given a bearer token holding CR, LF or NUL,
    server = serve(lambda conn, head: conn.sendall(ok()))
    # when the target is fetched with it, then no request is sent and the error does not show it.
    with pytest.raises(FetchError) as failed:
        fetch(request(f"{server.url}/metrics", headers={"Authorization": f"Bearer {token}"}), pool=ConnectionPool())
    assert "s3cr3t" not in str(failed.value) and "Authorization" in str(failed.value)
    assert server.requests == []


def test_credentials_do_not_follow_a_redirect_to_another_host(serve: Callable[[Handler], RawServer]) -> None:
    # Given a target redirecting to another port,
    other = serve(lambda conn, head: conn.sendall(ok()))
    first = serve(redirect_to(f"{other.url}/metrics"))
    # when fetched with credentials, then the second host never sees them.
    fetch(request(f"{first.url}/metrics", headers={"Authorization": "Bearer t0k"}), pool=ConnectionPool())
    assert b"Bearer t0k" in first.requests[0]
    assert b"Authorization" not in other.requests[0]


def test_kept_alive_connections_are_reused_only_for_the_same_address(serve: Callable[[Handler], RawServer]) -> None:
    # Given a target that keeps connections alive,
    def keep_alive(conn: socket.socket, head: bytes) -> None:
        conn.sendall(ok())
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(ok())

    server = serve(keep_alive)
    opened: list[str] = []

    def connect(address: object, port: int, timeout: float) -> socket.socket:
        opened.append(str(address))  # every loopback address reaches the server on 127.0.0.1
        return socket.create_connection(("127.0.0.1", port), timeout)

    pool = ConnectionPool(connect=connect)
    # when it is fetched three times, then one connection serves all three,
    for _ in range(3):
        assert fetch(request(f"{server.url}/metrics"), pool=pool).text == PAGE.decode()
    assert opened == ["127.0.0.1"]
    # and a name resolving to another address gets its own connection.
    fetch(request(f"http://other.test:{server.port}/metrics"), pool=pool, resolver=lambda host: ["127.0.0.2"])
    assert opened == ["127.0.0.1", "127.0.0.2"]
