"""Local runs with no AWS account and no Docker: the embedded emulator, extraction, the demo.

Shell (processes, boto3): :func:`emulated_aws` / :func:`running_emulator` (a moto server on
127.0.0.1 that boto3 reaches through ``AWS_ENDPOINT_URL``), :func:`create_stack` (the
stack's tables, queues, log groups, streams and subscriptions from template.yaml),
:class:`LogExtractor` (CloudWatch's metric extraction from EMF log events, which moto lacks),
:class:`FunctionLogs` (Lambda's shipping of stdout to the log group), :class:`MetricReader`
(what a dashboard would show), :class:`OtlpQueries` (PromQL over what the local OTLP receiver
got), :class:`Demo` (``promwatch demo``). ``promwatch_tools.local.invoke``
runs a function's handler in-process (``promwatch invoke``).

Pure: :func:`plan_stack`, :func:`parameter_values` (a template's parameters, checked against
their constraints and its Rules), :func:`extract_events` and :func:`put_metric_data_requests`,
:func:`percentile`, :func:`dashboard_widgets`, :func:`default_dashboards`, :func:`render_page`,
:func:`sample_store` and :class:`Evaluator` (the packs' PromQL subset over OTLP points).
"""
from __future__ import annotations

from promwatch_tools.local.cloudwatch import LogExtractor, publish, read_log_messages
from promwatch_tools.local.dashboards import default_dashboards
from promwatch_tools.local.demo import Demo, DemoOptions
from promwatch_tools.local.demo_otlp import OtlpQueries, OtlpTotals
from promwatch_tools.local.emulator import Emulator, emulated_aws, free_port, running_emulator
from promwatch_tools.local.errors import EmulatorError, EmulatorGap, LocalError, SampleAppError, StackError
from promwatch_tools.local.extract import (
    ExtractedDatum,
    Extraction,
    RejectedEvent,
    extract_document,
    extract_events,
    percentile,
    put_metric_data_requests,
)
from promwatch_tools.local.lambdalogs import FunctionLogs
from promwatch_tools.local.otlpstore import SampleStore, sample_store
from promwatch_tools.local.parameters import check_rules, parameter_refs, parameter_values
from promwatch_tools.local.preview import DashboardView, WidgetView, render_page, svg_chart
from promwatch_tools.local.promqleval import Evaluator, NotEvaluated, histogram_quantile, query_series
from promwatch_tools.local.query import MetricReader, QueryRange, Series, namespace_windows
from promwatch_tools.local.sampleapp import RunningApp, TrafficPlanner, drive, running_task_service
from promwatch_tools.local.stack import (
    PlannedResource,
    StackResources,
    create_stack,
    load_template,
    plan_stack,
)
from promwatch_tools.local.widgets import MetricQuery, WidgetSpec, dashboard_widgets, parse_search

__all__ = [
    "DashboardView",
    "Demo",
    "DemoOptions",
    "Emulator",
    "EmulatorError",
    "EmulatorGap",
    "Evaluator",
    "ExtractedDatum",
    "Extraction",
    "FunctionLogs",
    "LocalError",
    "LogExtractor",
    "MetricQuery",
    "MetricReader",
    "NotEvaluated",
    "OtlpQueries",
    "OtlpTotals",
    "PlannedResource",
    "QueryRange",
    "RejectedEvent",
    "RunningApp",
    "SampleAppError",
    "SampleStore",
    "Series",
    "StackError",
    "StackResources",
    "TrafficPlanner",
    "WidgetSpec",
    "WidgetView",
    "check_rules",
    "create_stack",
    "dashboard_widgets",
    "default_dashboards",
    "drive",
    "emulated_aws",
    "extract_document",
    "extract_events",
    "free_port",
    "histogram_quantile",
    "load_template",
    "namespace_windows",
    "parameter_refs",
    "parameter_values",
    "parse_search",
    "percentile",
    "plan_stack",
    "publish",
    "put_metric_data_requests",
    "query_series",
    "read_log_messages",
    "render_page",
    "running_emulator",
    "running_task_service",
    "sample_store",
    "svg_chart",
]
