"""Content negotiation: the Accept header Prometheus sends and picking a parser for a response."""
from __future__ import annotations

from typing import Literal

Format = Literal["prometheus", "openmetrics"]

FORMATS: tuple[Format, ...] = ("prometheus", "openmetrics")

ACCEPT_HEADER = (
    "application/openmetrics-text;version=1.0.0,"
    "application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,"
    "*/*;q=0.1"
)
"""The Accept header Prometheus sends on scrapes: OpenMetrics 1.0.0 first, then 0.0.1, then the
text format 0.0.4, then anything."""

_OPENMETRICS_MEDIA_TYPE = "application/openmetrics-text"


def detect_format(content_type: str | None, text: str | None = None) -> Format:
    """Choose the parser for a response.

    Parameters
    ----------
    content_type
        The response's Content-Type header, if any. ``application/openmetrics-text`` selects
        OpenMetrics; any other media type selects the Prometheus text format, as Prometheus does.
    text
        The body, consulted only when there is no Content-Type: a page whose last line is
        ``# EOF`` is OpenMetrics.

    Returns
    -------
    str
        ``"openmetrics"`` or ``"prometheus"``.
    """
    if content_type:
        media_type = content_type.split(";", 1)[0].strip().lower()
        return "openmetrics" if media_type == _OPENMETRICS_MEDIA_TYPE else "prometheus"
    if text is not None:
        tail = text[-64:].rstrip("\n")  # the end only: a page can be megabytes
        if tail.rsplit("\n", 1)[-1] == "# EOF":
            return "openmetrics"
    return "prometheus"
