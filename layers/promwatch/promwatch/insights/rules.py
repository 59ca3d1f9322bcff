"""Roll-up rules: the pydantic model of ``config/insights.yaml`` and its compiled form.

A rule picks events by ``types``, groups them by ``group_by`` (event fields as written,
``label:<k8s label>`` giving dimension ``<k8s label>``, ``workload`` giving
``"<owner kind>/<owner name>"``, ``kubernetes.<field>`` for the kubernetes block) and emits,
per group and period, the distribution of each listed metric (an event field or a
``derive`` expression). Loading reads a file path, ``ssm:/parameter/name``,
``s3://bucket/key``, or ``builtin`` (the defaults shipped in the package).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from promwatch.emf.identifiers import (
    check_dimension_value,
    dimension_name_problem,
    metric_name_problem,
    namespace_problem,
)
from promwatch.insights.derive import Evaluator, compile_expression
from promwatch.insights.errors import RulesError, RulesValueError
from promwatch.insights.model import PerformanceEvent, workload_of
from promwatch.limits import EMF_MAX_DIMENSIONS_PER_SET, EMF_MAX_METRICS_PER_DIRECTIVE, EMF_UNITS
from promwatch.safeload import MAX_DOCUMENT_CHARS, DocumentError, decode_text, load_yaml, read_text

__all__ = [
    "BUILTIN_RULES",
    "ROLLUP_RULE_MEMBER",
    "CompiledRule",
    "Rule",
    "RulesConfig",
    "compile_rules",
    "dimension_name",
    "load_rules",
    "parse_rules",
]

BUILTIN_RULES = "builtin"
"""Rules source naming the defaults shipped with the package (``default_rules.yaml``)."""
ROLLUP_RULE_MEMBER = "RollupRule"
"""The property of each roll-up document that names its rule."""
_RESERVED_MEMBERS = frozenset({"_aws", ROLLUP_RULE_MEMBER})

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECONDS_PER_DAY = 86_400


def dimension_name(entry: str) -> str:
    """The dimension a ``group_by`` entry publishes: as written, except ``label:team`` -> ``team``."""
    return entry[len("label:") :] if entry.startswith("label:") else entry


def _check_period(value: int | None, where: str) -> int | None:
    # Whole minutes that tile a day: every period then starts on a boundary shared by all
    # rules, which is what lets backfill chunks hold complete periods.
    if value is not None and (value <= 0 or value % 60 or _SECONDS_PER_DAY % value):
        raise RulesValueError(f"{where} {value}: expected a whole number of minutes that divides a day (60, 300, 3600, ...)")
    return value


def _check_namespace(value: str | None) -> str | None:
    problem = namespace_problem(value) if value is not None else None
    if problem is not None:
        raise RulesValueError(problem)
    return value


class Rule(BaseModel):
    """One roll-up rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    types: list[str] = Field(min_length=1)
    group_by: list[str] = Field(default_factory=list, max_length=EMF_MAX_DIMENSIONS_PER_SET)
    metrics: list[str] = Field(min_length=1, max_length=EMF_MAX_METRICS_PER_DIRECTIVE)
    derive: dict[str, str] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)
    period: int | None = None
    namespace: str | None = None
    missing_value: str | None = Field(default=None, min_length=1)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise RulesValueError(f"rule name {value!r}: expected 1..128 characters of A-Z a-z 0-9 _ . -")
        return value

    @field_validator("period")
    @classmethod
    def _period(cls, value: int | None) -> int | None:
        return _check_period(value, "period")

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        return _check_namespace(value)

    @field_validator("missing_value")
    @classmethod
    def _missing_value(cls, value: str | None) -> str | None:
        return check_dimension_value(value) if value is not None else None

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, entries: list[str]) -> list[str]:
        names = [dimension_name(entry) for entry in entries]
        for entry, name in zip(entries, names, strict=True):
            problem = dimension_name_problem(name)
            if problem is None and name in _RESERVED_MEMBERS:
                problem = f"{name!r} is a member of every roll-up document already"
            if problem is not None:
                raise RulesValueError(f"group_by entry {entry!r}: expected an event field, label:<name> or workload; {problem}")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise RulesValueError(f"group_by publishes dimension(s) {duplicates} twice; expected distinct names")
        return entries

    @model_validator(mode="after")
    def _metrics(self) -> Rule:
        # Each metric, dimension and the rule's name is a member of the same document.
        taken = _RESERVED_MEMBERS | {dimension_name(entry) for entry in self.group_by}
        for metric in self.metrics:
            if metric in taken:
                raise RulesValueError(
                    f"metric {metric!r}: expected a name that is not a group_by dimension, "
                    f"{' or '.join(sorted(_RESERVED_MEMBERS))} (one member of a document cannot hold both)"
                )
        for metric in self.metrics:
            if metric not in self.derive and not _FIELD.match(metric):
                raise RulesValueError(f"metric {metric!r}: expected an event field name or a derive name")
            problem = metric_name_problem(metric)
            if problem is not None:
                raise RulesValueError(problem)
        if len(set(self.metrics)) != len(self.metrics):
            raise RulesValueError(f"metrics {self.metrics}: a metric is listed twice")
        unused = sorted(set(self.derive) - set(self.metrics))
        if unused:
            raise RulesValueError(f"derive {unused} not listed in metrics; expected every derived name in metrics")
        for metric, unit in self.units.items():
            if metric not in self.metrics:
                raise RulesValueError(f"units names {metric!r}, which is not in metrics {self.metrics}")
            if unit not in EMF_UNITS:
                raise RulesValueError(f"unit {unit!r} of {metric!r} is not a CloudWatch unit")
        return self


