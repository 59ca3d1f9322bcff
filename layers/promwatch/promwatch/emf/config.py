"""The ``emf:`` configuration section: how scraped samples become CloudWatch metrics.

It accepts the awsemfexporter's ``metric_declarations`` and ``dimension_rollup_option`` so an
ADOT collector configuration carries over, with EMF's real limit of 30 dimensions per set
(the exporter allowed 10). Regexes are RE2, Go's syntax (:mod:`promwatch.regex`), and follow
the awsemfexporter: ``metric_name_selectors`` and ``label_matchers`` *search* (unanchored, like
Go's ``MatchString``); anchor with ``^...$`` for an exact match. The keys of ``units``,
``storage_resolution`` and ``log_only_labels`` are matched against the whole name (a plain
metric or label name matches itself).

Example::

    emf:
      namespace: prod/task-service
      metric_declarations:
        - dimensions: [[job, route], [job]]
          metric_name_selectors: ["^http_request_duration_seconds$", "_total$"]
          label_matchers:
            - {label_names: [status], regex: "^[45]"}
      log_only_labels: [pod_uid, "trace_.*"]
      units: {"nodejs_heap_.*_bytes": Bytes}
      storage_resolution: {"^up$": 1}
      output: {type: logs, log_group_name: /promwatch/metrics}
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from promwatch.emf.errors import EmfConfigError
from promwatch.emf.identifiers import namespace_problem
from promwatch.limits import (
    EMF_MAX_DIMENSIONS_PER_SET,
    EMF_STORAGE_RESOLUTIONS,
    EMF_UNITS,
)
from promwatch.logsnames import check_log_group_name, check_log_stream_name
from promwatch.regex import Regex, search_regex, whole_regex

DimensionRollup = Literal["NoDimensionRollup", "SingleDimensionRollup", "ZeroAndSingleDimensionRollup"]


def _searchable(pattern: str) -> str:
    search_regex(pattern)  # a RegexError is a ValueError: reported under the key path
    return pattern


def _whole(pattern: str) -> str:
    whole_regex(pattern)
    return pattern


def _union(patterns: list[str]) -> Regex:
    return whole_regex("|".join(f"(?:{p})" for p in patterns))


_SearchPattern = Annotated[str, AfterValidator(_searchable)]
"""A regex that matches anywhere in the text (RE2 syntax)."""
_WholePattern = Annotated[str, AfterValidator(_whole)]
"""A regex that must match the whole text (RE2 syntax)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabelMatcher(_Strict):
    """The awsemfexporter's label matcher: the values of ``label_names`` joined by
    ``separator`` must match ``regex`` (a missing label contributes an empty string). The
    values are those the target exposed, not their escaped dimension values."""

    label_names: list[str] = Field(min_length=1)
    separator: str = ";"
    regex: _SearchPattern

    @cached_property
    def pattern(self) -> Regex:
        """The compiled ``regex``."""
        return search_regex(self.regex)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a series with ``labels`` is selected."""
        joined = self.separator.join([labels.get(name, "") for name in self.label_names])
        return self.pattern.matches(joined)


class MetricDeclaration(_Strict):
    """Which metrics become CloudWatch metrics, and with which dimension sets.

    A metric is published when its name matches one of ``metric_name_selectors`` and its
    labels match every one of ``label_matchers``. Its dimension sets are the declared ones
    whose every key is a label of the series (the others are skipped for that series).
    """

    dimensions: list[list[str]] = Field(default_factory=list)
    metric_name_selectors: list[_SearchPattern] = Field(min_length=1)
    label_matchers: list[LabelMatcher] = Field(default_factory=list)

    @field_validator("dimensions")
    @classmethod
    def _dimension_sets_fit(cls, value: list[list[str]]) -> list[list[str]]:
        for index, keys in enumerate(value):
            if len(keys) > EMF_MAX_DIMENSIONS_PER_SET:
                raise EmfConfigError(
                    f"dimensions[{index}] has {len(keys)} keys {keys!r}; "
                    f"expected at most {EMF_MAX_DIMENSIONS_PER_SET}"
                )
            if len(set(keys)) != len(keys):
                raise EmfConfigError(f"dimensions[{index}] {keys!r} repeats a key; expected distinct label names")
        return value

    @cached_property
    def selectors(self) -> tuple[Regex, ...]:
        """The compiled ``metric_name_selectors``."""
        return tuple(search_regex(p) for p in self.metric_name_selectors)

    def selects(self, name: str, labels: Mapping[str, str]) -> bool:
        """Whether the series ``name{labels}`` falls under this declaration."""
        return any(s.matches(name) for s in self.selectors) and all(
            m.matches(labels) for m in self.label_matchers
        )


class EmfOutput(_Strict):
    """Where the EMF documents go: stdout (Lambda's own log group), CloudWatch Logs, a file."""

    type: Literal["stdout", "logs", "file"] = "stdout"
    log_group_name: Annotated[str | None, AfterValidator(check_log_group_name)] = None
    log_stream_name: Annotated[str | None, AfterValidator(check_log_stream_name)] = None
    path: str | None = None

    @model_validator(mode="after")
    def _needs_destination(self) -> EmfOutput:
        if self.type == "logs" and not self.log_group_name:
            raise EmfConfigError("output.log_group_name is required when output.type is 'logs'")
        if self.type == "file" and not self.path:
            raise EmfConfigError("output.path is required when output.type is 'file'")
        return self


def _check_unit(key: str, unit: str) -> None:
    if unit not in EMF_UNITS:
        raise EmfConfigError(f"units[{key!r}]: {unit!r} is not a CloudWatch unit; expected one of {', '.join(EMF_UNITS)}")


def _resolution_shape(value: Any) -> Any:
    # One message for a value that is neither form (pydantic would report one per union member).
    if isinstance(value, str) and value.strip().isdecimal() and len(value) < 10:
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int | dict):
        raise EmfConfigError(f"{value!r:.60} is not a storage resolution; expected 1, 60, or a mapping of "
                         "metric name (regex) -> 1|60")
    return value


