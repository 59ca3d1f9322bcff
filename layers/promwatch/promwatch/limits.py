"""CloudWatch limits, in one place.

Output is split to fit these before it is serialized, never truncated. Sources: the
CloudWatch Embedded Metric Format specification, the PutLogEvents, PutMetricData,
PutDashboard and PutMetricAlarm API references; for the OTLP endpoint, the pages named
beside its constants.
"""
from __future__ import annotations

# --- Embedded Metric Format -------------------------------------------------------------
EMF_MAX_METRICS_PER_DIRECTIVE = 100
"""A MetricDirective's ``Metrics`` array holds at most 100 MetricDefinitions."""
EMF_MAX_DIMENSIONS_PER_SET = 30
"""A DimensionSet holds at most 30 dimension keys."""
EMF_MAX_VALUES_PER_METRIC = 100
"""A metric value array (or a Values/Counts distribution) holds at most 100 entries."""
EMF_MAX_EVENT_BYTES = 256 * 1024
"""The largest log event (and so EMF document) CloudWatch Logs accepts, UTF-8 bytes."""
EMF_MAX_NAME_CHARS = 1024
"""Metric names and namespaces: 1..1024 characters."""
EMF_MAX_DIMENSION_NAME_CHARS = 250
"""Dimension names: 1..250 ASCII characters, not starting with ':'."""
EMF_MAX_DIMENSION_VALUE_CHARS = 1024
"""Dimension values: 1..1024 ASCII characters, not only whitespace."""
EMF_NAMESPACE_MAX_CHARS = 255
"""Namespaces: 1..255 characters of ``[0-9A-Za-z.\\-_/#:]`` (and spaces)."""
EMF_MAX_PAST_AGE_SECONDS = 14 * 24 * 3600
"""CloudWatch drops EMF metrics whose Timestamp is more than 14 days in the past."""
EMF_MAX_FUTURE_AGE_SECONDS = 2 * 3600
"""... or more than 2 hours in the future."""
EMF_STORAGE_RESOLUTIONS = (1, 60)
"""StorageResolution: 1 (high resolution) or 60 (standard)."""
EMF_UNITS = (
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
    "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
)
"""The units CloudWatch accepts for a metric."""

# --- CloudWatch Logs PutLogEvents ------------------------------------------------------
LOGS_MAX_BATCH_BYTES = 1_048_576
"""A PutLogEvents batch: sum of (UTF-8 message bytes + 26) per event, at most 1 MiB."""
LOGS_EVENT_OVERHEAD_BYTES = 26
"""Bytes PutLogEvents adds to each event's message when it sizes a batch."""
LOGS_MAX_BATCH_EVENTS = 10_000
"""A PutLogEvents batch holds at most 10,000 events."""
LOGS_MAX_BATCH_SPAN_MS = 24 * 3600 * 1000
"""The events of one PutLogEvents batch span at most 24 hours."""
LOGS_MAX_EVENT_BYTES = EMF_MAX_EVENT_BYTES
"""The largest single log event."""
LOGS_FILTER_MAX_PAGE = 10_000
"""FilterLogEvents returns at most 10,000 events per page."""
LOGS_MAX_EVENT_PAST_AGE_SECONDS = 14 * 24 * 3600
"""PutLogEvents rejects events older than 14 days (``tooOldLogEventEndIndex``), and those older
than the log group's retention period: a backfill into a group kept for less must stay inside it.
(Events more than 2 hours ahead are rejected too, ``tooNewLogEventStartIndex``; a backfill never
writes any.)"""

# --- CloudWatch metrics ----------------------------------------------------------------
METRICS_MAX_DIMENSIONS = 30
"""A metric has at most 30 dimensions."""
METRICS_PUT_MAX_DATUMS = 1000
"""PutMetricData takes at most 1,000 metric datums per call."""
METRICS_PUT_MAX_VALUES = 150
"""PutMetricData takes at most 150 Values/Counts per datum."""

