"""Families back to an exposition (serialization): the inverse of the parsers (tests, fixtures, federation)."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from fractions import Fraction

from promwatch.exposition.lexer import METRIC_NAME_RE, escape_help, escape_label_value
from promwatch.exposition.model import Family
from promwatch.labelnames import is_label_name

_TEXT_TYPE = {"unknown": "untyped"}
_EXACT_MILLIS = 2**53
"""Past this many milliseconds a float second count is not a whole number of them."""


def format_value(value: float) -> str:
    """A sample value as both formats write it (``+Inf``, ``-Inf``, ``NaN``, shortest repr)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def _milliseconds(seconds: float) -> int:
    """The integer milliseconds the text parser reads back as ``seconds``."""
    millis = round(seconds * 1000)
    if abs(millis) >= _EXACT_MILLIS:  # the product rounds: take the exact one
        millis = round(Fraction(seconds) * 1000)
    return millis


def _name(name: str) -> str:
    return name if METRIC_NAME_RE.fullmatch(name) else f'"{escape_label_value(name)}"'


def _label_items(labels: Mapping[str, str]) -> list[str]:
    return [
        f'{k if is_label_name(k) else chr(34) + escape_label_value(k) + chr(34)}="{escape_label_value(v)}"'
        for k, v in labels.items()
    ]


def _series(name: str, labels: Mapping[str, str]) -> str:
    items = _label_items(labels)
    if METRIC_NAME_RE.fullmatch(name):
        return f"{name}{{{','.join(items)}}}" if items else name
    return "{" + ",".join([f'"{escape_label_value(name)}"', *items]) + "}"


def render(families: Iterable[Family], format: str = "prometheus") -> str:
    """Write families as a page.

    Parameters
    ----------
    families
        What to write.
    format
        ``"prometheus"`` (text 0.0.4: timestamps in milliseconds, ``untyped``) or
        ``"openmetrics"`` (UNIT lines, exemplars, ``# EOF``).

    Returns
    -------
    str
        The page, newline-terminated.
    """
    openmetrics = format == "openmetrics"
    lines: list[str] = []
    written: set[str] = set()  # sample names already on a text page
    for family in families:
        name = _name(family.name)
        # A text page may give HELP for a name whose samples went to another family by suffix
        # (foo_total of counter foo): that family has only its help, and a TYPE line after
        # those samples would break the page.
        late = not openmetrics and family.type == "unknown" and family.name in written
        if family.help or late:
            text = escape_label_value(family.help) if openmetrics else escape_help(family.help)
            lines.append(f"# HELP {name} {text}")
        if not late:
            lines.append(f"# TYPE {name} {family.type if openmetrics else _TEXT_TYPE.get(family.type, family.type)}")
        if openmetrics and family.unit:
            lines.append(f"# UNIT {name} {family.unit}")
        for sample in family.samples:
            line = f"{_series(sample.name, sample.labels)} {format_value(sample.value)}"
            if sample.timestamp is not None:
                line += f" {sample.timestamp!r}" if openmetrics else f" {_milliseconds(sample.timestamp)}"
            if openmetrics and sample.exemplar is not None:
                exemplar = sample.exemplar
                line += f" # {{{','.join(_label_items(exemplar.labels))}}} {format_value(exemplar.value)}"
                if exemplar.timestamp is not None:
                    line += f" {exemplar.timestamp!r}"
            lines.append(line)
        if not openmetrics:
            written.update(sample.name for sample in family.samples)
    if openmetrics:
        lines.append("# EOF")
    return "\n".join(lines) + "\n"
