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
* Dimension values must be 1..1024 ASCII characters, not only blanks. Non-ASCII characters
  are escaped (``café`` -> ``caf\\xe9``, Python's backslash escapes), which keeps series
  apart and stays readable; a value that is only blanks or still longer than 1024
  characters cannot be a dimension, so its series is dropped (reason
  ``invalid_dimension``). Escaping applies to every label value in the event, so a label
  reads the same whether it is a dimension or a property.
* A label whose name equals a metric name in the same document (a stateset is the usual
  case, handled by naming its state label ``state``) is renamed ``<name>_label``: one JSON
  member cannot hold both.
"""
from __future__ import annotations

from collections.abc import Mapping

from promwatch.limits import (
    EMF_MAX_DIMENSION_NAME_CHARS,
    EMF_MAX_DIMENSION_VALUE_CHARS,
    EMF_MAX_DIMENSIONS_PER_SET,
)
from promwatch.regex import Regex


def canonical(labels: Mapping[str, str]) -> str:
    """``{a="1",b="2"}`` with the labels sorted by name; ``""`` for no labels."""
    if not labels:
        return ""
    return "{" + ",".join([f'{k}="{v}"' for k, v in sorted(labels.items())]) + "}"


def escape_value(value: str) -> str:
    """``value`` with non-ASCII characters as backslash escapes."""
    return value if value.isascii() else value.encode("ascii", "backslashreplace").decode("ascii")


def invalid_dimension(key: str, value: str) -> str | None:
    """Why ``key=value`` (value already escaped) cannot be a dimension, or None when it can."""
    if not key.isascii() or not 1 <= len(key) <= EMF_MAX_DIMENSION_NAME_CHARS or key.startswith(":"):
        return f"label name {key!r} is not 1..{EMF_MAX_DIMENSION_NAME_CHARS} ASCII characters"
    if len(value) > EMF_MAX_DIMENSION_VALUE_CHARS:
        return f"label {key!r} is {len(value)} characters; expected at most {EMF_MAX_DIMENSION_VALUE_CHARS}"
    if not value or value.isspace():
        return f"label {key!r} value {value!r} is blank"
    return None


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


class LabelSets:
    """Builds :class:`LabelSet` values for one translation, caching what label names decide.

    Parameters
    ----------
    target_labels
        Labels every series gets unless it has its own (job, instance, target labels).
    log_only
        Whole-name pattern of the labels kept out of dimensions, or None.
    """

    __slots__ = ("_log_only", "_shapes", "_target")

    def __init__(self, target_labels: Mapping[str, str], log_only: Regex | None) -> None:
        self._target = {k: escape_value(v) for k, v in target_labels.items() if v}
        self._log_only = log_only
        # label names in document order -> (default dimension set, why a name is invalid)
        self._shapes: dict[tuple[str, ...], tuple[tuple[str, ...], str | None]] = {}

    def build(self, labels: Mapping[str, str]) -> LabelSet:
        """The :class:`LabelSet` of a series whose own labels are ``labels``."""
        values = self._target.copy()
        values.update(labels)
        for k, v in labels.items():
            if not v:
                del values[k]
            elif not v.isascii():
                values[k] = escape_value(v)
        shape = tuple(values)
        known = self._shapes.get(shape)
        if known is None:
            known = self._shapes[shape] = self._dimension_keys(shape)
        dimension_keys, invalid = known
        if invalid is None:
            for k in dimension_keys:
                v = values[k]
                if len(v) > EMF_MAX_DIMENSION_VALUE_CHARS or v.isspace():
                    invalid = invalid_dimension(k, v)
                    break
        return LabelSet(labels, values, dimension_keys, invalid)

    def _dimension_keys(self, names: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
        log_only = self._log_only
        candidates = [k for k in names if log_only is None or not log_only.matches(k)]
        ordered = [k for k in _LEADING if k in candidates]
        ordered += sorted(k for k in candidates if k not in _LEADING)
        dimension_keys = tuple(ordered[:EMF_MAX_DIMENSIONS_PER_SET])
        for k in dimension_keys:
            if not k.isascii() or not 1 <= len(k) <= EMF_MAX_DIMENSION_NAME_CHARS or k.startswith(":"):
                return dimension_keys, f"label name {k!r} is not 1..{EMF_MAX_DIMENSION_NAME_CHARS} ASCII characters"
        return dimension_keys, None
