"""What CloudWatch takes as a metric's identity, and the escaping that turns any text into a dimension value.

The one home of these rules. Wherever outside text -- a scraped label name or value, a
Container Insights event field, a configured job name, stage, namespace or rule -- becomes a
namespace, metric name, dimension name or dimension value, the code asks here: the scrape
translation (:mod:`promwatch.emf.labels`, :mod:`promwatch.emf.translate`), the Container
Insights roll-ups, the self-metrics, the configuration models, and
:func:`promwatch.emf.validate`.

What CloudWatch takes
---------------------
* Dimensions (CloudWatch API Reference, data type ``Dimension``,
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html):
  names and values hold only ASCII characters, at least one of them not whitespace, and no
  ASCII control character (the reference says control characters "are not supported");
  a name does not start with ``:``. Values are 1..1024 characters; names 1..255 there, 1..250
  in the Embedded Metric Format specification
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
  which promwatch keeps (:mod:`promwatch.limits`).
* Metric names: 1..1024 characters in EMF (:data:`~promwatch.limits.EMF_MAX_NAME_CHARS`),
  not only whitespace, and no ASCII control character: the API reference sets no alphabet
  for them, but metric streams take only printable ASCII names (``MetricStreamFilter``) and a
  name with a newline can be neither typed in the console nor put in an alarm. Other
  non-ASCII characters are left alone (Prometheus 3 names may be UTF-8). ``_aws`` (a valid
  Prometheus name) is refused: a metric is a member of the document, and that member is the
  EMF metadata.
* Namespaces: 1..255 characters of ``[0-9A-Za-z.-_/#: ]``, not only spaces, not starting
  with ``:`` (the API's pattern ``[^:].*``).

Escaping (decided here, documented in the README)
-------------------------------------------------
:func:`escape_value` publishes a value of printable ASCII without a backslash -- the usual
one -- as it is, and writes any other as Python's ``unicode_escape`` codec does: a backslash
as ``\\\\``, newline, tab and carriage return as ``\\n``, ``\\t``, ``\\r``, any other control
character or non-ASCII character as ``\\xHH``, ``\\uHHHH`` or ``\\UHHHHHHHH`` (``café`` ->
``caf\\xe9``). The backslash being escaped too, the mapping is injective: ``café`` and the
literal text ``caf\\xe9`` (published ``caf\\\\xe9``) stay two series, and
:func:`unescape_value` gives the original back. Control characters are escaped rather than
their series dropped: a target's stray (or hostile) newline then costs no data and cannot
merge two series, the value reads as the exposition format writes it (``\\\\``, ``\\n``), and
it is the rule non-ASCII characters already followed. The escaped value is what the console
shows and what an alarm or a dashboard names (``C:\\\\logs`` for the label ``C:\\logs``).
"""
from __future__ import annotations

import re

from promwatch.emf.errors import EmfConfigError, EmfError
from promwatch.limits import (
    EMF_MAX_DIMENSION_NAME_CHARS,
    EMF_MAX_DIMENSION_VALUE_CHARS,
    EMF_MAX_NAME_CHARS,
    EMF_NAMESPACE_MAX_CHARS,
)
from promwatch.text import CONTROL_CHARACTER

_NAMESPACE = re.compile(r"[0-9A-Za-z.\-_/#: ]+")
_ESCAPE = re.compile(r"\\(?:[\\ntr]|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")
"""The escapes :func:`escape_value` writes (``unicode_escape`` writes lowercase hex)."""


class EscapeError(EmfError):
    """Text that :func:`escape_value` never writes was given to :func:`unescape_value`."""


def escape_value(value: str) -> str:
    """``value`` as a dimension value: as it is when it is printable ASCII without a
    backslash, else with Python's backslash escapes (see the module docstring).

    The result is printable ASCII; distinct values give distinct results
    (:func:`unescape_value` inverts it). Hot loops inline the first test.
    """
    if value.isascii() and value.isprintable() and "\\" not in value:
        return value
    return value.encode("unicode_escape").decode("ascii")


