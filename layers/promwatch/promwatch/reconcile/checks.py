"""What PutDashboard and PutMetricAlarm accept: statistics, operators, periods, names (pure).

Each ``check_*`` returns the canonical value or raises ``ValueError`` whose message names the
bad value and what is expected; the spec models turn those into located problems.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from promwatch.emf.identifiers import dimension_name_problem, dimension_value_problem
from promwatch.limits import (
    ALARM_PERIODS_SUB_MINUTE,
    DASHBOARD_PERIODS_SUB_MINUTE,
)
from promwatch.reconcile.errors import SpecValueError

STANDARD_STATISTICS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
"""Statistics PutMetricAlarm takes as ``Statistic``; every other one is ``ExtendedStatistic``."""

EXTENDED_STATISTIC_FORMS = (
    "pNN(.NN)", "tmNN", "wmNN", "tcNN", "tsNN", "IQM", "PR(n:m)", "TM(a%:b%)", "WM(..)", "TC(..)", "TS(..)",
)
"""How extended statistics are written (percentiles, trimmed/winsorized means, counts, sums, ranks)."""

_PERCENT = r"(?:100(?:\.0{1,2})?|\d{1,2}(?:\.\d{1,2})?)"
_BOUND = r"(?:-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_PCT_RANGE = rf"{_PERCENT}%:{_PERCENT}%|{_PERCENT}%:|:{_PERCENT}%"
_ABS_RANGE = rf"{_BOUND}:{_BOUND}|{_BOUND}:|:{_BOUND}"
_EXTENDED = re.compile(
    rf"^(?:p{_PERCENT}|(?:tm|wm|tc|ts){_PERCENT}|IQM|PR\((?:{_ABS_RANGE})\)"
    rf"|(?:TM|WM|TC|TS)\((?:{_PCT_RANGE}|{_ABS_RANGE})\))$"
)

COMPARISON_OPERATORS = {
    "<": "LessThanThreshold",
    "<=": "LessThanOrEqualToThreshold",
    ">": "GreaterThanThreshold",
    ">=": "GreaterThanOrEqualToThreshold",
}
"""Static-threshold comparisons: the short forms a spec may use -> PutMetricAlarm's names."""

BAND_OPERATORS = {
    "outside_band": "LessThanLowerOrGreaterThanUpperThreshold",
    "above_band": "GreaterThanUpperThreshold",
    "below_band": "LessThanLowerThreshold",
}
"""Anomaly-band comparisons: short forms -> PutMetricAlarm's names."""

TREAT_MISSING_DATA = ("missing", "breaching", "notBreaching", "ignore")
"""PutMetricAlarm's TreatMissingData values (``missing`` is the service default)."""

_NAME_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")
_METRIC_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def suggestion(value: str, choices: Iterable[str]) -> str:
    """``; did you mean 'X'?`` for the closest choice, or ``''`` when nothing is close."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {choice.lower(): choice for choice in choices}
        if value.lower() in lowered:
            close = [lowered[value.lower()]]
    return f"; did you mean {close[0]!r}?" if close else ""


def check_statistic(value: str) -> str:
    """A statistic CloudWatch accepts (standard or extended), unchanged."""
    if value in STANDARD_STATISTICS or _EXTENDED.match(value):
        return value
    expected = ", ".join((*STANDARD_STATISTICS, *EXTENDED_STATISTIC_FORMS))
    hint = suggestion(value, (*STANDARD_STATISTICS, "p50", "p90", "p99", "IQM"))
    raise SpecValueError(f"{value!r} is not a statistic; expected one of {expected}{hint}")


def is_extended_statistic(value: str) -> bool:
    """Whether ``value`` goes to PutMetricAlarm as ``ExtendedStatistic``."""
    return value not in STANDARD_STATISTICS


def check_comparison(value: str) -> str:
    """PutMetricAlarm's name for a static-threshold comparison (``<`` or the API name)."""
    if value in COMPARISON_OPERATORS:
        return COMPARISON_OPERATORS[value]
    if value in COMPARISON_OPERATORS.values():
        return value
    choices = (*COMPARISON_OPERATORS, *COMPARISON_OPERATORS.values())
    hint = suggestion(value, choices)
    raise SpecValueError(f"{value!r} is not a comparison; expected one of {', '.join(choices)}{hint}")