def _check_resolution(key: str, resolution: int) -> None:
    if resolution not in EMF_STORAGE_RESOLUTIONS:
        raise EmfConfigError(f"storage_resolution{key}: {resolution!r}; expected 1 or 60")


class EmfSettings(_Strict):
    """The ``emf:`` section of a job (or of ``global``).

    Attributes
    ----------
    namespace
        CloudWatch namespace; None means the job name (characters a namespace cannot hold
        are replaced by ``_``).
    metric_declarations
        awsemfexporter-compatible declarations. Empty: every metric is published with all its
        labels (plus job and instance) as its one dimension set. Non-empty: only declared
        metrics are published; the others are reported as drops with reason ``not_declared``.
    dimension_rollup_option
        Extra dimension sets: ``SingleDimensionRollup`` adds one set per label,
        ``ZeroAndSingleDimensionRollup`` also adds the empty set (the metric with no dimensions).
    rollup_base_dimensions
        Label names every rolled-up set keeps: the zero set becomes these, each single set these
        plus one label. The awsemfexporter keeps its ``OTelLib`` label this way, so an imported
        ADOT setup (``promwatch import adot``) lists it to publish the same metrics.
    log_only_labels
        Label names (or whole-name regexes) kept in the log event as properties rather than
        dimensions: high-cardinality labels you want in Logs Insights but not in the bill.
    units
        Metric name (or whole-name regex) -> CloudWatch unit; first match wins. Unlisted
        metrics get a unit from the OpenMetrics unit or the ``_seconds``/``_bytes`` suffix.
    storage_resolution
        1 or 60, or metric name (or whole-name regex) -> 1|60 with 60 for unlisted metrics.
    series_retention_seconds
        How long the counter baseline of a series that stopped appearing is kept, so that it
        is not counted from zero again when it comes back.
    output
        Where the documents go.
    """

    namespace: str | None = None
    metric_declarations: list[MetricDeclaration] = Field(default_factory=list)
    dimension_rollup_option: DimensionRollup = "NoDimensionRollup"
    rollup_base_dimensions: list[str] = Field(default_factory=list, max_length=EMF_MAX_DIMENSIONS_PER_SET)
    log_only_labels: list[_WholePattern] = Field(default_factory=list)
    units: dict[str, str] = Field(default_factory=dict)
    storage_resolution: Annotated[int | dict[str, int], BeforeValidator(_resolution_shape)] = 60
    series_retention_seconds: float = Field(default=3600.0, ge=0, allow_inf_nan=False)
    output: EmfOutput = Field(default_factory=EmfOutput)

    @field_validator("namespace")
    @classmethod
    def _valid_namespace(cls, value: str | None) -> str | None:
        problem = namespace_problem(value) if value is not None else None
        if problem is not None:
            raise EmfConfigError(problem)
        return value

    @field_validator("log_only_labels")
    @classmethod
    def _patterns_join(cls, value: list[str]) -> list[str]:
        # Each compiles; so must their union (an unclosed \Q would swallow what follows it).
        if value:
            _union(value)
        return value

    @field_validator("units")
    @classmethod
    def _valid_units(cls, value: dict[str, str]) -> dict[str, str]:
        for key, unit in value.items():
            _whole(key)
            _check_unit(key, unit)
        return value

    @field_validator("storage_resolution")
    @classmethod
    def _valid_resolution(cls, value: int | dict[str, int]) -> int | dict[str, int]:
        if isinstance(value, int):
            _check_resolution("", value)
        else:
            for key, resolution in value.items():
                _whole(key)
                _check_resolution(f"[{key!r}]", resolution)
        return value

    @cached_property
    def log_only_pattern(self) -> Regex | None:
        """One compiled whole-name pattern for ``log_only_labels`` (None when empty)."""
        return _union(self.log_only_labels) if self.log_only_labels else None

    @cached_property
    def unit_rules(self) -> tuple[tuple[Regex, str], ...]:
        """The compiled ``units`` rules, in order."""
        return tuple((whole_regex(k), u) for k, u in self.units.items())

    @cached_property
    def resolution_rules(self) -> tuple[tuple[Regex, int], ...]:
        """The compiled per-metric ``storage_resolution`` rules (empty for a single value)."""
        if isinstance(self.storage_resolution, int):
            return ()
        return tuple((whole_regex(k), r) for k, r in self.storage_resolution.items())
