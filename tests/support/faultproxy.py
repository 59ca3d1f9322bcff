"""A fault-injecting HTTP proxy in front of the moto server, for the fault-injection tests.

boto3/botocore reach it through ``AWS_ENDPOINT_URL`` (or a client's ``endpoint_url``); it
forwards every request to the moto server over real sockets, except those a :class:`Fault`
matches, which get the fault instead: an AWS error in the protocol's own shape (throttling,
5xx), a connection reset, a connection closed without an answer, a hang longer than the
client's read timeout, a request applied by the emulator whose answer is lost, or the
emulator going away (from then on the port refuses connections and open ones are reset).

A request is known by its service (the SigV4 credential scope of its ``Authorization``
header: ``dynamodb``, ``logs``, ``sqs``, ``ssm``, ``secretsmanager``, ``s3``, ``monitoring``)
and its operation: the ``X-Amz-Target`` header of the JSON protocols
(``DynamoDB_20120810.PutItem`` -> ``PutItem``), the path of the RPCv2-CBOR protocol
(CloudWatch: ``/service/.../operation/PutMetricAlarm``), the ``Action`` form field of the
query protocol, or ``METHOD /path`` for S3. Every request is recorded with what was done to it.
"""
from __future__ import annotations

import http.client
import json
import re
import socket
import struct
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

FAULT_KINDS = frozenset({"throttle", "error500", "error503", "reset", "drop", "hang", "lost", "down", "together"})
"""throttle: HTTP 400 (S3: 503) with the service's throttling code; error500/error503: a server
error; reset: the connection reset (RST) before any answer; drop: closed without an answer;
hang: no answer for ``seconds`` (longer than the client's read timeout), then closed; lost: the
request is forwarded (and applied) but the answer is replaced by a reset; down: the emulator
goes away from this request on; together: held until ``seconds`` pass or ``times`` matching
requests wait, then all are forwarded at once (two invocations racing)."""

_THROTTLE_CODES = {
    "dynamodb": "ProvisionedThroughputExceededException",
    "monitoring": "Throttling",
    "s3": "SlowDown",
    "sqs": "RequestThrottled",
}
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


@dataclass
class Fault:
    """What to do to the requests it matches, and which ones.

    Parameters
    ----------
    kind
        One of :data:`FAULT_KINDS`.
    service, operation
        Match only these (None: any).
    contains
        Match only requests whose body contains this text (a target's key, a log group).
    first
        The first matching request (1-based) the fault applies to.
    times
        How many matching requests it applies to from ``first`` (None: every one).
    seconds
        How long ``hang`` holds a request (``together``: the most it waits for the others).
    """

    kind: str
    service: str | None = None
    operation: str | None = None
    contains: str | None = None
    first: int = 1
    times: int | None = 1
    seconds: float = 0.0
    matched: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise AssertionError(f"fault kind {self.kind!r}; expected one of {sorted(FAULT_KINDS)}")

    def matches(self, service: str, operation: str, body: bytes) -> bool:
        return ((self.service is None or self.service == service)
                and (self.operation is None or self.operation == operation)
                and (self.contains is None or self.contains.encode() in body))

    def due(self) -> bool:
        """Count one more matching request; True when the fault applies to it."""
        self.matched += 1
        last = None if self.times is None else self.first + self.times - 1
        if self.matched >= self.first and (last is None or self.matched <= last):
            self.fired += 1
            return True
        return False


@dataclass(frozen=True)
class Call:
    """One request the proxy saw, and what it did (``fault`` None: forwarded and answered)."""

    service: str
    operation: str
    fault: str | None
    body: bytes = field(repr=False)


@dataclass
class _Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")


