"""Regular expressions from configuration, matched by RE2: Go's syntax, time linear in the text.

Every pattern a config supplies (``relabel_configs``, ``metric_relabel_configs``, the ``emf``
section's selectors, matchers and name rules) is matched against what targets expose. A
backtracking engine lets one pattern such as ``(a+)+b`` stall a scrape for seconds on a crafted
26-character value; RE2 cannot backtrack, and it accepts the syntax Prometheus and the
awsemfexporter (Go's ``regexp``) accept: named groups ``(?P<n>..)`` and ``(?<n>..)``, POSIX
classes, flags anywhere (``x(?i)y``), ``\\pL`` classes; no lookaround, no backreferences.

Three ways to compile a pattern, each cached by pattern so that a reloaded config keeps the
memoised results, each raising :class:`RegexError` when RE2 (Go's syntax) does not accept it:

* :func:`relabel_regex`: Prometheus' relabelling, ``^(?s:<regex>)$`` searched as Go's
  ``MatchString`` does (so a pattern the anchors do not enclose, ``a)|(b``, behaves as there);
* :func:`search_regex`: the awsemfexporter's selectors and matchers, unanchored;
* :func:`whole_regex`: promwatch's own name rules, matched against the whole text.

google-re2 is the C++ RE2, which Go's ``regexp`` mirrors; where the two differ, this module
takes Go's side: ``\\C`` (any byte) and capture names beyond ``[A-Za-z0-9_]`` are refused.
Differences left: with two groups of one name, ``${name}`` is always the leftmost (Go takes
the leftmost that matched); Unicode tables follow each library's release; a huge pattern is
refused past RE2's 8 MiB program budget rather than Go's size limit.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from re2 import _re2  # RE2 itself: the ``re2`` module's re-like wrapper costs 1-4 us a call

from promwatch.errors import PromwatchValueError

__all__ = [
    "MATCH_CACHE_SIZE",
    "Regex",
    "RegexError",
    "Template",
    "memoise",
    "relabel_regex",
    "search_regex",
    "whole_regex",
]

MATCH_CACHE_SIZE = 65_536
"""Results kept per memo (texts a regex was tried on, inputs a relabelling rule saw) before it
starts over. Label names and metric names repeat on every scrape, label values mostly do."""

_COMPILED_CACHE_SIZE = 1024
"""Patterns each compiling function remembers (module-level by design: a compiled regex is a pure
function of its pattern, not warm state)."""
_ANCHOR = _re2.RE2.Anchor
_NOT_RE2 = "expected RE2 syntax, as in Prometheus (no lookaround, no backreferences)"
_K = TypeVar("_K")
_V = TypeVar("_V")


class RegexError(PromwatchValueError):
    """A pattern that RE2 (Go's ``regexp`` syntax) does not accept.

    It is a ``ValueError`` so that a pydantic validator raising it reports it under the key path.
    """


def memoise(memo: dict[_K, _V], key: _K, value: _V) -> _V:
    """Store ``value`` under ``key`` in a memo bounded by :data:`MATCH_CACHE_SIZE`; return it."""
    if len(memo) >= MATCH_CACHE_SIZE:
        memo.clear()
    memo[key] = value
    return value


def _options(*, capture: bool) -> Any:
    options = _re2.RE2.Options()
    options.log_errors = False  # RE2 would print every refused pattern on stderr
    options.never_capture = not capture  # a yes/no match then runs on the DFA alone
    return options


def _program(text: str, *, capture: bool) -> tuple[Any, str | None]:
    program = _re2.RE2(text.encode("utf-8", "surrogatepass"), _options(capture=capture))
    if program.ok():
        return program, None
    reason = program.error()
    return None, reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


def _byte_escape(pattern: str) -> bool:
    """Whether ``pattern`` uses ``\\C`` (RE2's any-byte escape, which Go does not have)."""
    i, n = 0, len(pattern)
    while i < n - 1:
        if pattern[i] != "\\":
            i += 1
        elif pattern[i + 1] == "Q":  # \Q...\E quotes: no escapes inside
            end = pattern.find("\\E", i + 2)
            i = n if end < 0 else end + 2
        elif pattern[i + 1] == "C":
            return True
        else:
            i += 2
    return False


def _is_go_capture_name(name: str) -> bool:
    return name.isascii() and name.replace("_", "a").isalnum()


class Regex:
    """A compiled pattern; :meth:`matches` answers are memoised per text.

    Attributes
    ----------
    pattern
        The pattern as configured.
    groups
        The number of capturing groups.
    groupindex
        Capture name -> group number.
    """

    __slots__ = ("_anchor", "_program", "_test", "_verdicts", "groupindex", "groups", "pattern")

    def __init__(self, pattern: str, compiled: str, anchor: Any) -> None:
        if _byte_escape(pattern):
            raise RegexError(f"invalid regular expression {pattern!r}: invalid escape sequence: \\C; {_NOT_RE2}")
        program, reason = _program(compiled, capture=True)
        if program is None:
            if compiled != pattern:  # name the configured text, not the anchored form, when it is at fault
                reason = _program(pattern, capture=True)[1] or reason
            raise RegexError(f"invalid regular expression {pattern!r}: {reason}; {_NOT_RE2}")
        groupindex = {
            (name.decode() if isinstance(name, bytes) else name): index
            for name, index in program.NamedCapturingGroups()
        }
        for name in groupindex:
            if not _is_go_capture_name(name):
                raise RegexError(
                    f"invalid regular expression {pattern!r}: invalid named capture {name!r}; "
                    "expected a name of letters A-Z a-z, digits and _"
                )
        self.pattern = pattern
        self.groups: int = program.NumberOfCapturingGroups()
        self.groupindex = groupindex
        self._program = program
        self._test = _program(compiled, capture=False)[0]
        self._anchor = anchor
        self._verdicts: dict[str, bool] = {}

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r})"

    def matches(self, text: str) -> bool:
        """Whether the pattern matches ``text`` (memoised)."""
        verdict = self._verdicts.get(text)
        if verdict is None:
            data = text.encode("utf-8", "surrogatepass")
            verdict = memoise(self._verdicts, text, self._test.Match(self._anchor, data, 0, len(data))[0][0] >= 0)
        return verdict

    def submatches(self, text: str) -> tuple[str | None, ...] | None:
        """The leftmost match's groups, 0 (the whole match) to :attr:`groups`, or None when
        there is no match; a group that took no part in the match is None."""
        data = text.encode("utf-8", "surrogatepass")
        return self._groups(text, data, self._program.Match(self._anchor, data, 0, len(data)))

    @staticmethod
    def _groups(text: str, data: bytes, spans: Sequence[tuple[int, int]]) -> tuple[str | None, ...] | None:
        if spans[0][0] < 0:
            return None
        if len(data) == len(text):  # ASCII: byte offsets are character offsets
            return tuple(None if start < 0 else text[start:end] for start, end in spans)
        return tuple(None if start < 0 else data[start:end].decode("utf-8", "surrogatepass") for start, end in spans)

    def replace_all(self, text: str, template: Template) -> str:
        """``text`` with every match replaced by ``template`` expanded, as Go's ``ReplaceAllString``."""
        data = text.encode("utf-8", "surrogatepass")
        out: list[str] = []
        end = len(data)
        last = pos = 0
        while pos <= end:
            spans = self._program.Match(_ANCHOR.UNANCHORED, data, pos, end)
            start, stop = spans[0]
            if start < 0:
                break
            out.append(data[last:start].decode("utf-8", "surrogatepass"))
            # No replacement for an empty match right after the previous match (Go's rule).
            if stop > last or start == 0:
                out.append(template.expand(self._groups(text, data, spans) or ()))
            last = stop
            width = 1  # advance by at least one character
            while pos + width < end and data[pos + width] & 0xC0 == 0x80:
                width += 1
            pos = pos + width if pos + width > stop else stop
        out.append(data[last:].decode("utf-8", "surrogatepass"))
        return "".join(out)


