"""The emulator's missing piece: CloudWatch's extraction of metrics from EMF log events.

:class:`LogExtractor` reads the new events of log groups back from (emulated) CloudWatch Logs,
extracts their metrics with :func:`promwatch_tools.local.extract.extract_events` and puts them into
(emulated) CloudWatch with PutMetricData. It keeps every datum it published, because moto
cannot compute percentiles: the preview computes them from these samples.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from promwatch_tools.local.extract import ExtractedDatum, Extraction, extract_events, put_metric_data_requests

log = logging.getLogger("promwatch_tools.local")


def read_log_messages(
    log_group: str, *, client: Any, start_ms: int | None = None, seen: set[str] | None = None
) -> list[str]:
    """Messages of a log group (all streams, oldest first), skipping event ids in ``seen``.

    Parameters
    ----------
    log_group
        The group to read with FilterLogEvents (paged).
    client
        A CloudWatch Logs client.
    start_ms
        Only events at or after this time.
    seen
        Event ids already read; the new ones are added.
    """
    args: dict[str, Any] = {"logGroupName": log_group}
    if start_ms is not None:
        args["startTime"] = start_ms
    events: list[dict[str, Any]] = []
    while True:
        page = client.filter_log_events(**args)
        events.extend(page.get("events", []))
        token = page.get("nextToken")
        if not token or not page.get("events"):
            break
        args["nextToken"] = token
    events.sort(key=lambda e: (e.get("timestamp", 0), e.get("eventId", "")))
    messages: list[str] = []
    for event in events:
        event_id = event.get("eventId", "")
        if seen is not None:
            if event_id in seen:
                continue
            seen.add(event_id)
        messages.append(event["message"])
    return messages


def publish(datums: Iterable[ExtractedDatum], *, client: Any) -> int:
    """Put extracted datums into CloudWatch; returns the number of PutMetricData calls."""
    requests = put_metric_data_requests(datums)
    for request in requests:
        client.put_metric_data(**request)
    return len(requests)


@dataclass(slots=True)
class ExtractionTotals:
    """What the extractor has done so far."""

    emf_events: int = 0
    plain_events: int = 0
    rejected: int = 0
    datums: int = 0
    put_calls: int = 0
    reasons: list[str] = field(default_factory=list)


class LogExtractor:
    """Extract the metrics of log groups' new EMF events into CloudWatch, as CloudWatch does.

    Parameters
    ----------
    logs_client, cloudwatch_client
        boto3 clients (the emulator's).
    clock_ms
        The clock (epoch milliseconds), for CloudWatch's 14-day / 2-hour timestamp window.
    """

    def __init__(
        self,
        *,
        logs_client: Any,
        cloudwatch_client: Any,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self._logs = logs_client
        self._cloudwatch = cloudwatch_client
        self._clock_ms = clock_ms
        self._seen: dict[str, set[str]] = {}
        self.datums: list[ExtractedDatum] = []
        self.totals = ExtractionTotals()

    def extract_groups(self, log_groups: Iterable[str]) -> Extraction:
        """Extract every event of ``log_groups`` not extracted before; returns this round's result."""
        messages: list[str] = []
        for group in log_groups:
            messages.extend(read_log_messages(group, client=self._logs, seen=self._seen.setdefault(group, set())))
        return self.extract_messages(messages)

    def extract_messages(self, messages: Iterable[str | dict[str, Any]]) -> Extraction:
        """Extract already-read messages (or documents) into CloudWatch."""
        result = extract_events(messages, now_ms=self._clock_ms())
        for rejected in result.rejected:
            # CloudWatch drops such events (and reports them in AWS/Logs); say which and why.
            log.warning("EMF event rejected, no metrics extracted: %s", "; ".join(rejected.reasons))
            self.totals.reasons.extend(rejected.reasons)
        self.totals.put_calls += publish(result.datums, client=self._cloudwatch)
        self.datums.extend(result.datums)
        self.totals.emf_events += result.emf_events
        self.totals.plain_events += result.plain_events
        self.totals.rejected += len(result.rejected)
        self.totals.datums += len(result.datums)
        return result
