"""Does a rule's label or annotation template parse as Prometheus parses it (Go text/template
with Prometheus' functions)? Pure; the checks promtool's parse makes: actions closed, control
structures (``if``/``range``/``with``/``define``/``block`` ... ``end``) balanced, variables
defined, functions known.
"""
from __future__ import annotations

import re

__all__ = ["FUNCTIONS", "TEMPLATE_VARIABLES", "template_problem"]

TEMPLATE_VARIABLES = frozenset({"$", "$labels", "$value", "$externalLabels", "$externalURL"})
"""What Prometheus defines before expanding a rule's templates (``$`` is the data)."""
FUNCTIONS = frozenset({
    # Go text/template's builtins
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery",
    "eq", "ge", "gt", "le", "lt", "ne",
    # Prometheus' template functions
    "query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match", "title",
    "toUpper", "toLower", "graphLink", "tableLink", "sortByLabel", "humanize", "humanize1024", "humanizeDuration",
    "humanizePercentage", "humanizeTimestamp", "toTime", "pathPrefix", "externalURL", "parseDuration",
    "stripPort", "stripDomain",
})
_KEYWORDS = frozenset({"if", "else", "end", "range", "with", "define", "template", "block", "nil", "true", "false",
                       "break", "continue"})
_OPENS = frozenset({"if", "range", "with", "define", "block"})
_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|\'(?:[^\'\\]|\\.)*\'')
_WORD = re.compile(r"[$.]?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|\$")
_NUMBER = re.compile(r"(?<![\w$.])[-+]?\d[\w.+-]*")
_DEFINED = re.compile(r"(\$[A-Za-z0-9_]+)\s*(?::=|=|,)")


def template_problem(text: str) -> str | None:
    """Why ``text`` would not parse as a rule template, or None when it parses."""
    actions = _ACTION.findall(text)
    if text.count("{{") != len(actions):
        return "a '{{' action is not closed with '}}'"
    depth = 0
    defined = set(TEMPLATE_VARIABLES)
    for raw in actions:
        action = raw.strip()
        if action.startswith("/*"):
            continue
        action = _NUMBER.sub(" ", _STRINGS.sub(" ", action.removeprefix("-").removesuffix("-")))
        defined |= set(_DEFINED.findall(action))
        words = _WORD.findall(action)
        first = words[0] if words else ""
        depth += first in _OPENS
        if first == "end":
            depth -= 1
            if depth < 0:
                return "unexpected {{end}}"
        for word in words:
            if word.startswith("$"):
                variable = word.split(".")[0]
                if variable not in defined:
                    return f"undefined variable {variable!r}; expected one of {', '.join(sorted(defined))}"
            elif not word.startswith(".") and word not in _KEYWORDS and word not in FUNCTIONS:
                return f"function {word!r} not defined"
    if depth:
        return "an if/range/with has no {{end}}"
    return None
