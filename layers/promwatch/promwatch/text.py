"""Outside text in checks and messages (pure): the one home of how a value is shown in a message
(cut short, a URL's userinfo hidden) and of what counts as a control character."""
from __future__ import annotations

import re

CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
"""An ASCII control character (C0 or DEL): never part of a name, a host or a path promwatch checks."""

_LEADING_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?[^/?#]*@")
# A URL anywhere in the text (``see http://u:pw@host/``): the userinfo after its scheme.
_URL_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")


def redact_userinfo(text: str) -> str:
    """``text`` with the userinfo of a URL or address (a password, maybe) replaced by ``<userinfo>``:
    of the text itself (``u:pw@host:9100``, ``http://u:pw@host/``) and of every URL in it."""
    text = _LEADING_USERINFO.sub(lambda match: f"{match[1] or ''}<userinfo>@", text)
    return _URL_USERINFO.sub(lambda match: f"{match[1]}<userinfo>@", text)


def shown(value: object, limit: int) -> str:
    """``value`` for a message: text with its userinfo hidden (:func:`redact_userinfo`), quoted
    with escapes so no raw control character reaches a log, and cut to ``limit`` characters
    (saying how long it was).

    Parameters
    ----------
    value
        Untrusted: a configured string, a number, a header, a response body.
    limit
        The most characters of it shown.
    """
    text = redact_userinfo(value) if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return repr(text) if isinstance(value, str) else text
    return f"{text[:limit]!r}... ({len(text):,} characters)"
