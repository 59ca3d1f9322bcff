"""A local stand-in for CloudWatch's OTLP metrics endpoint: ``POST /v1/metrics`` on 127.0.0.1.

It takes what CloudWatch takes and nothing else: ``application/x-protobuf`` bodies (gzip or
not) that decode as ``ExportMetricsServiceRequest`` with the official protos, signed with
SigV4 for service ``monitoring`` in its region by the local credentials (the emulator's, see
:class:`promwatch_tools.local.emulator.Emulator`). The signature is computed again with
botocore from the request as received (method, path, the signed headers, the body) and
compared. Answers: 200 with an ``ExportMetricsServiceResponse``; 400 (not protobuf, not a
request, bad gzip), 403 (unsigned, other key, other service or region, wrong signature, a
date more than 15 minutes off) and 404 with a text message.

What arrived is kept for queries: :meth:`OtlpReceiver.requests` (the decoded requests, with
their :meth:`OtlpReceiver.headers`) and
:meth:`OtlpReceiver.points` (one flat :class:`ReceivedPoint` per data point). Tests can queue
replies (:meth:`OtlpReceiver.reply_next`) to play a throttling or failing endpoint::

    with running_otlp_receiver(region="us-east-1") as receiver:
        ...  # send to receiver.url
        [p.name for p in receiver.points()]
"""
from __future__ import annotations

import datetime
import gzip
import hmac
import threading
import zlib
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from promwatch_tools.local.emulator import DEFAULT_REGION
from promwatch_tools.local.errors import LocalError

LOCAL_ACCESS_KEY = "testing"
"""The emulator's access key id (and secret)."""
MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)
_SIGNATURE_PREFIX = "AWS4-HMAC-SHA256 "


@dataclass(frozen=True, slots=True)
class ReceivedPoint:
    """One data point as it arrived, flattened for queries.

    ``kind`` is ``gauge``, ``sum``, ``histogram`` or ``summary``; ``value`` the number of a
    gauge or sum; ``bounds``/``bucket_counts``/``count``/``sum`` a histogram's (``count`` and
    ``sum``, and ``quantiles`` a summary's).
    """

    resource: dict[str, str]
    scope: str
    name: str
    kind: str
    attributes: dict[str, str]
    time_unix_nano: int
    start_time_unix_nano: int
    value: float | None = None
    is_monotonic: bool | None = None
    bounds: tuple[float, ...] = ()
    bucket_counts: tuple[int, ...] = ()
    count: int | None = None
    sum: float | None = None
    quantiles: tuple[tuple[float, float], ...] = ()
    exemplars: int = 0


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply queued by a test instead of the normal one."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


def _strings(attributes: Any) -> dict[str, str]:
    return {kv.key: _text(kv.value) for kv in attributes}


def _text(value: Any) -> str:
    """An ``AnyValue`` as a label value: a string as is, another scalar (``server.port`` is an
    int) as its text."""
    kind = value.WhichOneof("value")
    return value.string_value if kind in ("string_value", None) else str(getattr(value, kind))


