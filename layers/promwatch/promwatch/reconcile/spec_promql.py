"""The spec's PromQL parts: a PromQL alarm and the queries of a PromQL chart widget.

A PromQL alarm is a PutMetricAlarm with ``EvaluationCriteria.PromQLCriteria`` (``Query``,
``PendingPeriod``, ``RecoveryPeriod``) and ``EvaluationInterval``: every series its query
returns is a breaching contributor, so the condition is in the query (``up == 0``) and the
alarm has no threshold, comparison, statistic or period
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_PromQL_Alarm.html).
Durations are written as PromQL durations (``90s``, ``5m``, ``1h30m``) or as seconds.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from promwatch.limits import (
    ALARM_PERIODS_SUB_MINUTE,
    PROMQL_ALARM_EVALUATION_INTERVAL_MAX_SECONDS,
    PROMQL_ALARM_PERIOD_MAX_SECONDS,
    PROMQL_QUERY_MAX_CHARS,
)
from promwatch.reconcile.errors import SpecValueError
from promwatch.reconcile.spec_base import DURATION, Strict

# The PromQL checker (its lexicon, parse tree and RE2) loads when a spec first holds PromQL:
# the reconcile function's INIT stays as light as a spec of metric alarms needs.

__all__ = ["PromQLAlarm", "PromQLQuery", "Seconds", "check_evaluation_interval"]


def _seconds(value: Any) -> Any:
    """A duration (``5m``) as whole seconds; a number is seconds already."""
    if not isinstance(value, str):
        return value
    from promwatch.reconcile.promql import parse_duration

    millis = parse_duration(value)
    if millis % 1000:
        raise SpecValueError(f"{value!r} is not a whole number of seconds; expected a duration such as 30s, 5m, 1h30m")
    return millis // 1000


Seconds = Annotated[int, BeforeValidator(_seconds), Field(ge=0), DURATION]
"""Whole seconds, written as a number or a PromQL duration (``90s``, ``5m``, ``1h30m``)."""


def check_evaluation_interval(value: int) -> int:
    """An EvaluationInterval: 10, 20, 30 or a multiple of 60 seconds, at most an hour."""
    if (value in ALARM_PERIODS_SUB_MINUTE or (value > 0 and value % 60 == 0)) and \
            value <= PROMQL_ALARM_EVALUATION_INTERVAL_MAX_SECONDS:
        return value
    raise SpecValueError(f"evaluation_interval {value!r} s is not allowed; expected 10s, 20s, 30s or a multiple of 1m "
                     f"up to {PROMQL_ALARM_EVALUATION_INTERVAL_MAX_SECONDS // 60}m")


def _alarm_query(query: str) -> str:
    # Stripped: a YAML block scalar ends in a newline CloudWatch would keep, and a plan compare.
    from promwatch.reconcile.promql import check_promql
    from promwatch.reconcile.promql_lexicon import INSTANT

    return check_promql(query.strip(), types=(INSTANT,))


def _graph_query(query: str) -> str:
    from promwatch.reconcile.promql import check_promql
    from promwatch.reconcile.promql_lexicon import INSTANT, SCALAR

    return check_promql(query.strip(), types=(INSTANT, SCALAR))


class PromQLAlarm(Strict):
    """``promql:`` of an alarm: the query (its result series are the breaching contributors) and
    how long a contributor must breach before ALARM, and stop breaching before OK."""

    query: Annotated[str, Field(min_length=1, max_length=PROMQL_QUERY_MAX_CHARS), AfterValidator(_alarm_query)]
    pending_period: Annotated[Seconds, Field(le=PROMQL_ALARM_PERIOD_MAX_SECONDS)] = 0
    """How long a contributor breaches continuously before the alarm goes to ALARM (Prometheus' ``for``)."""
    recovery_period: Annotated[Seconds, Field(le=PROMQL_ALARM_PERIOD_MAX_SECONDS)] = 0
    """How long a contributor stays clear of breaching before it goes back to OK."""
    evaluation_interval: Annotated[Seconds, AfterValidator(check_evaluation_interval)] = 60
    """How often the query is evaluated."""


class PromQLQuery(Strict):
    """One PromQL query of a chart widget, drawn as one or more lines (one per series)."""

    query: Annotated[str, Field(min_length=1, max_length=PROMQL_QUERY_MAX_CHARS), AfterValidator(_graph_query)]
    label: str | None = None
    """The legend's label of the query's series (default: the series' labels)."""
