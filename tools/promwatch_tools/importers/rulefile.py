"""Prometheus rule files, read and checked as ``promtool check rules`` does (pure).

The checks are those of Prometheus' ``rulefmt`` (2.x and 3.x agree on them): only the known
keys (``groups``; a group's ``name``, ``interval``, ``limit``, ``rules``; a rule's ``record``,
``alert``, ``expr``, ``for``, ``keep_firing_for``, ``labels``, ``annotations``), group names
present and unique in the file, each rule either ``alert`` or ``record``, an ``expr`` that is
valid PromQL (:func:`promwatch.reconcile.promql.parse_promql`), durations Prometheus parses,
valid label and annotation names, a recording rule without ``for``/``annotations`` and named
as a metric, and label and annotation templates that parse
(:func:`promwatch_tools.importers.gotemplate.template_problem`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from promwatch.labelnames import is_label_name
from promwatch.reconcile.errors import PromQLError
from promwatch.reconcile.promql import parse_duration, parse_promql

from promwatch_tools.importers.findings import ImportInputError
from promwatch_tools.importers.gotemplate import template_problem

__all__ = ["Rule", "RuleGroup", "parse_rule_file"]

GROUP_KEYS = ("name", "interval", "limit", "rules")
RULE_KEYS = ("record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations")
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


@dataclass(frozen=True)
class Rule:
    """One rule of a group; durations in milliseconds."""

    path: str
    """Where it is: ``rules.yml:groups[0].rules[1]``."""
    kind: str
    """``alert`` or ``record``."""
    name: str
    expr: str
    for_ms: int = 0
    keep_firing_for_ms: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleGroup:
    """A rule group: its name, its evaluation ``interval`` (None: the global one) and its rules."""

    path: str
    name: str
    interval_ms: int | None
    rules: tuple[Rule, ...]
    limit: int = 0
    """The group's limit on alerts (0: none)."""


def _duration(value: Any, where: str, problems: list[str]) -> int:
    """Milliseconds of a Prometheus duration (``0`` included), or 0 with the problem noted."""
    text = str(value)
    if text == "0":
        return 0
    try:
        return parse_duration(text)
    except PromQLError as exc:
        problems.append(f"{where}: {exc}")
        return 0


def _unknown_keys(data: dict[Any, Any], known: tuple[str, ...], where: str, problems: list[str]) -> None:
    for key in data:
        if key not in known:
            problems.append(f"{where}: field {key!r} not found; expected one of {', '.join(known)}")


def _string_map(value: Any, where: str, kind: str, problems: list[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: expected a mapping of {kind} names to values, got {type(value).__name__}")
        return {}
    out: dict[str, str] = {}
    for key, item in value.items():
        name = str(key)
        if not is_label_name(name) or (kind == "label" and name == "__name__"):
            problems.append(f"{where}.{name}: invalid {kind} name {name!r}; expected letters, digits and '_', "
                            "not starting with a digit")
        if isinstance(item, dict | list):
            problems.append(f"{where}.{name}: expected a string value, got {type(item).__name__}")
            continue
        text = "" if item is None else str(item)
        problem = template_problem(text)
        if problem:
            problems.append(f"{where}.{name}: template does not parse: {problem}")
        out[name] = text
    return out


def _rule(data: Any, where: str, problems: list[str]) -> Rule | None:
    if not isinstance(data, dict):
        problems.append(f"{where}: expected a rule (a mapping), got {type(data).__name__}")
        return None
    _unknown_keys(data, RULE_KEYS, where, problems)
    alert, record = str(data.get("alert") or ""), str(data.get("record") or "")
    if alert and record:
        problems.append(f"{where}: only one of 'record' and 'alert' must be set")
    elif not alert and not record:
        problems.append(f"{where}: one of 'record' or 'alert' must be set")
    expr = "" if data.get("expr") is None else str(data.get("expr"))
    if not expr.strip():
        problems.append(f"{where}.expr: field 'expr' must be set in rule")
    else:
        try:
            parse_promql(expr)
        except PromQLError as exc:
            problems.append(f"{where}.expr: could not parse expression: {exc}")
    for_ms = _duration(data.get("for", "0"), f"{where}.for", problems)
    keep_ms = _duration(data.get("keep_firing_for", "0"), f"{where}.keep_firing_for", problems)
    labels = _string_map(data.get("labels"), f"{where}.labels", "label", problems)
    annotations = _string_map(data.get("annotations"), f"{where}.annotations", "annotation", problems)
    if record:
        if annotations:
            problems.append(f"{where}.annotations: invalid field 'annotations' in recording rule")
        if for_ms:
            problems.append(f"{where}.for: invalid field 'for' in recording rule")
        if keep_ms:
            problems.append(f"{where}.keep_firing_for: invalid field 'keep_firing_for' in recording rule")
        if not _METRIC_NAME.match(record):
            problems.append(f"{where}.record: invalid recording rule name {record!r}; expected a metric name")
    return Rule(where, "record" if record else "alert", record or alert, expr.strip(), for_ms, keep_ms, labels,
                annotations)


def _group(data: Any, where: str, seen: set[str], problems: list[str]) -> RuleGroup | None:
    if not isinstance(data, dict):
        problems.append(f"{where}: expected a rule group (a mapping), got {type(data).__name__}")
        return None
    _unknown_keys(data, GROUP_KEYS, where, problems)
    name = "" if data.get("name") is None else str(data.get("name"))
    if not name:
        problems.append(f"{where}.name: Groupname must not be empty")
    elif name in seen:
        problems.append(f"{where}.name: groupname: {name!r} is repeated in the same file")
    seen.add(name)
    interval = _duration(data["interval"], f"{where}.interval", problems) if "interval" in data else None
    if "limit" in data and not isinstance(data["limit"], int):
        problems.append(f"{where}.limit: expected a whole number, got {data['limit']!r}")
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, list):
        problems.append(f"{where}.rules: expected a list of rules, got {type(raw_rules).__name__}")
        raw_rules = []
    rules = [_rule(rule, f"{where}.rules[{index}]", problems) for index, rule in enumerate(raw_rules)]
    limit = data["limit"] if isinstance(data.get("limit"), int) else 0
    return RuleGroup(where, name, interval or None, tuple(r for r in rules if r is not None), limit)


def parse_rule_file(data: Any, origin: str) -> list[RuleGroup]:
    """The groups of a rule file (as loaded from YAML), checked as ``promtool check rules`` does.

    Parameters
    ----------
    data
        The document.
    origin
        The file's name, the start of every path (``rules.yml:groups[0].rules[1]``).

    Raises
    ------
    ImportInputError
        Listing every problem (one per line), when promtool would refuse the file.
    """
    if data is None:
        return []
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ImportInputError(f"{origin}: expected a rule file (a mapping with 'groups'), got {type(data).__name__}")
    _unknown_keys(data, ("groups",), origin, problems)
    raw_groups = data.get("groups") or []
    if not isinstance(raw_groups, list):
        raise ImportInputError(f"{origin}:groups: expected a list of rule groups, got {type(raw_groups).__name__}")
    seen: set[str] = set()
    groups = [_group(group, f"{origin}:groups[{index}]", seen, problems) for index, group in enumerate(raw_groups)]
    if problems:
        raise ImportInputError("\n".join(problems))
    return [g for g in groups if g is not None]
