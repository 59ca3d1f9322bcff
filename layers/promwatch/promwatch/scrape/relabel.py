"""Relabelling with Prometheus semantics, as pure functions on label dicts.

The same rules serve ``relabel_configs`` (on target labels, before the scrape) and
``metric_relabel_configs`` (on each sample's labels, ``__name__`` included, after it).
"""
from __future__ import annotations

import hashlib
import typing
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from promwatch.labelnames import check_label_name, is_label_name
from promwatch.regex import Regex, Template, memoise, relabel_regex, whole_regex
from promwatch.scrape.errors import ConfigValueError

RelabelAction = Literal[
    "replace", "keep", "drop", "keepequal", "dropequal", "hashmod", "labelmap",
    "labeldrop", "labelkeep", "lowercase", "uppercase",
]
_ACTIONS = frozenset(typing.get_args(RelabelAction))
# A target_label / labelmap replacement that may contain $1 / ${name} references (Prometheus'
# relabelTarget). Its nested repetition is exponential for a backtracking engine.
_LABEL_TEMPLATE = whole_regex(r"(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+")



def scalar_text(value: object) -> object:
    """A YAML boolean or number where Prometheus reads a string, as that string.

    Go's YAML decoder reads a scalar's text into a string field, so Prometheus takes
    ``regex: true`` (the ``prometheus.io/scrape`` pattern as documented) or ``labels: {shard: 1}``
    as the strings ``true`` and ``1``. PyYAML has already read the scalar as a value: a boolean
    comes back as ``true``/``false`` and a number in its canonical form (quote a value to keep
    another spelling, ``"True"`` or ``"010"``).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


ScalarText = Annotated[str, BeforeValidator(scalar_text)]
"""A string field that takes a YAML boolean or number as its text (see :func:`scalar_text`)."""

DEFAULT_SEPARATOR = ";"
DEFAULT_REGEX = "(.*)"
DEFAULT_REPLACEMENT = "$1"


class RelabelConfig(BaseModel):
    """One ``relabel_config`` (defaults and validation as in Prometheus)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_labels: list[str] | None = None
    separator: ScalarText = DEFAULT_SEPARATOR
    regex: ScalarText = DEFAULT_REGEX
    target_label: str = ""
    replacement: ScalarText = DEFAULT_REPLACEMENT
    modulus: int = Field(default=0, ge=0)
    action: RelabelAction = "replace"

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
        relabel_regex(value)  # a RegexError is a ValueError: reported under the key path
        return value

    @field_validator("source_labels")
    @classmethod
    def _source_labels_valid(cls, value: list[str] | None) -> list[str] | None:
        for name in value or ():
            check_label_name(name)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RelabelConfig:
        _validate_rule(self)
        return self

    @cached_property
    def pattern(self) -> Regex:
        """The compiled regex, anchored as Prometheus anchors it (``^(?s:<regex>)$``)."""
        return relabel_regex(self.regex)

    @cached_property
    def step(self) -> Callable[[dict[str, str]], bool]:
        """The rule as a function that relabels a label dict in place (False: drop the set).

        Built once, on plain attributes: it runs per sample, where reading what the model
        holds through pydantic (a private attribute costs microseconds) cost more than the rule.
        """
        return typing.cast(Callable[[dict[str, str]], bool], getattr(_Step(self), self.action))


def _validate_rule(rule: RelabelConfig) -> None:
    """Prometheus' ``relabel.Config.Validate``, message for message."""
    action, target = rule.action, rule.target_label
    if action == "hashmod" and rule.modulus == 0:
        raise ConfigValueError("relabel configuration for hashmod requires non-zero modulus")
    needs_target = ("replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal")
    if action in needs_target and not target:
        raise ConfigValueError(f"relabel configuration for {action} action requires 'target_label' value")
    if action == "replace" and not (_LABEL_TEMPLATE.matches(target) if "$" in target else is_label_name(target)):
        raise ConfigValueError(f"{target!r} is invalid 'target_label' for {action} action")
    plain_target = ("hashmod", "lowercase", "uppercase", "keepequal", "dropequal")
    if action in plain_target and not is_label_name(target):
        raise ConfigValueError(f"{target!r} is invalid 'target_label' for {action} action")
    if action in ("lowercase", "uppercase", "keepequal", "dropequal") and rule.replacement != DEFAULT_REPLACEMENT:
        raise ConfigValueError(f"'replacement' can not be set for {action} action")
    if action == "labelmap" and not _LABEL_TEMPLATE.matches(rule.replacement):
        raise ConfigValueError(f"{rule.replacement!r} is invalid 'replacement' for {action} action")
    if action in ("keepequal", "dropequal") and (
        rule.regex != DEFAULT_REGEX or rule.modulus or rule.separator != DEFAULT_SEPARATOR
    ):
        raise ConfigValueError(f"{action} action requires only 'source_labels' and 'target_label', and no other fields")
    if action in ("labeldrop", "labelkeep") and (
        rule.source_labels is not None or target or rule.modulus
        or rule.separator != DEFAULT_SEPARATOR or rule.replacement != DEFAULT_REPLACEMENT
    ):
        raise ConfigValueError(f"{action} action requires only 'regex', and no other fields")