class Template:
    """A replacement template read once as Go's ``Regexp.Expand`` reads it, bound to a :class:`Regex`.

    ``$1``, ``${1}``, ``$name``, ``${name}`` are groups, ``$$`` is ``$``. ``$name`` takes the
    longest run of letters, digits and ``_`` (``$1x`` is the group named ``1x``); a number with a
    leading zero is a name; a group that does not exist or took no part expands to nothing; a
    malformed ``$`` stays a literal ``$``.
    """

    __slots__ = ("_parts", "text")

    def __init__(self, text: str, regex: Regex) -> None:
        self.text = text
        parts: list[str | int] = []
        i, n = 0, len(text)
        while i < n:
            dollar = text.find("$", i)
            if dollar < 0:
                parts.append(text[i:])
                break
            parts.append(text[i:dollar])
            i = dollar + 1
            if i < n and text[i] == "$":
                parts.append("$")
                i += 1
                continue
            name, i = _reference(text, i)
            if name is None:
                parts.append("$")
                continue
            index = _group_number(name, regex)
            if index is not None:
                parts.append(index)
        self._parts = tuple(part for part in parts if part != "")

    def expand(self, groups: Sequence[str | None]) -> str:
        """The template with ``groups`` (as :meth:`Regex.submatches` gives them) filled in."""
        return "".join(part if isinstance(part, str) else (groups[part] or "") for part in self._parts)


def _reference(text: str, i: int) -> tuple[str | None, int]:
    """The group name after a ``$`` at ``i - 1`` and where the template resumes (Go's ``extract``)."""
    brace = i < len(text) and text[i] == "{"
    start = end = i + 1 if brace else i
    while end < len(text) and (text[end] == "_" or text[end].isalpha() or text[end].isdecimal()):
        end += 1
    if end == start:
        return None, i
    if brace:
        if end >= len(text) or text[end] != "}":
            return None, i
        return text[start:end], end + 1
    return text[start:end], end


def _group_number(name: str, regex: Regex) -> int | None:
    if name.isascii() and name.isdigit() and not (name[0] == "0" and len(name) > 1):
        number = int(name)
        return number if number <= regex.groups else None
    return regex.groupindex.get(name)


@functools.lru_cache(maxsize=_COMPILED_CACHE_SIZE)
def relabel_regex(pattern: str) -> Regex:
    """A relabelling regex, anchored as Prometheus anchors it: ``^(?s:<pattern>)$`` (raises :class:`RegexError`)."""
    return Regex(pattern, f"^(?s:{pattern})$", _ANCHOR.UNANCHORED)


@functools.lru_cache(maxsize=_COMPILED_CACHE_SIZE)
def search_regex(pattern: str) -> Regex:
    """A regex that matches anywhere in the text, as Go's ``MatchString`` (raises :class:`RegexError`)."""
    return Regex(pattern, pattern, _ANCHOR.UNANCHORED)


@functools.lru_cache(maxsize=_COMPILED_CACHE_SIZE)
def whole_regex(pattern: str) -> Regex:
    """A regex that must match the whole text (raises :class:`RegexError`)."""
    return Regex(pattern, pattern, _ANCHOR.ANCHOR_BOTH)
