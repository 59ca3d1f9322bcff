"""CloudWatch Logs names: what CreateLogGroup and CreateLogStream accept, checked where a config
names them (``emf.output``, ``output``), so a bad name is a config error naming it rather than a
delivery that fails every cycle."""
from __future__ import annotations

import re

from promwatch.errors import PromwatchValueError
from promwatch.limits import LOGS_GROUP_NAME_MAX_CHARS, LOGS_STREAM_NAME_MAX_CHARS

__all__ = ["check_log_group_name", "check_log_stream_name"]

_GROUP = re.compile(r"[\w\-/.#]+", re.ASCII)


def check_log_group_name(name: str | None) -> str | None:
    """``name`` when CloudWatch Logs accepts it as a log group name (None passes).

    Raises
    ------
    ValueError
        Naming the value and what is expected.
    """
    if name is not None and (not 0 < len(name) <= LOGS_GROUP_NAME_MAX_CHARS or not _GROUP.fullmatch(name)):
        raise PromwatchValueError(f"log_group_name {name!r} is not a CloudWatch Logs group name; expected 1-"
                         f"{LOGS_GROUP_NAME_MAX_CHARS} characters of a-z, A-Z, 0-9, '_', '-', '/', '.', '#'")
    return name


def check_log_stream_name(name: str | None) -> str | None:
    """``name`` when CloudWatch Logs accepts it as a log stream name (None passes).

    Raises
    ------
    ValueError
        Naming the value and what is expected.
    """
    if name is not None and (not 0 < len(name) <= LOGS_STREAM_NAME_MAX_CHARS or ":" in name or "*" in name
                             or any(c < " " for c in name)):
        raise PromwatchValueError(f"log_stream_name {name!r} is not a CloudWatch Logs stream name; expected 1-"
                         f"{LOGS_STREAM_NAME_MAX_CHARS} characters without ':', '*' or control characters")
    return name