class RulesConfig(BaseModel):
    """The whole rules document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str = "ContainerInsights/Rollups"
    period: int = 60
    rules: list[Rule] = Field(min_length=1)

    @field_validator("period")
    @classmethod
    def _period(cls, value: int) -> int:
        _check_period(value, "period")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        _check_namespace(value)
        return value

    @model_validator(mode="after")
    def _distinct(self) -> RulesConfig:
        seen_names: set[str] = set()
        published: dict[tuple[str, frozenset[str], str], str] = {}
        for rule in self.rules:
            if rule.name in seen_names:
                raise RulesValueError(f"rule name {rule.name!r} is used twice; expected unique names")
            seen_names.add(rule.name)
            dimensions = frozenset(dimension_name(entry) for entry in rule.group_by)
            for metric in rule.metrics:
                # Two rules publishing the same metric under the same dimensions would add their
                # distributions together in CloudWatch and double count.
                key = (rule.namespace or self.namespace, dimensions, metric)
                if key in published:
                    raise RulesValueError(
                        f"rules {published[key]!r} and {rule.name!r} both publish {metric!r} with dimensions "
                        f"{sorted(dimensions)}; expected distinct metric names or dimensions"
                    )
                published[key] = rule.name
        return self


GroupReader = Callable[[PerformanceEvent], str | None]
"""Reads one dimension value of an event (None when the event has none)."""


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready for aggregation (see :func:`compile_rules`)."""

    name: str
    namespace: str
    period_ms: int
    types: frozenset[str]
    dimensions: tuple[str, ...]
    readers: tuple[GroupReader, ...]
    metrics: tuple[tuple[str, Evaluator], ...]
    units: dict[str, str]
    missing_value: str | None


def _reader(entry: str) -> GroupReader:
    if entry == "workload":
        return lambda event: workload_of(event.kubernetes)
    if entry.startswith("label:"):
        label = entry[len("label:") :]
        return lambda event: (event.kubernetes.labels.get(label) or None) if event.kubernetes else None
    if entry.startswith("kubernetes."):
        attribute = entry[len("kubernetes.") :]

        def kubernetes_field(event: PerformanceEvent) -> str | None:
            if event.kubernetes is None:
                return None
            value = getattr(event.kubernetes, attribute, None)
            if value is None and event.kubernetes.model_extra:
                value = event.kubernetes.model_extra.get(attribute)
            return value if isinstance(value, str) and value else None

        return kubernetes_field
    return lambda event: event.text(entry)


