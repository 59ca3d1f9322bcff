"""Container Insights roll-ups: performance events -> rules -> EMF distributions.

Pure core: :func:`parse_event` (both event layouts), :func:`load_rules`/:func:`parse_rules`
and :func:`compile_rules` (``config/insights.yaml``), :class:`Rollup` (events -> per rule,
group and period distributions -> EMF documents). Shell: :func:`handle_stream_event`
(subscription / Kinesis events through a sink), :mod:`promwatch.insights.backfill` (history
replayed from the performance log group: :func:`run_backfill`) and :class:`InsightsRuntime`
(what the Lambda function keeps per execution environment; it serves both).
"""
from __future__ import annotations

from promwatch.insights.aggregate import DroppedGroup, Rollup, rollup_documents
from promwatch.insights.backfill import BackfillRequest, BackfillResult, Continuation, run_backfill
from promwatch.insights.decode import LogBatch, batches_from_event
from promwatch.insights.derive import Expression, compile_expression
from promwatch.insights.errors import (
    BackfillError,
    EventDecodeError,
    EventValueError,
    InsightsError,
    InsightsSettingsError,
    RulesError,
    RulesValueError,
)
from promwatch.insights.model import MalformedEventError, PerformanceEvent, parse_event, workload_of
from promwatch.insights.pipeline import InsightsStats, handle_stream_event, rollup_messages, rollup_output
from promwatch.insights.rules import (
    BUILTIN_RULES,
    CompiledRule,
    Rule,
    RulesConfig,
    compile_rules,
    load_rules,
    parse_rules,
)
from promwatch.insights.runtime import InsightsRuntime
from promwatch.insights.settings import InsightsSettings

__all__ = [
    "BUILTIN_RULES",
    "BackfillError",
    "BackfillRequest",
    "BackfillResult",
    "CompiledRule",
    "Continuation",
    "DroppedGroup",
    "EventDecodeError",
    "EventValueError",
    "Expression",
    "InsightsError",
    "InsightsRuntime",
    "InsightsSettings",
    "InsightsSettingsError",
    "InsightsStats",
    "LogBatch",
    "MalformedEventError",
    "PerformanceEvent",
    "Rollup",
    "Rule",
    "RulesConfig",
    "RulesError",
    "RulesValueError",
    "batches_from_event",
    "compile_expression",
    "compile_rules",
    "handle_stream_event",
    "load_rules",
    "parse_event",
    "parse_rules",
    "rollup_documents",
    "rollup_messages",
    "rollup_output",
    "run_backfill",
    "workload_of",
]
