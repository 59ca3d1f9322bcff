"""The OTLP sink: targets' resource metrics -> signed, gzipped OTLP/HTTP protobuf requests.

``add(resource_metrics, ticket=...)`` buffers a target's metrics; ``flush()`` packs them into
requests within the endpoint's limits (:mod:`promwatch.otlp.encode`), signs each with SigV4
(service ``monitoring``, botocore's signer and the session's credentials) and POSTs it with
``Content-Type: application/x-protobuf`` and ``Content-Encoding: gzip``.

- 429 and 5xx (and a connection that fails) are retried with exponential backoff and full
  jitter, waiting what ``Retry-After`` asks when the server sends it, never past the
  deadline the cycle gives; what is still undelivered then fails its tickets. A
  ``Retry-After`` beyond :data:`MAX_RETRY_AFTER_SECONDS` fails the request at once (logged
  with the server's value); without a deadline, one flush waits
  :data:`MAX_RETRY_WAIT_SECONDS` in all at most.
- Another 4xx is not retried: the server's message is logged and the tickets fail.
- ``partial_success.rejected_data_points`` of a 200 are counted (:attr:`OtlpSink.rejected_points`)
  and the server's ``error_message`` logged; the request counts as delivered.
"""
from __future__ import annotations

import email.utils
import gzip
import logging
import os
import random
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.metrics.v1 import metrics_pb2 as pb

from promwatch.otlp.config import OTLP_SERVICE, OtlpOutput, default_endpoint, named_region
from promwatch.otlp.encode import Batch, batches
from promwatch.sinks.base import SinkDeliveryError, SinkError, SinkStats

logger = logging.getLogger("promwatch.otlp")

CONTENT_TYPE = "application/x-protobuf"
MAX_ATTEMPTS = 6
"""Tries of one request (the first and five retries), within the deadline."""
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 20.0
MAX_RETRY_AFTER_SECONDS = 30.0
"""The longest ``Retry-After`` honoured: a server asking for more fails the request instead
(its targets keep their start times for the next cycle)."""
MAX_RETRY_WAIT_SECONDS = 60.0
"""What one flush waits between tries in all, when no deadline bounds it (the CLI)."""
_MESSAGE_CHARS = 500


class OtlpError(SinkError):
    """An OTLP output that cannot be used (no region, no credentials)."""


