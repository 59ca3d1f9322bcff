"""Series labels -> EMF dimensions and log-only properties.

Decisions (promwatch's, documented for users):

* A series' labels are its own labels plus the target labels it lacks (``job``,
  ``instance``, ...). A label with an empty value is no label (Prometheus semantics).
* Every label is a root member of the document; the dimension set names those that are
  dimensions. Without ``metric_declarations`` the set is every label except the
  ``log_only_labels``: ``job`` and ``instance`` first, then the others by name. A series with
  more than 30 such labels keeps the first 30 as dimensions and the rest as log-only
  properties (nothing is lost from the log event; CloudWatch aggregates the series that
  differ only in those).
* Dimension values must be 1..1024 printable ASCII characters, not only blanks. A value with
  a backslash, a control character or a non-ASCII character is escaped
  (:func:`promwatch.emf.identifiers.escape_value`: ``café`` -> ``caf\\xe9``, a newline ->
  ``\\n``, ``\\`` -> ``\\\\``), which keeps every series apart and stays readable; a value
  that is only blanks or still longer than 1024 characters cannot be a dimension, so its
  series is dropped (reason ``invalid_dimension``), as is a series whose dimension would have
  a name CloudWatch refuses (non-ASCII, a control character, blank, over 250 characters,
  starting with ``:``). Escaping applies to every label value in the event, so a label reads
  the same whether it is a dimension or a property.
* A label whose name equals a metric name in the same document (a stateset is the usual
  case, handled by naming its state label ``state``) is renamed ``<name>_label``: one JSON
  member cannot hold both.
"""
from __future__ import annotations

from collections.abc import Mapping

from promwatch.emf.identifiers import (
    dimension_name_problem,
    dimension_value_problem,
    escape_value,
    unescape_value,
)
from promwatch.limits import EMF_MAX_DIMENSION_VALUE_CHARS, EMF_MAX_DIMENSIONS_PER_SET
from promwatch.regex import Regex


def canonical(labels: Mapping[str, str]) -> str:
    """``{a="1",b="2"}`` with the labels sorted by name; ``""`` for no labels."""
    if not labels:
        return ""
    return "{" + ",".join([f'{k}="{v}"' for k, v in sorted(labels.items())]) + "}"


def invalid_dimension(key: str, value: str) -> str | None:
    """Why ``key=value`` (value already escaped) cannot be a dimension, or None when it can."""
    problem = dimension_name_problem(key)
    if problem is None:
        problem = dimension_value_problem(value)
        if problem is not None:
            return f"label {key!r}: {problem}"
    return problem


def exposed_values(values: dict[str, str]) -> Mapping[str, str]:
    """A label set's ``values`` as the target exposed them: escaped ones unescaped."""
    if not any("\\" in v for v in values.values()):
        return values
    return {k: unescape_value(v) if "\\" in v else v for k, v in values.items()}


class LabelSet:
    """One series' labels as the document holds them (one object per distinct label set).

    Attributes
    ----------
    own
        The series' own labels, as exposed.
    values
        Every label (own + target), escaped: the document's root members.
    dimension_keys
        The default dimension set (see the module docstring).
    invalid
        Why the default dimension set cannot be published, or None.
    """

    __slots__ = ("_key", "dimension_keys", "invalid", "own", "values")

    def __init__(
        self, own: Mapping[str, str], values: dict[str, str], dimension_keys: tuple[str, ...], invalid: str | None
    ) -> None:
        self.own = own
        self.values = values
        self.dimension_keys = dimension_keys
        self.invalid = invalid
        self._key: str | None = None

    @property
    def key(self) -> str:
        """:func:`canonical` of the own labels: with a metric name in front, a baseline key."""
        if self._key is None:
            self._key = canonical(self.own)
        return self._key


_LEADING = ("job", "instance")
_MAX_PLAIN_VALUES = 65_536


class LabelSets:
    """Builds :class:`LabelSet` values for one translation, caching what label names decide.

    Parameters
    ----------
    target_labels
        Labels every series gets unless it has its own (job, instance, target labels).
    log_only
        Whole-name pattern of the labels kept out of dimensions, or None.
    """

    __slots__ = ("_check_target", "_log_only", "_plain", "_shapes", "_target")

    def __init__(self, target_labels: Mapping[str, str], log_only: Regex | None) -> None:
        self._target = {k: escape_value(v) for k, v in target_labels.items() if v}
        # whether a target label's value cannot be a dimension value: each set then checks its own
        self._check_target = any(dimension_value_problem(v) for v in self._target.values())
        self._log_only = log_only
        # label names in document order -> (default dimension set, why a name is invalid)
        self._shapes: dict[tuple[str, ...], tuple[tuple[str, ...], str | None]] = {}
        # label values already seen fit to be dimension values as they are: a page repeats its
        # values from series to series, and a set lookup costs less than the tests (bounded:
        # a page of unique values starts it over)
        self._plain: set[str] = set()

    def build(self, labels: Mapping[str, str]) -> LabelSet:
        """The :class:`LabelSet` of a series whose own labels are ``labels``."""
        values = self._target.copy()
        values.update(labels)
        plain = self._plain
        unusual = self._check_target
        for k, v in labels.items():
            if v in plain:
                continue
            if not v:
                del values[k]
            elif (  # escape_value's test, inline, and dimension_value_problem's for such a value
                v.isascii() and v.isprintable() and "\\" not in v
                and len(v) <= EMF_MAX_DIMENSION_VALUE_CHARS and not v.isspace()
            ):
                if len(plain) >= _MAX_PLAIN_VALUES:
                    plain.clear()
                plain.add(v)
            else:
                values[k] = escape_value(v)
                unusual = True
        shape = tuple(values)
        known = self._shapes.get(shape)
        if known is None:
            known = self._shapes[shape] = self._dimension_keys(shape)
        dimension_keys, invalid = known
        if invalid is None and unusual:
            for k in dimension_keys:
                invalid = invalid_dimension(k, values[k])
                if invalid is not None:
                    break
        return LabelSet(labels, values, dimension_keys, invalid)

    def _dimension_keys(self, names: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
        log_only = self._log_only
        candidates = [k for k in names if log_only is None or not log_only.matches(k)]
        ordered = [k for k in _LEADING if k in candidates]
        ordered += sorted(k for k in candidates if k not in _LEADING)
        dimension_keys = tuple(ordered[:EMF_MAX_DIMENSIONS_PER_SET])
        for k in dimension_keys:
            problem = dimension_name_problem(k)
            if problem is not None:
                return dimension_keys, f"label {k!r}: {problem}"
        return dimension_keys, None
