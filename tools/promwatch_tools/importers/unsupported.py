"""Keys deeper in a carried job that promwatch's models do not have (a discovery's or a TLS
setting's): left out of the import and named, instead of failing the whole import."""
from __future__ import annotations

from typing import Any

from promwatch.scrape.config import ScrapeConfig
from pydantic import ValidationError

from promwatch_tools.importers.findings import Finding

_MAX_ROUNDS = 20
"""Validation rounds (each removes every unknown key it finds; a removal can uncover more
only below a union, so a few rounds settle any real config)."""


def drop_unsupported_keys(config: dict[str, Any], findings: list[Finding]) -> None:
    """Remove from ``config`` (in place) every key the scrape config models forbid, each named
    in ``findings`` by its path in the imported config; other errors are left for the loader."""
    for _ in range(_MAX_ROUNDS):
        try:
            ScrapeConfig.model_validate(config)
            return
        except ValidationError as exc:
            errors = [e for e in exc.errors(include_url=False) if e["type"] == "extra_forbidden"]
        removed = False
        for error in errors:
            parent, path = _parent(config, error["loc"][:-1])
            key = error["loc"][-1]
            if isinstance(parent, dict) and key in parent:
                del parent[key]
                removed = True
                findings.append(Finding(f"{path}.{key}" if path else str(key), _message(config, error["loc"])))
        if not removed:
            return


def _parent(data: Any, loc: tuple[Any, ...]) -> tuple[Any, str]:
    """The node at ``loc`` in ``data`` and its path, skipping the union member names pydantic
    puts in locations (a part that is not a key or index of the data at that point)."""
    node, path = data, ""
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            path = f"{path}.{part}" if path else str(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path = f"{path}[{part}]"
    return node, path


def _message(config: dict[str, Any], loc: tuple[Any, ...]) -> str:
    job = ""
    if len(loc) > 1 and loc[0] == "scrape_configs" and isinstance(loc[1], int):
        jobs = config.get("scrape_configs")
        if isinstance(jobs, list) and loc[1] < len(jobs) and isinstance(jobs[loc[1]], dict):
            job = f"job {jobs[loc[1]].get('job_name')!r}: "
    return f"{job}not a setting promwatch reads here: not carried over"
