"""The collector's ``${...}`` expansion of its configuration, as a pure function.

The OpenTelemetry Collector resolves ``${env:NAME}``, ``${env:NAME:-default}`` and ``${NAME}``
(the env provider is the default scheme) in every string value; ``$$`` is a literal ``$``
(Prometheus relabel replacements are written ``$$1``); an unset variable becomes the empty
string. A value that is one reference and nothing else takes the type its text reads as in
YAML (``${env:PORT}`` with ``PORT=3000`` is the integer 3000). Other schemes (``file:``,
``http:``, ``yaml:``) read outside the file: they are left as written and reported.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from promwatch_tools.importers.findings import Finding

_REFERENCE = re.compile(r"\$\$|\$\{([^{}]*)\}")
_ENV_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def expand(data: Any, environ: Mapping[str, str], path: str = "") -> tuple[Any, list[Finding]]:
    """``data`` with the collector's references resolved from ``environ``, and what was not.

    Parameters
    ----------
    data
        The collector configuration as loaded from YAML.
    environ
        The environment the collector would have run with.
    path
        The key path of ``data`` in the file, for findings.
    """
    findings: list[Finding] = []
    return _walk(data, environ, path, findings), findings


def _walk(node: Any, environ: Mapping[str, str], path: str, findings: list[Finding]) -> Any:
    if isinstance(node, dict):
        return {key: _walk(value, environ, f"{path}.{key}" if path else str(key), findings)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(value, environ, f"{path}[{index}]", findings) for index, value in enumerate(node)]
    if isinstance(node, str) and "$" in node:
        return _expand_text(node, environ, path, findings)
    return node


def _expand_text(text: str, environ: Mapping[str, str], path: str, findings: list[Finding]) -> Any:
    whole = _REFERENCE.fullmatch(text)
    out = _REFERENCE.sub(lambda m: _resolve(m, environ, path, findings), text)
    if whole is not None and whole.group(0) != "$$":
        try:
            typed = yaml.safe_load(out) if out else ""
        except yaml.YAMLError:
            return out
        return typed if isinstance(typed, str | int | float | bool) else out
    return out


def _resolve(match: re.Match[str], environ: Mapping[str, str], path: str, findings: list[Finding]) -> str:
    if match.group(0) == "$$":
        return "$"
    body = match.group(1)
    scheme, colon, rest = body.partition(":")
    if not colon:
        scheme, rest = "env", body
    if scheme != "env":
        findings.append(Finding(path, f"{match.group(0)} reads from the {scheme!r} provider, which an import cannot "
                                      "resolve: left as written; replace it by its value"))
        return match.group(0)
    name, _, default = rest.partition(":-")
    if not _ENV_NAME.fullmatch(name):
        findings.append(Finding(path, f"{match.group(0)}: {name!r} is not an environment variable name: left as written"))
        return match.group(0)
    if name in environ:
        return environ[name]
    if ":-" in rest:
        findings.append(Finding(path, f"{match.group(0)}: {name} is not set here: its default {default!r} is used, "
                                      "as the collector would"))
        return default
    findings.append(Finding(path, f"{match.group(0)}: {name} is not set here: replaced by the empty string, as the "
                                  "collector would; set it, or write the value"))
    return ""
