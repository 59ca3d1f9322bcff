"""Prometheus (Go RE2) regular expressions and ``$1``/``${name}`` templates, in Python.

Prometheus anchors every relabelling regex as ``^(?s:<regex>)$``; :func:`compile_anchored`
does the same with ``fullmatch``. The few RE2 spellings Python lacks (``(?<name>...)``,
POSIX classes like ``[[:alpha:]]``) are rewritten; anything else Python cannot compile is
reported as invalid.
"""
from __future__ import annotations

import re

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7F", "blank": "\\t ",
    "cntrl": "\\x00-\\x1F\\x7F", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z",
    "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}
_POSIX = re.compile(r"\[:(\^?)(" + "|".join(_POSIX_CLASSES) + r"):\]")
_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")
_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_]+")
_LEADING_FLAGS = re.compile(r"^\(\?([ims]+)\)")


def _to_python(pattern: str) -> str:
    # RE2 takes ``(?i)`` anywhere; Python only at the very start. Wrapped as we wrap every
    # pattern, a leading one becomes the scoped form ``(?i:...)``, which both agree on.
    flags = _LEADING_FLAGS.match(pattern)
    if flags:
        pattern = f"(?{flags[1]}:{pattern[flags.end():]})"
    pattern = _NAMED_GROUP.sub("(?P<", pattern)

    def posix(match: re.Match[str]) -> str:
        if match[1]:
            raise re.error(f"negated POSIX class [:^{match[2]}:] is not supported")
        return _POSIX_CLASSES[match[2]]

    return _POSIX.sub(posix, pattern)


def compile_anchored(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` to match whole strings only, as Prometheus does.

    Raises
    ------
    re.error
        When the pattern is not a valid regular expression.
    """
    return re.compile(f"(?s:{_to_python(pattern)})")


def expand(template: str, match: re.Match[str]) -> str:
    """Expand ``$1``, ``${1}``, ``$name``, ``${name}`` and ``$$`` like Go's ``Regexp.Expand``.

    A reference to a group that does not exist (or did not take part in the match) expands to
    the empty string; ``$name`` takes the longest run of letters, digits and underscores
    (``$1x`` is the group named ``1x``, not group 1 then ``x``); a malformed ``$`` stays a
    literal ``$``.
    """
    if "$" not in template:
        return template
    out: list[str] = []
    i, n = 0, len(template)
    while i < n:
        dollar = template.find("$", i)
        if dollar < 0:
            out.append(template[i:])
            break
        out.append(template[i:dollar])
        i = dollar + 1
        if i < n and template[i] == "$":
            out.append("$")
            i += 1
            continue
        name: str | None = None
        if i < n and template[i] == "{":
            close = template.find("}", i + 1)
            candidate = template[i + 1 : close] if close > 0 else ""
            if candidate and _TEMPLATE_NAME.fullmatch(candidate):
                name, i = candidate, close + 1
        else:
            found = _TEMPLATE_NAME.match(template, i)
            if found:
                name, i = found[0], found.end()
        if name is None:
            out.append("$")
            continue
        out.append(_group(match, name))
    return "".join(out)


def _group(match: re.Match[str], name: str) -> str:
    if name.isdigit():
        index = int(name)
        if index > (match.re.groups):
            return ""
        return match.group(index) or ""
    if name in match.re.groupindex:
        return match.group(name) or ""
    return ""