def unescape_value(text: str) -> str:
    """The value :func:`escape_value` turned into ``text``.

    Raises
    ------
    EscapeError
        When ``text`` is not something :func:`escape_value` writes (a lone or unknown
        backslash escape, a character that would have been escaped, an escape of a character
        that would not have been).
    """
    if "\\" not in text:
        if text.isascii() and text.isprintable():
            return text
    elif text.isascii() and "\\" not in _ESCAPE.sub("", text):
        value = text.encode("ascii").decode("unicode_escape")
        if value.encode("unicode_escape") == text.encode("ascii"):
            return value
    raise EscapeError(f"{text!r} is not an escaped dimension value; expected printable ASCII with \\\\, \\n, \\t, "
                      "\\r, \\xHH, \\uHHHH or \\UHHHHHHHH escapes, as escape_value writes them")


def dimension_name_problem(name: str) -> str | None:
    """Why CloudWatch refuses ``name`` as a dimension name, or None when it takes it."""
    if (
        1 <= len(name) <= EMF_MAX_DIMENSION_NAME_CHARS and name.isascii() and name.isprintable()
        and not name.isspace() and not name.startswith(":")
    ):
        return None
    return (
        f"dimension name {name!r}: expected 1..{EMF_MAX_DIMENSION_NAME_CHARS} ASCII characters, "
        "no control character, not only blanks, not starting with ':'"
    )


def dimension_value_problem(value: str) -> str | None:
    """Why CloudWatch refuses ``value`` as a dimension value, or None when it takes it.

    ``value`` is the published text: :func:`escape_value` of a label value, which leaves
    only its length and blankness to check.
    """
    if 1 <= len(value) <= EMF_MAX_DIMENSION_VALUE_CHARS and value.isascii() and value.isprintable() and not value.isspace():
        return None
    shown = value if len(value) <= 40 else value[:40] + "..."
    return (
        f"dimension value {shown!r} ({len(value)} characters): expected 1..{EMF_MAX_DIMENSION_VALUE_CHARS} "
        "ASCII characters, no control character, not only blanks"
    )


def metric_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a CloudWatch metric name, or None when it can."""
    if 1 <= len(name) <= EMF_MAX_NAME_CHARS and not name.isspace() and name != "_aws" and (
        (name.isascii() and name.isprintable()) or CONTROL_CHARACTER.search(name) is None
    ):
        return None
    shown = name if len(name) <= 80 else name[:80] + "..."
    return (
        f"metric name {shown!r} ({len(name)} characters): expected 1..{EMF_MAX_NAME_CHARS} characters, "
        "no ASCII control character, not only blanks, not _aws (the member of the EMF metadata)"
    )


def namespace_problem(namespace: str) -> str | None:
    """Why ``namespace`` cannot be a CloudWatch namespace, or None when it can."""
    if (
        1 <= len(namespace) <= EMF_NAMESPACE_MAX_CHARS and _NAMESPACE.fullmatch(namespace)
        and not namespace.isspace() and not namespace.startswith(":")
    ):
        return None
    return (
        f"namespace {namespace!r}: expected 1..{EMF_NAMESPACE_MAX_CHARS} characters of letters, digits, "
        "spaces and . - _ / # :, not only spaces, not starting with ':'"
    )


def check_dimension_value(value: str) -> str:
    """``value`` unchanged when, escaped, it can be a dimension value: for configuration
    models (pydantic's ``AfterValidator``), so a job name or a stage that no metric could
    carry is refused when the configuration loads.

    Raises
    ------
    ValueError
        With :func:`dimension_value_problem`'s reason (pydantic reports it with the field).
    """
    problem = dimension_value_problem(escape_value(value))
    if problem is not None:
        raise EmfConfigError(problem)
    return value
