"""Check a document against the Embedded Metric Format specification.

Names and dimension values are checked by the rules of :mod:`promwatch.emf.identifiers`
(what CloudWatch takes: no control character in a dimension, a metric name or a namespace).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from promwatch.emf.errors import EmfValidationError
from promwatch.emf.identifiers import (
    dimension_name_problem,
    dimension_value_problem,
    metric_name_problem,
    namespace_problem,
)
from promwatch.emf.jsontext import serialize
from promwatch.limits import (
    EMF_MAX_DIMENSIONS_PER_SET,
    EMF_MAX_EVENT_BYTES,
    EMF_MAX_METRICS_PER_DIRECTIVE,
    EMF_MAX_VALUES_PER_METRIC,
    EMF_STORAGE_RESOLUTIONS,
    EMF_UNITS,
)

_DISTRIBUTION_KEYS = {"Values", "Counts", "Max", "Min", "Count", "Sum"}


def _finite_number(value: Any) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond the float range: CloudWatch cannot store it
        return False


def _check_value(name: object, value: Any, problems: list[str]) -> None:
    if _finite_number(value):
        return
    if isinstance(value, list):
        if not 1 <= len(value) <= EMF_MAX_VALUES_PER_METRIC:
            problems.append(f"metric {name!r}: {len(value)} values; expected 1..{EMF_MAX_VALUES_PER_METRIC}")
        if not all(_finite_number(v) for v in value):
            problems.append(f"metric {name!r}: a value is not a finite number")
        return
    if isinstance(value, dict) and set(value) <= _DISTRIBUTION_KEYS:
        if "Values" in value:
            values, counts = value.get("Values"), value.get("Counts")
            if not isinstance(values, list) or not isinstance(counts, list) or len(values) != len(counts):
                problems.append(f"metric {name!r}: Values and Counts must be arrays of equal length")
                return
            if not 1 <= len(values) <= EMF_MAX_VALUES_PER_METRIC:
                problems.append(f"metric {name!r}: {len(values)} Values; expected 1..{EMF_MAX_VALUES_PER_METRIC}")
            if not all(_finite_number(v) for v in values + counts):
                problems.append(f"metric {name!r}: a Value or Count is not a finite number")
            elif any(c < 0 for c in counts):
                problems.append(f"metric {name!r}: a Count is negative")
        for key in ("Max", "Min", "Count", "Sum"):
            if key not in value or not _finite_number(value[key]):
                problems.append(f"metric {name!r}: statistic {key} missing or not a finite number")
        if not problems and value["Min"] > value["Max"]:
            problems.append(f"metric {name!r}: Min {value['Min']} > Max {value['Max']}")
        return
    shown = repr(value)
    shown = shown if len(shown) <= 60 else f"{shown[:60]}... ({len(shown)} characters)"
    problems.append(f"metric {name!r}: value {shown} is not a number, array or distribution")


def _text_problem(what: str, value: Any, check: Callable[[str], str | None]) -> str | None:
    """``check``'s objection to ``value``, or that it is not a string; ``what`` names it."""
    if not isinstance(value, str):
        return f"{what}: expected a string, got {value!r}"
    problem = check(value)
    return None if problem is None else f"{what}: {problem}"


def _dimension_problem(key: Any, document: dict[str, Any]) -> str | None:
    return _text_problem("DimensionSet key", key, dimension_name_problem) or _text_problem(
        f"dimension {key!r} (its root member)", document.get(key), dimension_value_problem)


def problems(document: Any) -> list[str]:
    """Every way ``document`` breaks the EMF specification (empty when it is valid).

    Parameters
    ----------
    document
        A parsed EMF document (the JSON object of one log event).
    """
    found: list[str] = []
    if not isinstance(document, dict):
        return [f"document is {type(document).__name__}; expected a JSON object"]
    try:
        size = len(serialize(document).encode())
    except (ValueError, UnicodeEncodeError) as exc:
        # NaN or an infinity has no JSON form; a lone surrogate no UTF-8 one: not a log event.
        found.append(f"document cannot be written as a UTF-8 JSON log event: {type(exc).__name__}: {exc}")
    else:
        if size > EMF_MAX_EVENT_BYTES:
            found.append(f"document is {size} bytes; expected at most {EMF_MAX_EVENT_BYTES}")
    aws = document.get("_aws")
    if not isinstance(aws, dict):
        return [*found, "_aws: missing or not an object"]
    timestamp = aws.get("Timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp < 0:
        found.append(f"_aws.Timestamp {timestamp!r}: expected a non-negative integer of epoch milliseconds")
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*found, "_aws.CloudWatchMetrics: expected a non-empty array of MetricDirectives"]
    for directive in directives:
        if not isinstance(directive, dict):
            found.append("MetricDirective: expected an object")
            continue
        namespace = directive.get("Namespace")
        problem = namespace_problem(namespace) if isinstance(namespace, str) else f"namespace {namespace!r}: expected a string"
        if problem is not None:
            found.append(f"Namespace: {problem}")
        dimension_sets = directive.get("Dimensions")
        if not isinstance(dimension_sets, list):
            found.append("Dimensions: expected an array of DimensionSets")
            dimension_sets = []
        for dimension_set in dimension_sets:
            if not isinstance(dimension_set, list) or len(dimension_set) > EMF_MAX_DIMENSIONS_PER_SET:
                found.append(f"DimensionSet {dimension_set!r}: expected an array of at most {EMF_MAX_DIMENSIONS_PER_SET} keys")
                continue
            found.extend(filter(None, (_dimension_problem(key, document) for key in dimension_set)))
        metrics = directive.get("Metrics")
        if not isinstance(metrics, list) or not 1 <= len(metrics) <= EMF_MAX_METRICS_PER_DIRECTIVE:
            found.append(f"Metrics: expected an array of 1..{EMF_MAX_METRICS_PER_DIRECTIVE} MetricDefinitions")
            continue
        for definition in metrics:
            name = definition.get("Name") if isinstance(definition, dict) else None
            problem = _text_problem("MetricDefinition Name", name, metric_name_problem)
            if problem is not None:
                found.append(problem)
                continue
            unit = definition.get("Unit", "None")
            if unit not in EMF_UNITS:
                found.append(f"metric {name!r}: Unit {unit!r} is not a CloudWatch unit")
            resolution = definition.get("StorageResolution", 60)
            if resolution not in EMF_STORAGE_RESOLUTIONS:
                found.append(f"metric {name!r}: StorageResolution {resolution!r}; expected 1 or 60")
            if name not in document:
                found.append(f"metric {name!r}: no root member holds its value")
            else:
                _check_value(name, document[name], found)
    return found


def validate(document: Any) -> None:
    """Raise :class:`EmfValidationError` listing every breach when ``document`` is not valid EMF."""
    found = problems(document)
    if found:
        raise EmfValidationError(found)
