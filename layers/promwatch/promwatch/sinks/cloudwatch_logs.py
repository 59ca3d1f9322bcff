"""EMF to a CloudWatch Logs log group with PutLogEvents.

Batches fit PutLogEvents' limits (see :mod:`promwatch.sinks.batching`); every request
carries ``x-amzn-logs-format: json/emf`` so CloudWatch extracts the metrics; the log group
and stream are created on demand; throttling and server errors are retried with exponential
backoff and full jitter, and only the batch that failed is sent again. Events CloudWatch
refuses for good (too old, too new, expired) are counted and logged, never retried.
"""
from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from promwatch.emf import serialize
from promwatch.limits import LOGS_MAX_BATCH_BYTES, LOGS_MAX_BATCH_EVENTS, LOGS_MAX_EVENT_BYTES
from promwatch.sinks.base import SinkDeliveryError, SinkStats
from promwatch.sinks.batching import LogEvent, batches, event_size, is_oversized

logger = logging.getLogger("promwatch.sinks")

EMF_HEADER = ("x-amzn-logs-format", "json/emf")
"""The header that makes CloudWatch Logs extract metrics from PutLogEvents' EMF events."""

RETRYABLE_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
    }
)
"""Error codes of PutLogEvents worth retrying (besides any HTTP 5xx)."""


def new_stream_name(now: float, unique: str) -> str:
    """A log stream name as promwatch makes one: ``promwatch/YYYY/MM/DD/<unique>`` (UTC date of ``now``)."""
    return f"promwatch/{time.strftime('%Y/%m/%d', time.gmtime(now))}/{unique}"


class LogsSession:
    """What the CloudWatch Logs sinks of one execution environment share: the log stream of the
    sinks whose settings name none (one per environment, as Lambda names its own, so sinks made
    per cycle or per output do not create a stream each time) and the ``logs`` client.

    Its owner (a function's runtime, at INIT) makes it and passes it to
    :func:`promwatch.sinks.sink_from_settings`; nothing keeps one for the process.

    Parameters
    ----------
    client
        A boto3 ``logs`` client (None: one made on first use, with botocore's retries off:
        the sink retries itself, so that only the failed batch is re-sent).
    stream_name
        The log stream (None: a new name from the wall clock's date and a random id).
    """

    def __init__(self, client: Any = None, *, stream_name: str | None = None) -> None:
        self.stream_name = stream_name or new_stream_name(time.time(), uuid.uuid4().hex)
        self._client = client
        self._lock = threading.Lock()

    def client(self) -> Any:
        """The ``logs`` client, made on first use (botocore loads then, not at INIT)."""
        with self._lock:
            if self._client is None:
                from promwatch.coldstart import aws_client

                self._client = aws_client("logs", max_attempts=1)
            return self._client


def _add_emf_header(request: Any, **_: Any) -> None:
    request.headers[EMF_HEADER[0]] = EMF_HEADER[1]


def register_emf_header(client: Any) -> None:
    """Make every PutLogEvents request of ``client`` carry the EMF header (idempotent)."""
    client.meta.events.register(
        "before-sign.logs.PutLogEvents", _add_emf_header, unique_id="promwatch-emf-header"
    )


