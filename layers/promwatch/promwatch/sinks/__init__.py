"""Where EMF documents go: stdout (the Lambda default), CloudWatch Logs, or a file.

Every sink has ``write(documents)``, ``flush()`` and ``stats`` (:class:`SinkStats`, for the
caller's self-metrics). :func:`sink_from_settings` makes the one the output settings name::

    sink = sink_from_settings(settings.output, logs=runtime_logs_session)   # PROMWATCH_OUTPUT
    sink.write(documents)
    sink.flush()

``runtime_logs_session`` is a :class:`LogsSession` the function's runtime made at INIT: the
stream and client its CloudWatch Logs sinks share (the scrape runtime makes several sinks, one per
output; the insights and reconcile runtimes make one sink at INIT, whose own session it is). botocore is imported only when the
CloudWatch Logs sink first sends, so stdout output never pays for it.
"""
from __future__ import annotations

from promwatch.sinks.base import Sink, SinkDeliveryError, SinkError, SinkStats, flush_into
from promwatch.sinks.cloudwatch_logs import CloudWatchLogsSink, LogsSession
from promwatch.sinks.selfreport import report_self_metrics
from promwatch.sinks.settings import DEFAULT_LOG_GROUP, OutputSettings, sink_from_settings
from promwatch.sinks.stream import FileSink, MemorySink, StdoutSink

__all__ = [
    "DEFAULT_LOG_GROUP",
    "CloudWatchLogsSink",
    "FileSink",
    "LogsSession",
    "MemorySink",
    "OutputSettings",
    "Sink",
    "SinkDeliveryError",
    "SinkError",
    "SinkStats",
    "StdoutSink",
    "flush_into",
    "report_self_metrics",
    "sink_from_settings",
]

