"""Content negotiation: the Accept header Prometheus sends, decoding a response's body and
picking a parser for it."""
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
text format 0.0.4, then anything. It names no ``escaping``: a target escapes names outside the
legacy characters (``café.temperature`` -> ``caf__temperature``)."""


def accept_header(escaping: str | None = None) -> str:
    """The scrape's Accept header asking for names escaped as ``escaping`` (``allow-utf-8``:
    names as exposed, UTF-8 allowed), as Prometheus 3 asks: the 1.0.0 formats carry the
    ``escaping`` parameter. None: :data:`ACCEPT_HEADER`."""
    if escaping is None:
        return ACCEPT_HEADER
    return (
        f"application/openmetrics-text;version=1.0.0;escaping={escaping},"
        "application/openmetrics-text;version=0.0.1;q=0.75,"
        f"text/plain;version=1.0.0;escaping={escaping};q=0.6,"
        "text/plain;version=0.0.4;q=0.5,"
        "*/*;q=0.1"
    )

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


def decode_body(body: bytes | bytearray, content_type: str | None) -> str:
    """A response's body as text.

    Decoded with the Content-Type's charset (UTF-8 when it names none or one Python does not
    know), undecodable bytes replaced. The text holds no lone surrogates: some codecs a target
    may name (``unicode_escape``, ``utf-7``, ...) decode to them, and no UTF-8 log event can
    carry one, so they are replaced as undecodable bytes are (a surrogate pair becomes its
    character).
    """
    charset = _charset(content_type)
    text = body.decode(charset, errors="replace")
    if charset != "utf-8" and not text.isascii():  # a UTF-8 decode never yields a surrogate
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _charset(content_type: str | None) -> str:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            name = value.strip('"').lower()
            try:
                "".encode(name)
                return name
            except LookupError:
                break
    return "utf-8"