class OtlpConnectionError(OtlpError, ConnectionError):
    """A POST that got no response (connection refused or reset, TLS, timeout); also an
    ``OSError``, which :class:`Transport` promises for a request that got no response."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """What the transport got back."""

    status: int
    headers: dict[str, str]
    body: bytes


class Transport(Protocol):
    """POSTs one request (the adapter tests replace)."""

    def post(self, url: str, headers: dict[str, str], body: bytes, timeout: float) -> HttpResponse:
        """Send ``body``; raise :class:`OSError` (or a subclass) when no response came."""
        ...


class Urllib3Transport:
    """:class:`Transport` over a urllib3 pool; TLS certificates are verified."""

    def __init__(self) -> None:
        import urllib3

        self._urllib3 = urllib3
        self._pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", retries=False)

    def post(self, url: str, headers: dict[str, str], body: bytes, timeout: float) -> HttpResponse:
        """See :meth:`Transport.post`."""
        try:
            response = self._pool.request("POST", url, body=body, headers=headers, timeout=timeout,
                                          redirect=False, preload_content=True)
        except self._urllib3.exceptions.HTTPError as exc:
            raise OtlpConnectionError(f"POST {url}: {exc}") from exc
        return HttpResponse(response.status, {k.lower(): v for k, v in response.headers.items()}, response.data)


Signer = Callable[[str, dict[str, str], bytes], dict[str, str]]
"""(url, headers, body) -> the headers with the SigV4 ``Authorization`` (and date, token) added."""


def sigv4_signer(region: str, credentials: Any = None) -> Signer:
    """A signer for service ``monitoring`` in ``region`` with botocore's SigV4.

    ``credentials`` default to the botocore session's (refreshed as they expire).

    Raises
    ------
    OtlpError
        When no credentials can be found.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    if credentials is None:
        import botocore.session
        from botocore.exceptions import BotoCoreError

        try:
            credentials = botocore.session.get_session().get_credentials()
        except BotoCoreError as exc:  # a profile that does not exist, a credential_process that fails...
            raise OtlpError(f"AWS credentials for the OTLP output could not be loaded: {exc}") from exc
        if credentials is None:
            raise OtlpError("no AWS credentials for the OTLP output; expected the function's role, "
                            "environment variables or a profile")

    def sign(url: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
        frozen = credentials.get_frozen_credentials() if hasattr(credentials, "get_frozen_credentials") else credentials
        request = AWSRequest(method="POST", url=url, data=body, headers=headers)
        SigV4Auth(frozen, OTLP_SERVICE, region).add_auth(request)
        return dict(request.headers.items())

    return sign


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` (delta seconds or an HTTP date, against wall-clock ``now``) in seconds."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(parsed.timestamp() - now, 0.0)


def status_message(body: bytes, content_type: str) -> str:
    """The server's message: a ``google.rpc.Status`` (field 2, ``message``) when the body is
    protobuf, else the body as text."""
    if CONTENT_TYPE in content_type:
        position = 0
        try:
            while position < len(body):
                key, position = _varint(body, position)
                wire = key & 7
                if wire == 0:
                    _, position = _varint(body, position)
                elif wire == 2:
                    length, position = _varint(body, position)
                    if key >> 3 == 2:
                        return body[position:position + length].decode("utf-8", "replace")[:_MESSAGE_CHARS]
                    position += length
                else:
                    break
        except IndexError:
            pass
    return body.decode("utf-8", "replace")[:_MESSAGE_CHARS]


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


class OtlpSink:
    """Buffers targets' resource metrics and delivers them on :meth:`flush`.

    Parameters
    ----------
    endpoint
        The URL requests go to.
    sign
        Adds the SigV4 headers (:func:`sigv4_signer`).
    transport
        Sends a request (default: :class:`Urllib3Transport`).
    timeout
        One request's timeout, seconds.
    monotonic, sleep, wall_clock, jitter
        Injectable time and randomness (tests).
    """

    def __init__(
        self,
        endpoint: str,
        sign: Signer,
        *,
        transport: Transport | None = None,
        timeout: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.endpoint = endpoint
        self.sign = sign
        self.transport = transport if transport is not None else Urllib3Transport()
        self.timeout = timeout
        self.monotonic, self.sleep, self.wall_clock, self.jitter = monotonic, sleep, wall_clock, jitter
        self.stats = SinkStats()
        self.rejected_points = 0
        """Data points the endpoint accepted the request of but rejected (partial success)."""
        self.too_large_points = 0
        """Data points that could not fit a request even alone (not sent)."""
        self.deadline: float | None = None
        """Monotonic seconds after which no request is retried (set by the cycle)."""
        self._pending: list[tuple[Hashable, pb.ResourceMetrics]] = []
        self._waited = 0.0
        """Seconds this flush has waited between tries."""

    def add(self, resource_metrics: pb.ResourceMetrics, *, ticket: Hashable = None) -> None:
        """Buffer one target's metrics under ``ticket``."""
        self._pending.append((ticket, resource_metrics))

    def flush(self) -> None:
        """Deliver what is buffered.

        Raises
        ------
        SinkDeliveryError
            When requests could not be delivered; ``failed_tickets`` names their targets and
            ``undelivered`` counts the requests.
        """
        pending, self._pending = self._pending, []
        if not pending:
            return
        requests, too_large = batches(pending)
        if too_large:
            self.too_large_points += too_large
            logger.error("OTLP: %d data points larger than a whole request on their own were not sent", too_large)
        failed: set[Hashable] = set()
        undelivered = 0
        self._waited = 0.0
        for batch in requests:
            if self._deliver(batch):
                self.stats.written += 1
            else:
                self.stats.failed += 1
                undelivered += 1
                failed.update(batch.tickets)
        if undelivered:
            raise SinkDeliveryError(f"{undelivered} of {len(requests)} OTLP requests to {self.endpoint} were not "
                                    "delivered", undelivered=undelivered, failed_tickets=frozenset(failed))

    def _deliver(self, batch: Batch) -> bool:
        body = gzip.compress(batch.body(), compresslevel=6)
        headers = {"Content-Type": CONTENT_TYPE, "Content-Encoding": "gzip"}
        tries = 0
        while True:
            tries += 1
            wait: float | None
            try:
                response = self.transport.post(self.endpoint, self.sign(self.endpoint, dict(headers), body), body,
                                               self._request_timeout())
            except OSError as exc:
                problem, wait = f"no response ({exc})", None
            else:
                if 200 <= response.status < 300:
                    self._partial_success(response, batch)
                    return True
                message = status_message(response.body, response.headers.get("content-type", ""))
                if response.status != 429 and response.status < 500:
                    logger.error("OTLP request of %d data points refused by %s with HTTP %d (not retried): %s",
                                 batch.points, self.endpoint, response.status, message)
                    return False
                problem = f"HTTP {response.status}: {message}"
                retry_after = response.headers.get("retry-after")
                wait = retry_after_seconds(retry_after, self.wall_clock())
                if wait is not None and wait > MAX_RETRY_AFTER_SECONDS:
                    logger.error("OTLP request of %d data points to %s not delivered: %s, and the server asks to "
                                 "retry after %r, more than the %.0f s waited at most", batch.points, self.endpoint,
                                 problem, retry_after, MAX_RETRY_AFTER_SECONDS)
                    return False
            if wait is None:
                wait = self.jitter(0.0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (tries - 1)))
            if tries >= MAX_ATTEMPTS or self._out_of_time(wait):
                logger.error("OTLP request of %d data points to %s not delivered after %d tries: %s",
                             batch.points, self.endpoint, tries, problem)
                return False
            logger.warning("OTLP request to %s failed (%s); retrying in %.2f s", self.endpoint, problem, wait)
            self._waited += wait
            self.sleep(wait)

    def _out_of_time(self, wait: float) -> bool:
        """Whether waiting ``wait`` more and trying again would pass the deadline (or, without
        one, the flush's :data:`MAX_RETRY_WAIT_SECONDS`)."""
        if self.deadline is None:
            return self._waited + wait > MAX_RETRY_WAIT_SECONDS
        return self.monotonic() + wait + self.timeout > self.deadline

    def _request_timeout(self) -> float:
        if self.deadline is None:
            return self.timeout
        return max(min(self.timeout, self.deadline - self.monotonic()), 0.1)

    def _partial_success(self, response: HttpResponse, batch: Batch) -> None:
        if not response.body:
            return
        reply = ExportMetricsServiceResponse()
        try:
            reply.ParseFromString(response.body)
        except DecodeError as exc:
            logger.warning("OTLP: the reply of %s is not an ExportMetricsServiceResponse (%s); taken as success",
                           self.endpoint, exc)
            return
        rejected = reply.partial_success.rejected_data_points
        if rejected or reply.partial_success.error_message:
            self.rejected_points += rejected
            logger.error("OTLP: %s rejected %d of %d data points: %s", self.endpoint, rejected, batch.points,
                         reply.partial_success.error_message[:_MESSAGE_CHARS])


def output_region(output: OtlpOutput, environ: Mapping[str, str] | None = None) -> str:
    """The region ``output`` signs for: its own, else the endpoint's (``monitoring.<region>...``),
    else ``AWS_REGION`` / ``AWS_DEFAULT_REGION``.

    Raises
    ------
    OtlpError
        When none of them names a region.
    """
    env = os.environ if environ is None else environ
    region = named_region(output) or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise OtlpError("the OTLP output names no region and AWS_REGION is not set; expected "
                        "outputs: [{type: otlp, region: REGION}]")
    return region


def otlp_sink(output: OtlpOutput, *, environ: Mapping[str, str] | None = None, credentials: Any = None,
              transport: Transport | None = None) -> OtlpSink:
    """The sink ``output`` describes (endpoint defaulting from the region).

    Raises
    ------
    OtlpError
        When it has no region or no credentials can be found.
    """
    region = output_region(output, environ)
    return OtlpSink(output.endpoint or default_endpoint(region), sigv4_signer(region, credentials),
                    transport=transport, timeout=output.timeout)