def _metric(name: str, rule: Rule) -> Evaluator:
    if name in rule.derive:
        return compile_expression(rule.derive[name]).evaluate

    def read(fields: Any) -> float | None:
        value = fields.get(name)
        if type(value) is float or type(value) is int:
            return value
        return None

    return read


def compile_rules(config: RulesConfig) -> tuple[CompiledRule, ...]:
    """Compile every rule (derive expressions parsed, readers built).

    Raises
    ------
    RulesError
        When a derive expression is not allowed arithmetic.
    """
    return tuple(
        CompiledRule(
            name=rule.name,
            namespace=rule.namespace or config.namespace,
            period_ms=(rule.period or config.period) * 1000,
            types=frozenset(rule.types),
            dimensions=tuple(dimension_name(entry) for entry in rule.group_by),
            readers=tuple(_reader(entry) for entry in rule.group_by),
            metrics=tuple((name, _metric(name, rule)) for name in rule.metrics),
            units=dict(rule.units),
            missing_value=rule.missing_value,
        )
        for rule in config.rules
    )


def parse_rules(text: str, *, origin: str = "<rules>") -> RulesConfig:
    """Validate a YAML (or JSON) rules document and check its derive expressions.

    Raises
    ------
    RulesError
        Naming ``origin``, the bad entry and what was expected (also for a document that breaks
        a limit of :mod:`promwatch.safeload`: size, nesting, aliases, duplicate keys).
    """
    try:
        document = load_yaml(text)
    except DocumentError as error:
        raise RulesError(f"{origin}: {error}") from None
    try:
        config = RulesConfig.model_validate(document)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {e['msg']}" for e in error.errors(include_url=False)
        )
        raise RulesError(f"{origin}: {details}") from None
    try:
        compile_rules(config)
    except RulesError as error:
        raise RulesError(f"{origin}: {error}") from None
    return config


def _read_remote(origin: str, ssm: Any, s3: Any) -> str:
    """The text of ``ssm:/name`` or ``s3://bucket/key``; any AWS failure is a :class:`RulesError`
    (so a refresh that meets throttling or an outage keeps the rules in hand)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from promwatch.coldstart import aws_client

    try:
        if origin.startswith("ssm:"):
            name = origin[len("ssm:") :]
            client = ssm if ssm is not None else aws_client("ssm")
            try:
                return str(client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
            except client.exceptions.ParameterNotFound:
                raise RulesError(f"rules parameter {name!r} does not exist in SSM Parameter Store") from None
        bucket, _, key = origin[len("s3://") :].partition("/")
        if not bucket or not key:
            raise RulesError(f"rules source {origin!r}: expected s3://bucket/key")
        client = s3 if s3 is not None else aws_client("s3")
        try:
            return decode_text(client.get_object(Bucket=bucket, Key=key)["Body"].read(MAX_DOCUMENT_CHARS + 1))
        except DocumentError as error:
            raise RulesError(f"{origin}: {error}") from None
    except (BotoCoreError, ClientError) as error:
        raise RulesError(f"rules {origin!r} cannot be read: {error}") from error


def load_rules(source: str | Path = BUILTIN_RULES, *, ssm: Any = None, s3: Any = None) -> RulesConfig:
    """Read and validate rules from ``builtin``, a file path, ``ssm:/name`` or ``s3://bucket/key``.

    Parameters
    ----------
    source
        Where the rules are.
    ssm, s3
        boto3 clients to use (created on demand when None).

    Raises
    ------
    RulesError
        When the source cannot be read or the rules are invalid.
    """
    origin = str(source)
    if origin == BUILTIN_RULES:
        text = resources.files("promwatch.insights").joinpath("default_rules.yaml").read_text("utf-8")
    elif origin.startswith(("ssm:", "s3://")):
        text = _read_remote(origin, ssm, s3)
    else:
        try:
            text = read_text(origin)
        except OSError as error:
            raise RulesError(f"rules file {origin!r} cannot be read: {error.strerror}") from None
        except DocumentError as error:
            raise RulesError(f"{origin}: {error}") from None
    return parse_rules(text, origin=origin)
