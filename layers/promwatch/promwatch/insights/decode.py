"""Lambda events -> batches of performance log messages.

Two shapes reach the insights function: a CloudWatch Logs subscription event
(``{"awslogs": {"data": base64(gzip(json))}}``) and a Kinesis event whose records each hold
a base64 gzip'd subscription payload (what a Logs subscription filter delivers to a stream).
``CONTROL_MESSAGE`` payloads (the subscription's connectivity check) carry no data.
The Kinesis envelope is parsed with the Powertools parser model; the subscription payload
with :class:`SubscriptionPayload`, which also accepts numeric log event ids (the emulator
sends them as numbers; CloudWatch Logs as strings).
"""
from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.parser.models import KinesisDataStreamModel
from pydantic import BaseModel, ConfigDict, ValidationError

from promwatch.insights.errors import EventDecodeError

__all__ = ["LogBatch", "SubscriptionPayload", "batches_from_event", "is_kinesis_event", "is_subscription_event"]

_DECODE_ERRORS = (binascii.Error, zlib.error, json.JSONDecodeError, UnicodeDecodeError, ValidationError, ValueError, TypeError)


class SubscriptionLogEvent(BaseModel):
    """One log event of a subscription payload."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: str
    timestamp: int
    message: str


class SubscriptionPayload(BaseModel):
    """The decoded (gunzipped) body of a CloudWatch Logs subscription delivery."""

    model_config = ConfigDict(extra="ignore")

    messageType: str
    logGroup: str = ""
    logStream: str = ""
    logEvents: list[SubscriptionLogEvent] = []


def _payload(data: bytes) -> SubscriptionPayload:
    return SubscriptionPayload.model_validate_json(zlib.decompress(data, zlib.MAX_WBITS | 32))


@dataclass(frozen=True, slots=True)
class LogBatch:
    """The log messages of one subscription payload.

    Attributes
    ----------
    record_id
        The Kinesis record's sequence number (the ``itemIdentifier`` of a batch item
        failure); None for a direct subscription event.
    messages
        The log events' messages (one performance event each), in order.
    log_group
        Where they come from ("" when the payload could not be decoded).
    control
        True for a ``CONTROL_MESSAGE`` (no data).
    error
        Why the payload could not be decoded (None when it was).
    """

    record_id: str | None
    messages: tuple[str, ...]
    log_group: str = ""
    control: bool = False
    error: str | None = None


def _batch(record_id: str | None, payload: SubscriptionPayload) -> LogBatch:
    return LogBatch(
        record_id=record_id,
        messages=tuple(event.message for event in payload.logEvents),
        log_group=payload.logGroup,
        control=payload.messageType == "CONTROL_MESSAGE",
    )


def is_subscription_event(event: Any) -> bool:
    """True for a CloudWatch Logs subscription event (``awslogs`` key)."""
    return isinstance(event, dict) and "awslogs" in event


def is_kinesis_event(event: Any) -> bool:
    """True for a Kinesis Data Streams event (records with ``eventSource`` aws:kinesis)."""
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and isinstance(records, list) and all(
        isinstance(r, dict) and r.get("eventSource") == "aws:kinesis" for r in records
    )


def batches_from_event(event: dict[str, Any]) -> list[LogBatch]:
    """Decode a subscription or Kinesis event into batches (one per payload).

    A Kinesis record whose data is not a gzip'd subscription payload becomes a batch with
    ``error`` set (reported and skipped by the caller; retrying would not fix it).

    Raises
    ------
    EventDecodeError
        When the event is neither shape, or a subscription event's data cannot be decoded.
    """
    if is_subscription_event(event):
        try:
            payload = _payload(base64.b64decode(event["awslogs"]["data"], validate=True))
        except (*_DECODE_ERRORS, KeyError) as error:
            raise EventDecodeError(
                f"awslogs.data is not a base64 gzip'd CloudWatch Logs subscription payload ({type(error).__name__})"
            ) from None
        return [_batch(None, payload)]
    if is_kinesis_event(event):
        try:
            kinesis = KinesisDataStreamModel.model_validate(event)
        except ValidationError as error:
            raise EventDecodeError(f"Kinesis event is not valid: {error.errors(include_url=False)[0]['msg']}") from None
        batches = []
        for record in kinesis.Records:
            sequence = record.kinesis.sequenceNumber
            data = record.kinesis.data
            if not isinstance(data, bytes):
                reason = f"record data is {type(data).__name__}; expected the bytes of a gzip'd CloudWatch Logs subscription payload"
                batches.append(LogBatch(record_id=sequence, messages=(), error=reason))
                continue
            try:
                payload = _payload(data)
            except _DECODE_ERRORS as error:
                reason = f"record data is not a gzip'd CloudWatch Logs subscription payload ({type(error).__name__})"
                batches.append(LogBatch(record_id=sequence, messages=(), error=reason))
                continue
            batches.append(_batch(sequence, payload))
        return batches
    keys = sorted(event)[:5] if isinstance(event, dict) else type(event).__name__
    raise EventDecodeError(
        f"event with keys {keys} is neither a CloudWatch Logs subscription event (awslogs), "
        "a Kinesis event (Records from aws:kinesis) nor a backfill request (backfill)"
    )
