"""Fan-out of targets over SQS: batches out, batches in.

The scheduled invocation scrapes up to ``max_targets_per_invocation`` targets itself and
sends the rest, in batches of that size, to the fan-out queue; the queue triggers the same
function, which scrapes the batch carried by each message. A message (version 2) carries each
target as discovery and relabelling made it -- job, URL, address, labels -- so the receiving
invocation needs no discovery of its own; it scrapes a target only while its job is in its own
config, with that job's settings and credentials: credentials never travel through the queue.
Version 1 messages (target keys ``job|url``, rebuilt from the config) are still read.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from promwatch.scrape.errors import ScrapeError
from promwatch.scrape.targets import Target

SQS_MAX_BATCH_ENTRIES = 10
"""SendMessageBatch takes at most 10 messages."""
SQS_MAX_MESSAGE_BYTES = 262_144
"""The largest SQS message body, and the largest SendMessageBatch payload (all its messages)."""
MESSAGE_BODY_BUDGET_BYTES = SQS_MAX_MESSAGE_BYTES // SQS_MAX_BATCH_ENTRIES
"""A message's share of a full SendMessageBatch: ten such messages fit one call."""
_BODY_OVERHEAD_BYTES = len('{"v":2,"targets":[]}')


class FanoutError(ScrapeError):
    """A fan-out message could not be sent or read.

    Attributes
    ----------
    unsent
        Keys of the targets whose messages could not be sent (empty when reading failed).
    sent_messages
        Messages of the same :meth:`FanoutSender.send` that did go out.
    """

    def __init__(self, message: str, *, unsent: Sequence[str] = (), sent_messages: int = 0) -> None:
        super().__init__(message)
        self.unsent = tuple(unsent)
        self.sent_messages = sent_messages


class FanoutTarget(BaseModel):
    """One target as a version 2 message carries it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job: str = Field(min_length=1)
    url: str = Field(min_length=1)
    address: str = Field(min_length=1)
    labels: dict[str, str]

    def target(self) -> Target:
        """The target to scrape."""
        return Target(self.job, self.url, self.address, self.labels)


class FanoutBatch(BaseModel):
    """The body of one fan-out message."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1, 2] = Field(default=1, alias="v")
    targets: list[FanoutTarget] | list[str] = Field(min_length=1)
    """Version 2: the targets; version 1: target keys (``job|url``)."""

    @property
    def keys(self) -> list[str]:
        """The target keys (``job|url``)."""
        return [t if isinstance(t, str) else t.target().key for t in self.targets]

    def scrape_targets(self) -> list[str | Target]:
        """What :func:`promwatch.scrape.run_cycle` takes as ``targets``."""
        return [t if isinstance(t, str) else t.target() for t in self.targets]

    def jobs(self) -> list[str]:
        """Job names of the targets (in order, once each)."""
        return list(dict.fromkeys(key.split("|", 1)[0] for key in self.keys))


def split_batches(targets: Sequence[Target], size: int) -> list[list[Target]]:
    """Consecutive batches of at most ``size`` targets whose message fits SQS (a batch that
    would not is cut shorter)."""
    batches: list[list[Target]] = []
    current: list[Target] = []
    current_bytes = _BODY_OVERHEAD_BYTES
    for target in targets:
        size_of = len(_entry(target).encode("utf-8")) + 1
        if current and (len(current) >= max(size, 1) or current_bytes + size_of > MESSAGE_BODY_BUDGET_BYTES):
            batches.append(current)
            current, current_bytes = [], _BODY_OVERHEAD_BYTES
        current.append(target)
        current_bytes += size_of
    if current:
        batches.append(current)
    return batches


def batch_body(batch: Sequence[Target]) -> str:
    """The message body for a batch (version 2)."""
    return '{"v":2,"targets":[' + ",".join(_entry(target) for target in batch) + "]}"


def _entry(target: Target) -> str:
    return json.dumps({"job": target.job_name, "url": target.url, "address": target.address,
                       "labels": dict(target.labels)}, separators=(",", ":"))


def read_batch(body: str) -> FanoutBatch:
    """Parse a message body.

    Raises
    ------
    FanoutError
        When the body is not a fan-out batch.
    """
    try:
        return FanoutBatch.model_validate_json(body)
    except ValidationError as exc:
        raise FanoutError(f"not a fan-out batch ({exc.error_count()} problems: {exc.errors()[0]['msg']}); "
                          'expected {"v": 2, "targets": [{"job", "url", "address", "labels"}, ...]}') from exc


class FanoutSender:
    """Sends batches to the fan-out queue.

    Parameters
    ----------
    queue_url
        The SQS queue URL (``PROMWATCH_FANOUT_QUEUE_URL``).
    client
        A boto3 SQS client; created on first use when None.
    """

    def __init__(self, queue_url: str, *, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    def send(self, batches: Sequence[Sequence[Target]]) -> int:
        """Send every batch, ten messages a call; returns the number of messages sent.

        A call that fails (after botocore's retries) or messages SQS refuses do not stop the
        other calls. A message whose answer was lost may be sent twice: harmless, a target
        scraped twice publishes the increase since the first scrape (claims and baselines).

        Raises
        ------
        FanoutError
            After every call was tried, when some messages could not be sent; ``unsent``
            names their targets (they go unscraped this cycle), ``sent_messages`` counts the others.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        if self._client is None:
            from promwatch.coldstart import aws_client

            self._client = aws_client("sqs")
        pending = [list(batch) for batch in batches if batch]
        sent = 0
        unsent: list[str] = []
        reasons: list[str] = []
        for start in range(0, len(pending), SQS_MAX_BATCH_ENTRIES):
            chunk = pending[start : start + SQS_MAX_BATCH_ENTRIES]
            try:
                response = self._client.send_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "MessageBody": batch_body(batch)} for i, batch in enumerate(chunk)],
                )
            except (ClientError, BotoCoreError) as exc:
                unsent += [target.key for batch in chunk for target in batch]
                reasons.append(f"SendMessageBatch of {len(chunk)} messages: {exc}")
                continue
            failed = response.get("Failed") or []
            for entry in failed:
                unsent += [target.key for target in chunk[int(entry["Id"])]]
            if failed:
                reasons.append(f"{len(failed)} of {len(chunk)} messages refused (" +
                               ", ".join(f"{f.get('Code')}: {f.get('Message')}" for f in failed) + ")")
            sent += len(chunk) - len(failed)
        if unsent:
            raise FanoutError(f"{len(unsent)} targets could not be sent to the fan-out queue: {'; '.join(reasons)}",
                              unsent=unsent, sent_messages=sent)
        return sent
