"""Self-metrics through a path that does not depend on a failed one.

When the output sink could not deliver a function's data, the self-metrics that report the
loss must not go the same way: they are written to stdout, the function's own log, from which
CloudWatch extracts EMF without any API call (#14, defect 11). Every function's self-metrics
go through :func:`report_self_metrics`.
"""
from __future__ import annotations

import logging
from typing import Any

from promwatch.sinks.base import Sink, SinkDeliveryError
from promwatch.sinks.stream import StdoutSink

__all__ = ["report_self_metrics"]

logger = logging.getLogger("promwatch.sinks")


def report_self_metrics(
    sink: Sink, documents: list[dict[str, Any]], *, sink_failed: bool = False, fallback: Sink | None = None
) -> None:
    """Write and flush self-metric ``documents``; never raises.

    Parameters
    ----------
    sink
        The output sink.
    documents
        The self-metric EMF documents.
    sink_failed
        True when ``sink`` already failed to deliver data in this invocation: the documents go
        straight to ``fallback``.
    fallback
        Where they go when ``sink`` failed or fails now (default: stdout).
    """
    if not documents:
        return
    if not sink_failed:
        try:
            sink.write(documents)
            sink.flush()
            return
        except SinkDeliveryError as exc:
            logger.error("self-metrics not delivered to the output, written to stdout instead: %s", exc)
    last_resort = fallback if fallback is not None else StdoutSink()
    try:
        last_resort.write(documents)
        last_resort.flush()
    except (SinkDeliveryError, OSError) as exc:
        logger.error("self-metrics could not be written anywhere: %s", exc)
