"""Prometheus text format 0.0.4 and OpenMetrics 1.0 parsing (pure code).

Public API
----------
``parse(text, format=None, *, content_type=None, memory=None) -> list[Family]``
    Strict: the first bad line raises :class:`ExpositionError` (``.line``, ``.reason``).
``parse_lenient(text, format=None, *, content_type=None, max_samples=None, memory=None) -> ParseResult``
    The text format skips bad lines and returns their errors next to the families; OpenMetrics
    stays strict (its errors raise), as the spec asks. ``max_samples`` stops the parse early
    and counts the rest of the page.
``ParserMemory()``
    What a warm process remembers from page to page (:mod:`promwatch.exposition.memory`): pass
    the same one as ``memory=`` to reuse the parsed series of earlier pages. Without one a
    parse starts cold and keeps nothing; the result is the same either way.
``detect_format(content_type, text=None)``, ``ACCEPT_HEADER`` (``accept_header(escaping)``), ``decode_body(body, content_type)``
    Content negotiation, as Prometheus does it, and a response's body as text (its charset).
``render(families, format)``
    The inverse: families back to an exposition.
Samples' ``labels`` are shared between samples (and, through a memory, between pages): treat
them as read-only (copy to change). They hold what the page says, empty values included (Prometheus drops a label whose
value is empty); timestamps are seconds in both formats.
"""
from __future__ import annotations

from typing import NamedTuple

from promwatch.exposition.errors import ExpositionError
from promwatch.exposition.memory import ParserMemory
from promwatch.exposition.model import FAMILY_TYPES, Exemplar, Family, Sample
from promwatch.exposition.negotiation import (
    ACCEPT_HEADER,
    FORMATS,
    Format,
    accept_header,
    decode_body,
    detect_format,
)
from promwatch.exposition.openmetrics import parse_openmetrics
from promwatch.exposition.serialize import render
from promwatch.exposition.text import parse_text

__all__ = [
    "ACCEPT_HEADER",
    "FAMILY_TYPES",
    "FORMATS",
    "Exemplar",
    "ExpositionError",
    "Family",
    "Format",
    "ParseResult",
    "ParserMemory",
    "Sample",
    "accept_header",
    "decode_body",
    "detect_format",
    "parse",
    "parse_lenient",
    "render",
]


class ParseResult(NamedTuple):
    """Families of a leniently parsed page and the errors of the lines that were skipped.

    ``samples`` is the number of sample lines on the page; ``truncated`` says parsing stopped
    at ``max_samples`` (the families then hold the first samples only, the rest were counted).
    """

    families: list[Family]
    errors: list[ExpositionError]
    samples: int = 0
    truncated: bool = False


def _choose(text: str, format: str | None, content_type: str | None) -> str:
    if format is None:
        return detect_format(content_type, text)
    if format not in FORMATS:
        raise ExpositionError(0, f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    return format


def parse(
    text: str, format: str | None = None, *, content_type: str | None = None, memory: ParserMemory | None = None
) -> list[Family]:
    """Parse an exposition strictly.

    Parameters
    ----------
    text
        The page.
    format
        ``"prometheus"`` or ``"openmetrics"``; None picks one from ``content_type`` (or, without
        it, from the text: a final ``# EOF`` line means OpenMetrics).
    content_type
        The response's Content-Type header, when the page came over HTTP.
    memory
        The parsed pieces of earlier pages to reuse, and where this page's are kept; None: a
        cold parse that keeps nothing (the families are equal either way).

    Returns
    -------
    list of Family
        In order of first appearance.

    Raises
    ------
    ExpositionError
        On the first bad line, with its 1-based ``.line`` and ``.reason``.
    """
    if _choose(text, format, content_type) == "openmetrics":
        return parse_openmetrics(text, memory=memory)[0]
    return parse_text(text, lenient=False, memory=memory)[0]


def parse_lenient(
    text: str,
    format: str | None = None,
    *,
    content_type: str | None = None,
    max_samples: int | None = None,
    memory: ParserMemory | None = None,
) -> ParseResult:
    """Parse an exposition, skipping bad lines of the text format.

    Parameters are those of :func:`parse` (``memory`` too), and ``max_samples``: stop parsing once more
    samples than this were read, and only count the rest (for a scrape's ``sample_limit``:
    a page far over it costs no memory for what is not kept).

    Returns
    -------
    ParseResult
        The families of the good lines and one :class:`ExpositionError` per skipped line.

    Raises
    ------
    ExpositionError
        For OpenMetrics, which is strict by specification.
    """
    if _choose(text, format, content_type) == "openmetrics":
        families, samples, truncated = parse_openmetrics(text, max_samples=max_samples, memory=memory)
        return ParseResult(families, [], samples, truncated)
    return ParseResult(*parse_text(text, lenient=True, max_samples=max_samples, memory=memory))
