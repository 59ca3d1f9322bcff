"""The label-name rule (pure): Prometheus' classic ``[a-zA-Z_][a-zA-Z0-9_]*``, which is also safe
as a CloudWatch dimension name. The one home of it for the exposition parser, relabelling,
static and discovered target labels, and PromQL."""
from __future__ import annotations

import re

from promwatch.errors import PromwatchValueError

LABEL_NAME_PATTERN = "[a-zA-Z_][a-zA-Z0-9_]*"
"""The rule as regex text, for patterns built on it."""
LABEL_NAME = re.compile(LABEL_NAME_PATTERN)
"""The rule compiled; use ``fullmatch`` (or ``match`` at a position, as a lexer does)."""


def is_label_name(value: object) -> bool:
    """Whether ``value`` is a string that is a valid label name."""
    return isinstance(value, str) and LABEL_NAME.fullmatch(value) is not None


def check_label_name(value: str) -> str:
    """``value`` unchanged when it is a valid label name (a pydantic ``AfterValidator`` too).

    Raises
    ------
    PromwatchValueError
        Naming the value and the rule (pydantic reports it under the key that holds it).
    """
    if is_label_name(value):
        return value
    raise PromwatchValueError(f"{value!r} is not a valid label name; expected {LABEL_NAME_PATTERN}")