def hashmod(value: str, modulus: int) -> int:
    """Prometheus' hashmod: the last 8 bytes of md5(value) as a big-endian uint64, mod ``modulus``."""
    digest = hashlib.md5(value.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % modulus


def apply_rule(labels: dict[str, str], rule: RelabelConfig) -> bool:
    """Apply one rule to ``labels`` in place; False when the rule drops the label set."""
    return rule.step(labels)


_MISSING = object()


class _Step:
    """One rule's actions, on plain attributes, with its results memoised by input.

    A rule's outcome depends only on the joined source values (or, for the label-name
    actions, on the label names in order); those repeat across a page's samples and scrapes.
    """

    __slots__ = ("_memo", "_regex", "_replacement", "_target", "_value", "modulus", "target_label")

    def __init__(self, rule: RelabelConfig) -> None:
        self._regex = rule.pattern
        self._replacement = Template(rule.replacement, self._regex)
        self._target = Template(rule.target_label, self._regex)
        self._value = _joined(tuple(rule.source_labels or ()), rule.separator)
        self._memo: dict[str | tuple[str, ...], typing.Any] = {}
        self.modulus = rule.modulus
        self.target_label = rule.target_label

    def keep(self, labels: dict[str, str]) -> bool:
        return self._regex.matches(self._value(labels))

    def drop(self, labels: dict[str, str]) -> bool:
        return not self._regex.matches(self._value(labels))

    def keepequal(self, labels: dict[str, str]) -> bool:
        return labels.get(self.target_label, "") == self._value(labels)

    def dropequal(self, labels: dict[str, str]) -> bool:
        return labels.get(self.target_label, "") != self._value(labels)

    def replace(self, labels: dict[str, str]) -> bool:
        value = self._value(labels)
        outcome = self._memo.get(value, _MISSING)
        if outcome is _MISSING:
            outcome = memoise(self._memo, value, self._replaced(value))
        if outcome is not None:
            target, result = outcome
            if result:
                labels[target] = result
            else:
                labels.pop(target, None)
        return True

    def _replaced(self, value: str) -> tuple[str, str] | None:
        """(target label, new value) for ``value``, or None: no match, or not a label name."""
        groups = self._regex.submatches(value)
        if groups is None:
            return None
        target = self._target.expand(groups)
        if not is_label_name(target):
            return None
        return target, self._replacement.expand(groups)

    def lowercase(self, labels: dict[str, str]) -> bool:
        labels[self.target_label] = self._value(labels).lower()
        return True

    def uppercase(self, labels: dict[str, str]) -> bool:
        labels[self.target_label] = self._value(labels).upper()
        return True

    def hashmod(self, labels: dict[str, str]) -> bool:
        labels[self.target_label] = str(hashmod(self._value(labels), self.modulus))
        return True

    def labelmap(self, labels: dict[str, str]) -> bool:
        names = tuple(labels)
        pairs = self._memo.get(names)
        if pairs is None:
            pairs = memoise(self._memo, names, self._mapped(names))
        if pairs:
            values = [labels[name] for name, _ in pairs]  # read before any is overwritten
            for (_, mapped), value in zip(pairs, values, strict=True):
                labels[mapped] = value
        return True

    def _mapped(self, names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        # Prometheus: each label whose name matches is copied to ReplaceAllString(name).
        regex, replacement = self._regex, self._replacement
        return tuple((name, regex.replace_all(name, replacement)) for name in names if regex.matches(name))

    def labeldrop(self, labels: dict[str, str]) -> bool:
        names = tuple(labels)
        doomed = self._memo.get(names)
        if doomed is None:
            matches = self._regex.matches
            doomed = memoise(self._memo, names, tuple(name for name in names if matches(name)))
        for name in doomed:
            del labels[name]
        return True

    def labelkeep(self, labels: dict[str, str]) -> bool:
        names = tuple(labels)
        doomed = self._memo.get(names)
        if doomed is None:
            matches = self._regex.matches
            doomed = memoise(self._memo, names, tuple(name for name in names if not matches(name)))
        for name in doomed:
            del labels[name]
        return True


def _joined(names: tuple[str, ...], separator: str) -> Callable[[Mapping[str, str]], str]:
    """The function reading a rule's source value: the named labels' values joined."""
    if not names:
        return lambda labels: ""
    if len(names) == 1:
        name = names[0]
        return lambda labels: labels.get(name, "")
    return lambda labels: separator.join([labels.get(name, "") for name in names])


def relabel_in_place(labels: dict[str, str], rules: Iterable[RelabelConfig]) -> bool:
    """Apply ``rules`` in order to ``labels`` itself; False when a rule dropped the label set.

    Labels whose value became empty are removed (Prometheus treats an empty value as an
    absent label).
    """
    for rule in rules:
        if not rule.step(labels):
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
