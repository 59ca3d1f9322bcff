"""Relabelling with Prometheus semantics, as pure functions on label dicts.

The same rules serve ``relabel_configs`` (on target labels, before the scrape) and
``metric_relabel_configs`` (on each sample's labels, ``__name__`` included, after it).
"""
from __future__ import annotations

import hashlib
import re
import typing
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from promwatch.scrape.regex import compile_anchored, expand

RelabelAction = Literal[
    "replace", "keep", "drop", "keepequal", "dropequal", "hashmod", "labelmap",
    "labeldrop", "labelkeep", "lowercase", "uppercase",
]
_ACTIONS = frozenset(typing.get_args(RelabelAction))
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
"""A valid label name (the classic Prometheus rule, which is also safe for CloudWatch)."""
# A target_label / labelmap replacement that may contain $1 / ${name} references.
_LABEL_TEMPLATE = re.compile(r"^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$")

DEFAULT_SEPARATOR = ";"
DEFAULT_REGEX = "(.*)"
DEFAULT_REPLACEMENT = "$1"


class RelabelConfig(BaseModel):
    """One ``relabel_config`` (defaults and validation as in Prometheus)."""

    model_config = ConfigDict(extra="forbid")

    source_labels: list[str] | None = None
    separator: str = DEFAULT_SEPARATOR
    regex: str = DEFAULT_REGEX
    target_label: str = ""
    replacement: str = DEFAULT_REPLACEMENT
    modulus: int = Field(default=0, ge=0)
    action: RelabelAction = "replace"

    _pattern: re.Pattern[str] = PrivateAttr()

    @field_validator("action", mode="before")
    @classmethod
    def _lowercase_action(cls, value: object) -> object:
        # Prometheus accepts actions in any case (``Replace``, ``LABELMAP``).
        if isinstance(value, str) and value.lower() in _ACTIONS:
            return value.lower()
        return value

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: object) -> object:
        # ``regex:`` with no value in YAML is null; Prometheus keeps the default then.
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str) -> str:
        try:
            compile_anchored(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a valid regular expression ({exc})") from exc
        return value

    @field_validator("source_labels")
    @classmethod
    def _source_labels_valid(cls, value: list[str] | None) -> list[str] | None:
        for name in value or ():
            if not LABEL_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid label name; expected [a-zA-Z_][a-zA-Z0-9_]*")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RelabelConfig:
        _validate_rule(self)
        self._pattern = compile_anchored(self.regex)
        return self

    @property
    def pattern(self) -> re.Pattern[str]:
        """The compiled, fully anchored regex."""
        return self._pattern



def _validate_rule(rule: RelabelConfig) -> None:
    """Prometheus' ``relabel.Config.Validate``, message for message."""
    action, target = rule.action, rule.target_label
    if action == "hashmod" and rule.modulus == 0:
        raise ValueError("relabel configuration for hashmod requires non-zero modulus")
    needs_target = ("replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal")
    if action in needs_target and not target:
        raise ValueError(f"relabel configuration for {action} action requires 'target_label' value")
    if action == "replace" and not (_LABEL_TEMPLATE.match(target) if "$" in target else LABEL_NAME.match(target)):
        raise ValueError(f"{target!r} is invalid 'target_label' for {action} action")
    plain_target = ("hashmod", "lowercase", "uppercase", "keepequal", "dropequal")
    if action in plain_target and not LABEL_NAME.match(target):
        raise ValueError(f"{target!r} is invalid 'target_label' for {action} action")
    if action in ("lowercase", "uppercase", "keepequal", "dropequal") and rule.replacement != DEFAULT_REPLACEMENT:
        raise ValueError(f"'replacement' can not be set for {action} action")
    if action == "labelmap" and not _LABEL_TEMPLATE.match(rule.replacement):
        raise ValueError(f"{rule.replacement!r} is invalid 'replacement' for {action} action")
    if action in ("keepequal", "dropequal") and (
        rule.regex != DEFAULT_REGEX or rule.modulus or rule.separator != DEFAULT_SEPARATOR
    ):
        raise ValueError(f"{action} action requires only 'source_labels' and 'target_label', and no other fields")
    if action in ("labeldrop", "labelkeep") and (
        rule.source_labels is not None or target or rule.modulus
        or rule.separator != DEFAULT_SEPARATOR or rule.replacement != DEFAULT_REPLACEMENT
    ):
        raise ValueError(f"{action} action requires only 'regex', and no other fields")


def hashmod(value: str, modulus: int) -> int:
    """Prometheus' hashmod: the last 8 bytes of md5(value) as a big-endian uint64, mod ``modulus``."""
    digest = hashlib.md5(value.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % modulus


def apply_rule(labels: dict[str, str], rule: RelabelConfig) -> bool:
    """Apply one rule to ``labels`` in place; False when the rule drops the label set."""
    action = rule.action
    value = rule.separator.join(labels.get(name, "") for name in rule.source_labels or ())
    if action == "keep":
        return rule.pattern.fullmatch(value) is not None
    if action == "drop":
        return rule.pattern.fullmatch(value) is None
    if action == "keepequal":
        return labels.get(rule.target_label, "") == value
    if action == "dropequal":
        return labels.get(rule.target_label, "") != value
    if action == "replace":
        match = rule.pattern.fullmatch(value)
        if match is None:
            return True
        target = expand(rule.target_label, match)
        if not LABEL_NAME.match(target):
            return True
        result = expand(rule.replacement, match)
        if result:
            labels[target] = result
        else:
            labels.pop(target, None)
    elif action == "lowercase":
        labels[rule.target_label] = value.lower()
    elif action == "uppercase":
        labels[rule.target_label] = value.upper()
    elif action == "hashmod":
        labels[rule.target_label] = str(hashmod(value, rule.modulus))
    elif action == "labelmap":
        for name, label_value in list(labels.items()):
            match = rule.pattern.fullmatch(name)
            if match is not None:
                labels[expand(rule.replacement, match)] = label_value
    elif action == "labeldrop":
        for name in [n for n in labels if rule.pattern.fullmatch(n)]:
            del labels[name]
    elif action == "labelkeep":
        for name in [n for n in labels if not rule.pattern.fullmatch(n)]:
            del labels[name]
    return True


def relabel_in_place(labels: dict[str, str], rules: Iterable[RelabelConfig]) -> bool:
    """Apply ``rules`` in order to ``labels`` itself; False when a rule dropped the label set.

    Labels whose value became empty are removed (Prometheus treats an empty value as an
    absent label).
    """
    for rule in rules:
        if not apply_rule(labels, rule):
            return False
    for name in [n for n, v in labels.items() if v == ""]:
        del labels[name]
    return True


def relabel(labels: Mapping[str, str], rules: Iterable[RelabelConfig]) -> dict[str, str] | None:
    """Apply ``rules`` in order to a copy of ``labels``.

    Returns
    -------
    dict or None
        The new label set, or None when a rule dropped it (see :func:`relabel_in_place`).
    """
    out = dict(labels)
    return out if relabel_in_place(out, rules) else None