# --- Dashboards and alarms -------------------------------------------------------------
DASHBOARD_MAX_WIDGETS = 500
"""A dashboard holds at most 500 widgets."""
DASHBOARD_MAX_METRICS_PER_GRAPH = 500
"""A graph widget plots at most 500 metrics (expressions included)."""
DASHBOARD_MAX_BODY_BYTES = 1_048_576 - 1024
"""PutDashboard's DashboardBody is limited to about 1 MB (kept below to be safe)."""
DASHBOARD_GRID_COLUMNS = 24
"""Dashboards lay widgets out on a 24-column grid."""
DASHBOARD_NAME_MAX_CHARS = 255
"""Dashboard names: up to 255 characters of A-Z, a-z, 0-9, '-' and '_'."""
ALARM_NAME_MAX_CHARS = 255
"""Alarm names: up to 255 characters."""
ALARM_MAX_ACTIONS = 5
"""At most 5 actions per alarm state."""
ALARM_MAX_METRICS_IN_MATH = 10
"""A metric-math alarm references at most 10 metrics."""
ALARM_CALLS_PER_SECOND = 3
"""The pace promwatch keeps for PutMetricAlarm/DeleteAlarms to stay clear of throttling."""
ALARM_PERIODS_SUB_MINUTE = (10, 20, 30)
"""Alarm periods below a minute (high-resolution alarms); otherwise a multiple of 60."""
DASHBOARD_PERIODS_SUB_MINUTE = (1, 5, 10, 20, 30)
"""Dashboard/metric periods below a minute; otherwise a multiple of 60."""
ALARM_MAX_EVALUATION_SECONDS = 7 * 24 * 3600
"""Period x EvaluationPeriods is at most 7 days ..."""
ALARM_MAX_EVALUATION_SECONDS_SHORT_PERIOD = 24 * 3600
"""... and at most 1 day when the period is shorter than an hour."""
ALARM_DESCRIPTION_MAX_CHARS = 1024
"""AlarmDescription: up to 1024 characters."""
ALARM_RULE_MAX_CHARS = 10240
"""A composite alarm's AlarmRule: up to 10240 characters."""
DASHBOARD_WIDGET_MAX_HEIGHT = 1000
"""A widget's height on the grid: 1..1000 rows."""
PROMQL_QUERY_MAX_CHARS = 10_000
"""A PromQL alarm's query (EvaluationCriteria.PromQLCriteria.Query): 1..10,000 characters."""
PROMQL_ALARM_PERIOD_MAX_SECONDS = 86_400
"""A PromQL alarm's PendingPeriod and RecoveryPeriod: 0..86,400 seconds."""
PROMQL_ALARM_EVALUATION_INTERVAL_MAX_SECONDS = 3600
"""A PromQL alarm's EvaluationInterval: 10, 20, 30 or a multiple of 60 seconds, at most 3,600."""
DASHBOARD_MAX_QUERIES_PER_CHART = 100
"""PromQL queries promwatch puts on one chart widget (a bound of its own: the console's chart
widget documents none; 100 keeps a dashboard readable and its body small)."""

# --- CloudWatch OTLP metrics endpoint (https://monitoring.<region>.amazonaws.com/v1/metrics) --
# Sources: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/metrics-otel-overview.html
# (labels per data point) and
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-OTLPEndpoint.html
# (the endpoint table: HTTP only, OTLP 1.x, binary or JSON, gzip or none, 5 MB uncompressed and
# 10,000 items per request). That page's table lists the request limits for traces and logs;
# no separate figures for metrics were found, so promwatch keeps OTLP metric requests within
# the same ones.
OTLP_MAX_LABELS_PER_DATA_POINT = 150
"""CloudWatch OpenTelemetry metrics: up to 150 labels per data point."""
OTLP_MAX_REQUEST_BYTES = 5 * 1024 * 1024
"""The endpoint rejects requests larger than 5 MB uncompressed (serialized protobuf)."""
OTLP_MAX_DATA_POINTS_PER_REQUEST = 10_000
"""Items per request (10,000 spans for traces); applied to data points per metrics request."""

# --- CloudWatch Logs names (CreateLogGroup / CreateLogStream) ---------------------------------
LOGS_GROUP_NAME_MAX_CHARS = 512
"""A log group name: 1-512 characters of a-z, A-Z, 0-9, '_', '-', '/', '.' and '#'."""
LOGS_STREAM_NAME_MAX_CHARS = 512
"""A log stream name: 1-512 characters, neither ':' nor '*'."""