def check_band_comparison(value: str) -> str:
    """PutMetricAlarm's name for an anomaly-band comparison."""
    if value in BAND_OPERATORS:
        return BAND_OPERATORS[value]
    if value in BAND_OPERATORS.values():
        return value
    choices = (*BAND_OPERATORS, *BAND_OPERATORS.values())
    hint = suggestion(value, choices)
    raise SpecValueError(
        f"{value!r} is not an anomaly-band comparison; expected one of {', '.join(choices)}{hint}"
    )


def check_alarm_period(value: int) -> int:
    """An alarm period: 10, 20, 30 or a multiple of 60 seconds."""
    if value in ALARM_PERIODS_SUB_MINUTE or (value > 0 and value % 60 == 0):
        return value
    raise SpecValueError(f"period {value!r} is not allowed; expected 10, 20, 30 or a multiple of 60 (seconds)")


def check_metric_period(value: int) -> int:
    """A graph/metric period: 1, 5, 10, 20, 30 or a multiple of 60 seconds."""
    if value in DASHBOARD_PERIODS_SUB_MINUTE or (value > 0 and value % 60 == 0):
        return value
    raise SpecValueError(
        f"period {value!r} is not allowed; expected 1, 5, 10, 20, 30 or a multiple of 60 (seconds)"
    )


def check_treat_missing_data(value: str) -> str:
    """One of :data:`TREAT_MISSING_DATA`."""
    if value in TREAT_MISSING_DATA:
        return value
    hint = suggestion(value, TREAT_MISSING_DATA)
    raise SpecValueError(f"{value!r} is not a treat_missing_data value; expected one of {', '.join(TREAT_MISSING_DATA)}{hint}")


def check_name(value: str) -> str:
    """A spec name (part of dashboard and alarm names): A-Z a-z 0-9 _ -."""
    if _NAME_CHARS.match(value):
        return value
    raise SpecValueError(f"name {value!r} is not allowed; expected letters, digits, '_' and '-' only")


def check_dimension_name(value: str) -> str:
    """A dimension name CloudWatch takes (:mod:`promwatch.emf.identifiers`)."""
    problem = dimension_name_problem(value)
    if problem is not None:
        raise SpecValueError(problem)
    return value


def check_published_dimension_value(value: str) -> str:
    """A dimension value as published (``*``: any value): printable ASCII, so a label value
    with other characters is written escaped, as promwatch publishes it (``caf\\xe9``)."""
    problem = dimension_value_problem(value)
    if problem is not None:
        raise SpecValueError(f"{problem}; write a label value as promwatch publishes it, escaped (caf\\xe9, a\\nb)")
    return value


def check_metric_id(value: str) -> str:
    """A metric-math id: starts with a lowercase letter, then letters, digits, '_'."""
    if _METRIC_ID.match(value):
        return value
    raise SpecValueError(f"id {value!r} is not allowed; expected a lowercase letter, then letters, digits or '_'")


def check_topic_arn(value: str) -> str:
    """An SNS topic ARN (the alarm actions promwatch manages)."""
    if _SNS_ARN.match(value):
        return value
    raise SpecValueError(f"{value!r} is not an SNS topic ARN; expected arn:aws:sns:<region>:<account id>:<topic>")


def check_color(value: str) -> str:
    """A ``#rrggbb`` colour."""
    if _COLOR.match(value):
        return value
    raise SpecValueError(f"color {value!r} is not allowed; expected '#rrggbb'")
