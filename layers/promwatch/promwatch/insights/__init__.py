"""Container Insights roll-ups: performance events -> rules -> EMF distributions.

Pure core: :func:`parse_event` (both event layouts), :func:`load_rules`/:func:`parse_rules`
and :func:`compile_rules` (``config/insights.yaml``), :class:`Rollup` (events -> per rule,
group and period distributions -> EMF documents). Shell: :func:`handle_stream_event`
(subscription / Kinesis events through a sink) and :class:`InsightsFunction` (the Lambda
function's state, backfill included). :func:`sample_cluster_events` makes realistic events
of a small cluster for demos and tests.
"""
from __future__ import annotations

from promwatch.insights.aggregate import Rollup, rollup_documents
from promwatch.insights.decode import LogBatch, batches_from_event
from promwatch.insights.derive import Expression, compile_expression
from promwatch.insights.errors import EventDecodeError, InsightsError, RulesError
from promwatch.insights.function import InsightsFunction
from promwatch.insights.model import MalformedEventError, PerformanceEvent, parse_event, workload_of
from promwatch.insights.pipeline import InsightsStats, handle_stream_event, rollup_messages
from promwatch.insights.rules import (
    BUILTIN_RULES,
    CompiledRule,
    Rule,
    RulesConfig,
    compile_rules,
    load_rules,
    parse_rules,
)
from promwatch.insights.settings import InsightsSettings

__all__ = [
    "BUILTIN_RULES",
    "CompiledRule",
    "EventDecodeError",
    "Expression",
    "InsightsError",
    "InsightsFunction",
    "InsightsSettings",
    "InsightsStats",
    "LogBatch",
    "MalformedEventError",
    "PerformanceEvent",
    "Rollup",
    "Rule",
    "RulesConfig",
    "RulesError",
    "batches_from_event",
    "compile_expression",
    "compile_rules",
    "handle_stream_event",
    "load_rules",
    "parse_event",
    "parse_rules",
    "rollup_documents",
    "rollup_messages",
    "workload_of",
]