class CloudWatchLogsSink:
    """EMF documents to one log stream of a CloudWatch Logs log group.

    Documents are buffered by :meth:`write` and sent by :meth:`flush` (also whenever a full
    batch is buffered); call :meth:`flush` before the invocation ends, or use the sink as a
    context manager.

    Parameters
    ----------
    log_group, log_stream
        Destination; both are created on first use if missing.
    client
        A boto3 ``logs`` client (None: ``session``'s, made on first use).
    session
        The :class:`LogsSession` whose client the sink uses when given none (None: a session
        of the sink's own).
    max_attempts
        Tries per batch on throttling, 5xx and connection errors, the first one included.
    base_delay, max_delay
        Backoff: before retry ``n`` (0-based) wait a uniform random time in
        ``[0, min(max_delay, base_delay * 2**n)]`` seconds (full jitter).
    sleep, clock, rng
        Injectable waits, wall clock (epoch seconds, for documents without a Timestamp) and
        randomness for the jitter.
    """

    def __init__(
        self,
        log_group: str,
        log_stream: str,
        client: Any = None,
        *,
        session: LogsSession | None = None,
        max_attempts: int = 6,
        base_delay: float = 0.1,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.log_group = log_group
        self.log_stream = log_stream
        self.max_attempts = max(1, max_attempts)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._client = client
        self._session = session
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._buffer: list[LogEvent] = []
        self._buffered_bytes = 0
        self._undelivered = 0
        self._written_since_flush = 0
        self._failed_tickets: set[Hashable] = set()
        self.stats = SinkStats()
        self.rejections: Counter[str] = Counter()
        """Documents refused for good, by reason: too_old, too_new, expired, too_large."""
        if client is not None:
            register_emf_header(client)

    @property
    def client(self) -> Any:
        """The boto3 ``logs`` client (the session's, on first use)."""
        if self._client is None:
            if self._session is None:
                self._session = LogsSession()
            self._client = self._session.client()
            register_emf_header(self._client)
        return self._client

    def __enter__(self) -> CloudWatchLogsSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.flush()

    def write(self, documents: list[dict[str, Any]], *, ticket: Hashable = None) -> None:
        """Buffer documents; send the buffer when it holds a full batch.

        A document larger than one log event may be is refused (counted as ``too_large``
        and logged); the others go on. The EMF writer never produces such a document. A batch
        that cannot be delivered is reported by the next :meth:`flush`, with its tickets.
        """
        self._written_since_flush += len(documents)
        for document in documents:
            event = LogEvent(self._timestamp_ms(document), serialize(document), ticket)
            if is_oversized(event):
                self._reject("too_large", 1, f"{len(event.message.encode())} bytes > {LOGS_MAX_EVENT_BYTES}")
                continue
            self._buffer.append(event)
            self._buffered_bytes += event_size(event)
        if self._buffered_bytes >= LOGS_MAX_BATCH_BYTES or len(self._buffer) >= LOGS_MAX_BATCH_EVENTS:
            self._send_buffer()

    def flush(self) -> None:
        """Send everything buffered, batch by batch, in chronological order.

        Raises
        ------
        SinkDeliveryError
            After every batch was tried, when some written since the last flush could not be
            delivered; ``undelivered`` counts their documents, ``failed_tickets`` names their
            tickets. Delivered batches are not sent again.
        """
        self._send_buffer()
        written, self._written_since_flush = self._written_since_flush, 0
        if self._undelivered:
            undelivered, failed = self._undelivered, frozenset(self._failed_tickets)
            self._undelivered, self._failed_tickets = 0, set()
            raise SinkDeliveryError(
                f"{undelivered} of {written} EMF documents could not be delivered to "
                f"log group {self.log_group!r} stream {self.log_stream!r}",
                undelivered=undelivered,
                failed_tickets=failed,
            )

    def _send_buffer(self) -> None:
        events, self._buffer, self._buffered_bytes = self._buffer, [], 0
        for batch in batches(events):
            if self._send(batch):
                self._undelivered += len(batch)
                self._failed_tickets.update(event.ticket for event in batch)

    def _timestamp_ms(self, document: Mapping[str, Any]) -> int:
        aws = document.get("_aws")
        if isinstance(aws, Mapping) and isinstance(aws.get("Timestamp"), int | float):
            return int(aws["Timestamp"])
        return int(self._clock() * 1000)

    def _send(self, batch: list[LogEvent]) -> int:
        """Deliver one batch; return how many of its events were not delivered."""
        from botocore.exceptions import BotoCoreError, ClientError

        created = False
        attempt = 0
        while True:
            try:
                response = self.client.put_log_events(
                    logGroupName=self.log_group,
                    logStreamName=self.log_stream,
                    logEvents=[{"timestamp": e.timestamp, "message": e.message} for e in batch],
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if code == "ResourceNotFoundException" and not created:
                    # Creating the group and stream fails as any call may: that is this
                    # attempt's failure (retried like one), never an exception out of the sink.
                    failure = self._create_destination()
                    if failure is None:
                        created = True
                        continue
                    retryable, reason = failure
                else:
                    retryable = code in RETRYABLE_ERROR_CODES or status >= 500
                    reason = f"{code} (HTTP {status})"
            except BotoCoreError as exc:  # connection reset, read timeout: transient
                retryable = True
                reason = type(exc).__name__
            else:
                self._account(batch, response.get("rejectedLogEventsInfo") or {})
                return 0
            attempt += 1
            if not retryable or attempt >= self.max_attempts:
                logger.error(
                    "PutLogEvents to %s/%s failed after %d attempt(s): %s; %d events not delivered",
                    self.log_group, self.log_stream, attempt, reason, len(batch),
                )
                self.stats.failed += len(batch)
                return len(batch)
            self._sleep(self._rng.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1))))

    def _create_destination(self) -> tuple[bool, str] | None:
        """Create the stream (and the group first when it is missing too); None when done, else
        ``(retryable, reason)``."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._create_stream_and_group()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            return code in RETRYABLE_ERROR_CODES or status >= 500, f"creating the log stream: {code} (HTTP {status})"
        except BotoCoreError as exc:
            return True, f"creating the log stream: {type(exc).__name__}"
        return None

    def _create_stream_and_group(self) -> None:
        client = self.client
        try:
            client.create_log_stream(logGroupName=self.log_group, logStreamName=self.log_stream)
            return
        except client.exceptions.ResourceAlreadyExistsException:
            return
        except client.exceptions.ResourceNotFoundException:
            pass  # the group is missing: create it below, then the stream
        try:
            client.create_log_group(logGroupName=self.log_group)
        except client.exceptions.ResourceAlreadyExistsException:
            logger.debug("log group %s was created concurrently", self.log_group)
        try:
            client.create_log_stream(logGroupName=self.log_group, logStreamName=self.log_stream)
        except client.exceptions.ResourceAlreadyExistsException:
            logger.debug("log stream %s was created concurrently", self.log_stream)

    def _account(self, batch: list[LogEvent], rejected: Mapping[str, int]) -> None:
        reasons: dict[int, str] = {}
        for index in range(rejected.get("tooNewLogEventStartIndex", len(batch)), len(batch)):
            reasons[index] = "too_new"
        for index in range(rejected.get("expiredLogEventEndIndex", 0)):
            reasons.setdefault(index, "expired")
        for index in range(rejected.get("tooOldLogEventEndIndex", 0)):
            reasons.setdefault(index, "too_old")
        for reason, count in Counter(reasons.values()).items():
            self._reject(reason, count, f"log group {self.log_group!r}")
        self.stats.written += len(batch) - len(reasons)

    def _reject(self, reason: str, count: int, detail: str) -> None:
        logger.warning("CloudWatch Logs refused %d EMF document(s) as %s: %s", count, reason, detail)
        self.rejections[reason] += count
        self.stats.rejected += count
