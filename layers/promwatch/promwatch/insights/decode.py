"""Lambda events -> batches of performance log messages.

Two shapes reach the insights function: a CloudWatch Logs subscription event
(``{"awslogs": {"data": base64(gzip(json))}}``) and a Kinesis event whose records each hold
a base64 gzip'd subscription payload (what a Logs subscription filter delivers to a stream).
``CONTROL_MESSAGE`` payloads (the subscription's connectivity check) carry no data.
Parsing uses the Powertools parser models.
"""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.parser.models import CloudWatchLogsModel, KinesisDataStreamModel
from aws_lambda_powertools.utilities.parser.models.cloudwatch import CloudWatchLogsDecode
from pydantic import ValidationError

from promwatch.insights.errors import EventDecodeError

__all__ = ["LogBatch", "batches_from_event", "is_kinesis_event", "is_subscription_event"]


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


def _batch(record_id: str | None, payload: CloudWatchLogsDecode) -> LogBatch:
    return LogBatch(
        record_id=record_id,
        messages=tuple(event.message for event in payload.logEvents if isinstance(event.message, str)),
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
            model = CloudWatchLogsModel.model_validate(event)
        except ValidationError as error:
            raise EventDecodeError(
                f"awslogs.data is not a base64 gzip'd subscription payload: {error.errors(include_url=False)[0]['msg']}"
            ) from None
        return [_batch(None, model.awslogs.decoded_data)]
    if is_kinesis_event(event):
        try:
            kinesis = KinesisDataStreamModel.model_validate(event)
        except ValidationError as error:
            raise EventDecodeError(f"Kinesis event is not valid: {error.errors(include_url=False)[0]['msg']}") from None
        batches = []
        for record in kinesis.Records:
            sequence = record.kinesis.sequenceNumber
            try:
                payload = CloudWatchLogsDecode.model_validate(record.decompress_zlib_record_data_as_json())
            except (zlib.error, json.JSONDecodeError, UnicodeDecodeError, ValidationError, ValueError) as error:
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
