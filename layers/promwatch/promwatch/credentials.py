"""What an HTTP credential may hold: one rule for the config and for secrets resolved at scrape time.

A header value with CR or LF makes ``requests`` raise an exception whose text carries the value,
and so the secret, into whatever logs it; NUL and other control characters are refused by servers
or cut the value short. A credential that cannot travel in a header is refused where it enters
promwatch: when the config is loaded (values written in it) or when a credentials file or an
``ssm:`` / ``secretsmanager:`` reference is resolved. Messages describe the offending character,
never the value.
"""
from __future__ import annotations

import re
from enum import Enum

from promwatch.errors import PromwatchValueError

__all__ = ["CredentialKind", "check_credential", "credential_problem"]


class CredentialKind(Enum):
    """Where a credential goes, which decides what it may hold."""

    HEADER = "header"
    """Sent as it is in the ``Authorization`` header: an authorization type, credentials, a bearer
    token. Printable ASCII, spaces and tabs (what every server reads the same way)."""
    BASIC_USERNAME = "basic_username"
    """A basic auth username: base64-encoded UTF-8, so any text without control characters, and
    no ``:`` (RFC 7617: the first colon ends the user-id)."""
    BASIC_PASSWORD = "basic_password"
    """A basic auth password: base64-encoded UTF-8, so any text without control characters."""


_NOT_HEADER_TEXT = re.compile(r"[^\t\x20-\x7e]")
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")
_EXPECTED = {
    CredentialKind.HEADER: "expected printable ASCII, as an HTTP header value",
    CredentialKind.BASIC_USERNAME: "expected text without control characters or ':'",
    CredentialKind.BASIC_PASSWORD: "expected text without control characters",
}


def credential_problem(value: str, kind: CredentialKind) -> str | None:
    """Why ``value`` cannot be sent as a ``kind`` credential (never quoting it), or None when it can.

    Parameters
    ----------
    value
        The credential (or a part of it).
    kind
        Where it goes.
    """
    pattern = _NOT_HEADER_TEXT if kind is CredentialKind.HEADER else _CONTROL
    found = pattern.search(value)
    if found is None:
        if kind is CredentialKind.BASIC_USERNAME and ":" in value:
            return f"holds ':', which would end the username (RFC 7617); {_EXPECTED[kind]}"
        return None
    return f"holds {_describe(found.group())}; {_EXPECTED[kind]}"


def check_credential(value: str, kind: CredentialKind) -> None:
    """Refuse ``value`` as a ``kind`` credential (a pydantic validator's way to report it).

    Raises
    ------
    ValueError
        With :func:`credential_problem`'s message.
    """
    problem = credential_problem(value, kind)
    if problem is not None:
        raise PromwatchValueError(problem)


def _describe(char: str) -> str:
    if char in "\r\n":
        return "a line break (CR or LF)"
    code = ord(char)
    if code < 0x20 or code == 0x7F:
        return f"a control character (U+{code:04X})"
    if 0xD800 <= code <= 0xDFFF:
        return "a lone surrogate code point"
    return "a non-ASCII character"