def flatten(request: Any) -> list[ReceivedPoint]:
    """Every data point of an ``ExportMetricsServiceRequest``."""
    out: list[ReceivedPoint] = []
    for resource_metrics in request.resource_metrics:
        resource = _strings(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                data = getattr(metric, kind)
                for point in data.data_points:
                    common: dict[str, Any] = {
                        "resource": resource, "scope": scope_metrics.scope.name, "name": metric.name, "kind": kind,
                        "attributes": _strings(point.attributes), "time_unix_nano": point.time_unix_nano,
                        "start_time_unix_nano": point.start_time_unix_nano,
                    }
                    if kind in ("gauge", "sum"):
                        out.append(ReceivedPoint(**common, value=point.as_double,
                                                 is_monotonic=data.is_monotonic if kind == "sum" else None,
                                                 exemplars=len(point.exemplars)))
                    elif kind == "histogram":
                        out.append(ReceivedPoint(**common, bounds=tuple(point.explicit_bounds),
                                                 bucket_counts=tuple(point.bucket_counts), count=point.count,
                                                 sum=point.sum if point.HasField("sum") else None,
                                                 exemplars=len(point.exemplars)))
                    else:
                        out.append(ReceivedPoint(**common, count=point.count, sum=point.sum,
                                                 quantiles=tuple((q.quantile, q.value) for q in point.quantile_values)))
    return out


class SignatureProblem(LocalError):
    """Why a request's signature is not accepted (the 403's message)."""


def verify_sigv4(method: str, path: str, headers: Mapping[str, str], body: bytes, *, access_key: str,
                 secret_key: str, region: str, service: str = "monitoring",
                 now: datetime.datetime | None = None) -> None:
    """Check a request's SigV4 signature by computing it again with botocore.

    ``headers`` are the request's, names in any case; ``path`` includes the query string.

    Raises
    ------
    SignatureProblem
        Naming what does not match.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    lower = {k.lower(): v for k, v in headers.items()}
    authorization = lower.get("authorization", "")
    if not authorization.startswith(_SIGNATURE_PREFIX):
        raise SignatureProblem(f"missing or non-SigV4 Authorization header; expected {_SIGNATURE_PREFIX.strip()}")
    fields = dict(part.strip().split("=", 1) for part in authorization[len(_SIGNATURE_PREFIX):].split(",") if "=" in part)
    try:
        key_id, date, signed_region, signed_service, terminator = fields["Credential"].split("/")
        signed_headers = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (KeyError, ValueError):
        raise SignatureProblem(f"malformed Authorization header {authorization[:120]!r}") from None
    if key_id != access_key:
        raise SignatureProblem(f"unknown access key {key_id!r}")
    if (signed_region, signed_service, terminator) != (region, service, "aws4_request"):
        raise SignatureProblem(f"credential scope {signed_region}/{signed_service}/{terminator}; "
                               f"expected {region}/{service}/aws4_request")
    stamp = lower.get("x-amz-date", "")
    try:
        when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        raise SignatureProblem(f"X-Amz-Date {stamp!r} is not a SigV4 timestamp") from None
    if abs((now or datetime.datetime.now(datetime.UTC)) - when) > MAX_CLOCK_SKEW or not stamp.startswith(date):
        raise SignatureProblem(f"X-Amz-Date {stamp} is more than 15 minutes off, or not of the credential's date")
    missing = [name for name in signed_headers if name not in lower]
    if missing or "host" not in signed_headers:
        raise SignatureProblem(f"signed headers {missing or ['host']} are missing from the request")
    request = AWSRequest(method=method, url=f"http://{lower['host']}{path}", data=body,
                         headers={name: lower[name] for name in signed_headers})
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(access_key, secret_key, lower.get("x-amz-security-token")), service, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, signature):
        raise SignatureProblem("signature does not match the request (method, path, signed headers and body)")


class OtlpReceiver(ThreadingHTTPServer):
    """The server; see the module docstring. Use :func:`running_otlp_receiver`."""

    daemon_threads = True

    def __init__(self, host: str, port: int, *, region: str, access_key: str, secret_key: str) -> None:
        super().__init__((host, port), _Handler)
        self.region, self.access_key, self.secret_key = region, access_key, secret_key
        self._lock = threading.Lock()
        self._requests: list[Any] = []
        self._headers: list[dict[str, str]] = []
        self._replies: deque[Reply] = deque()
        self.refusals: list[tuple[int, str]] = []
        """(status, message) of every request refused."""
        self.attempts = 0
        """Requests received, refused and queued replies included."""

    @property
    def url(self) -> str:
        """The metrics endpoint's URL."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1/metrics"

    def reply_next(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies`` (in order) instead of accepting them."""
        with self._lock:
            self._replies.extend(replies)

    def requests(self) -> list[Any]:
        """The ``ExportMetricsServiceRequest`` messages accepted so far, in order."""
        with self._lock:
            return list(self._requests)

    def headers(self) -> list[dict[str, str]]:
        """The HTTP headers of the requests accepted so far (names lower-case), in order."""
        with self._lock:
            return [dict(h) for h in self._headers]

    def points(self) -> list[ReceivedPoint]:
        """Every data point accepted so far, flattened."""
        return [point for request in self.requests() for point in flatten(request)]

    def _accept(self, request: Any, headers: Mapping[str, str]) -> None:
        with self._lock:
            self._requests.append(request)
            self._headers.append({k.lower(): v for k, v in headers.items()})

    def _queued(self) -> Reply | None:
        with self._lock:
            self.attempts += 1
            return self._replies.popleft() if self._replies else None


class _Handler(BaseHTTPRequestHandler):
    server: OtlpReceiver

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and the demo read the queries
        return

    def do_POST(self) -> None:
        from google.protobuf.message import DecodeError
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
            ExportMetricsServiceRequest,
            ExportMetricsServiceResponse,
        )

        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        queued = self.server._queued()
        if queued is not None:
            self._send(queued.status, queued.body, dict(queued.headers))
            return
        if self.path.split("?")[0] != "/v1/metrics":
            self._refuse(404, f"no such path {self.path!r}; expected /v1/metrics")
            return
        try:
            verify_sigv4("POST", self.path, dict(self.headers.items()), body, access_key=self.server.access_key,
                         secret_key=self.server.secret_key, region=self.server.region)
        except SignatureProblem as exc:
            self._refuse(403, str(exc))
            return
        if "application/x-protobuf" not in (self.headers.get("Content-Type") or ""):
            self._refuse(400, f"Content-Type {self.headers.get('Content-Type')!r}; expected application/x-protobuf")
            return
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        try:
            raw = gzip.decompress(body) if encoding == "gzip" else body
            request = ExportMetricsServiceRequest()
            request.ParseFromString(raw)
        except (OSError, EOFError, zlib.error, DecodeError) as exc:
            self._refuse(400, f"body is not a{' gzipped' if encoding == 'gzip' else ''} "
                              f"ExportMetricsServiceRequest: {exc}")
            return
        self.server._accept(request, dict(self.headers.items()))
        self._send(200, ExportMetricsServiceResponse().SerializeToString(),
                   {"Content-Type": "application/x-protobuf"})

    def _refuse(self, status: int, message: str) -> None:
        self.server.refusals.append((status, message))
        self._send(status, message.encode(), {"Content-Type": "text/plain; charset=utf-8"})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def running_otlp_receiver(
    *, host: str = "127.0.0.1", port: int = 0, region: str = DEFAULT_REGION,
    access_key: str = LOCAL_ACCESS_KEY, secret_key: str = LOCAL_ACCESS_KEY,
) -> Iterator[OtlpReceiver]:
    """Serve an :class:`OtlpReceiver` on a thread for the block (``port=0``: a free one)."""
    server = OtlpReceiver(host, port, region=region, access_key=access_key, secret_key=secret_key)
    thread = threading.Thread(target=server.serve_forever, name="otlp-receiver", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