class FaultProxy:
    """The proxy: :meth:`start` it, point clients at :attr:`url`, :meth:`add` faults.

    Parameters
    ----------
    upstream
        The moto server's URL (``http://127.0.0.1:PORT``).
    """

    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self._upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._down = False
        self._open: set[socket.socket] = set()
        self._waiting: dict[int, tuple[threading.Condition, list[int]]] = {}
        self._stop = threading.Event()
        self.port = 0
        self.calls: list[Call] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- control -------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._down = False
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="faultproxy-accept").start()
        return self

    def close(self) -> None:
        self._stop.set()
        self.go_down()

    def add(self, kind: str, **match: object) -> Fault:
        """Add a fault (see :class:`Fault` for ``match``); returns it (its counters are live).

        A request gets the first fault, in the order added, that matches it and is due; the
        faults after that one do not count it."""
        fault = Fault(kind, **match)  # type: ignore[arg-type]
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Forget every fault (the record of calls stays)."""
        with self._lock:
            self._faults.clear()

    def go_down(self) -> None:
        """The emulator goes away: the port refuses connections, open ones are reset."""
        with self._lock:
            self._down = True
            listener, self._listener = self._listener, None
            open_now = list(self._open)
        if listener is not None:
            listener.close()
        for sock in open_now:
            _reset(sock)

    def come_back(self) -> None:
        """The emulator is back, on the same port."""
        if self._listener is None:
            self.start()

    @contextmanager
    def fault(self, kind: str, **match: object) -> Iterator[Fault]:
        """A fault for the length of a ``with`` block."""
        added = self.add(kind, **match)
        try:
            yield added
        finally:
            with self._lock:
                self._faults.remove(added)

    def count(self, service: str, operation: str | None = None, *, fault: str | bool | None = True) -> int:
        """Requests seen of ``service`` (and ``operation``); ``fault``: True any, None forwarded
        and answered, a kind only those."""
        return sum(1 for c in self.calls if c.service == service and (operation is None or c.operation == operation)
                   and (fault is True or c.fault == fault))

    # --- serving -------------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                if self._down:
                    _reset(sock)
                    continue
                self._open.add(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True, name="faultproxy-conn").start()

    def _serve(self, sock: socket.socket) -> None:
        upstream: http.client.HTTPConnection | None = None
        try:
            reader = sock.makefile("rb")
            while True:
                request = _read_request(reader, sock)
                if request is None:
                    return
                service, operation = _identify(request)
                with self._lock:
                    if self._down:
                        fault: Fault | None = Fault("down")
                    else:
                        fault = next((f for f in self._faults
                                      if f.matches(service, operation, request.body) and f.due()), None)
                    self.calls.append(Call(service, operation, fault.kind if fault else None, request.body))
                if fault is not None and fault.kind == "down":
                    self.go_down()
                    return
                if fault is not None and fault.kind not in ("lost", "together"):
                    if not self._inject(sock, fault, request, service):
                        return
                    continue
                if fault is not None and fault.kind == "together":
                    self._gather(fault)
                if upstream is None:
                    upstream = http.client.HTTPConnection(*self._upstream, timeout=30)
                status, reason, headers, body = _forward(upstream, request)
                if fault is not None and fault.kind == "lost":
                    _reset(sock)
                    return
                sock.sendall(_response(status, reason, headers, body))
        except OSError:
            return
        finally:
            with self._lock:
                self._open.discard(sock)
            if upstream is not None:
                upstream.close()
            sock.close()

    def _inject(self, sock: socket.socket, fault: Fault, request: _Request, service: str) -> bool:
        """Answer with the fault; False when the connection is finished."""
        if fault.kind == "reset":
            _reset(sock)
            return False
        if fault.kind == "drop":
            sock.shutdown(socket.SHUT_RDWR)
            return False
        if fault.kind == "hang":
            self._stop.wait(fault.seconds)
            sock.shutdown(socket.SHUT_RDWR)
            return False
        status, code = {"throttle": (503 if service == "s3" else 400, _THROTTLE_CODES.get(service, "ThrottlingException")),
                        "error500": (500, "InternalFailure"),
                        "error503": (503, "ServiceUnavailable")}[fault.kind]
        sock.sendall(_error_response(request, status, code, f"injected {fault.kind}"))
        return True

    def _gather(self, fault: Fault) -> None:
        """Hold until ``fault.times`` requests wait here (or ``fault.seconds`` passed)."""
        with self._lock:
            condition, waiting = self._waiting.setdefault(id(fault), (threading.Condition(), [0]))
        with condition:
            waiting[0] += 1
            condition.notify_all()
            condition.wait_for(lambda: waiting[0] >= (fault.times or 1), timeout=fault.seconds)


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0): the peer sees "connection reset"."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        return


def _read_request(reader: object, sock: socket.socket) -> _Request | None:
    readline = reader.readline  # type: ignore[attr-defined]
    read = reader.read  # type: ignore[attr-defined]
    line = readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: list[tuple[str, str]] = []
    while True:
        raw = readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    request = _Request(method, path, headers, b"")
    if request.header("Expect").lower() == "100-continue":
        sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    if request.header("Transfer-Encoding").lower() == "chunked":
        chunks = []
        while True:
            size = int(readline().split(b";")[0].strip(), 16)
            if size == 0:
                while readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunks.append(read(size))
            readline()
        request.body = b"".join(chunks)
        request.headers = [(k, v) for k, v in headers if k.lower() != "transfer-encoding"]
        request.headers.append(("Content-Length", str(len(request.body))))
    else:
        request.body = read(int(request.header("Content-Length") or 0))
    return request


def _identify(request: _Request) -> tuple[str, str]:
    scope = _CREDENTIAL_SCOPE.search(request.header("Authorization"))
    service = scope.group(1) if scope else ""
    target = request.header("X-Amz-Target")
    if target:
        return service, target.rpartition(".")[2]
    if "/operation/" in request.path:
        return service, request.path.rpartition("/")[2]
    if request.header("Content-Type").startswith("application/x-www-form-urlencoded"):
        action = urllib.parse.parse_qs(request.body.decode("utf-8", "replace")).get("Action")
        if action:
            return service, action[0]
    return service, f"{request.method} {request.path.split('?')[0]}"


def _forward(upstream: http.client.HTTPConnection, request: _Request) -> tuple[int, str, list[tuple[str, str]], bytes]:
    headers = {k: v for k, v in request.headers if k.lower() not in ("connection", "expect")}
    upstream.request(request.method, request.path, body=request.body, headers=headers)
    response = upstream.getresponse()
    body = response.read()
    kept = [(k, v) for k, v in response.getheaders()
            if k.lower() not in ("transfer-encoding", "connection", "content-length")]
    return response.status, response.reason, kept, body


def _response(status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers), f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def _error_response(request: _Request, status: int, code: str, message: str) -> bytes:
    """An AWS error in the request's protocol: JSON, RPCv2-CBOR, query XML or S3 XML."""
    headers = [("x-amzn-RequestId", "injected-fault")]
    if request.header("X-Amz-Target"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers.append(("Content-Type", request.header("Content-Type") or "application/x-amz-json-1.0"))
    elif "/operation/" in request.path:
        body = _cbor_text_map({"__type": code, "message": message})
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                    ("x-amzn-query-error", f"{code};{'Sender' if status < 500 else 'Receiver'}")]
    elif request.header("Content-Type").startswith("application/x-www-form-urlencoded"):
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                "</Error><RequestId>injected-fault</RequestId></ErrorResponse>").encode()
        headers.append(("Content-Type", "text/xml"))
    else:
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        headers.append(("Content-Type", "application/xml"))
    return _response(status, "Injected", headers, body)


def _cbor_text_map(values: dict[str, str]) -> bytes:
    """CBOR of a small map of text to text (RFC 8949 major types 5 and 3)."""

    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        if length < 256:
            return bytes([major << 5 | 24, length])
        return bytes([major << 5 | 25]) + length.to_bytes(2, "big")

    out = head(5, len(values))
    for key, value in values.items():
        for text in (key, value):
            encoded = text.encode()
            out += head(3, len(encoded)) + encoded
    return out
