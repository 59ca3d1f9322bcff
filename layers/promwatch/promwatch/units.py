"""Prometheus duration (``1m30s``) and size (``10MB``) syntax, and the config value types built on them."""
from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from promwatch.errors import PromwatchValueError
from promwatch.text import shown

MAX_DURATION_SECONDS = (2**63 - 1) / 1e9
"""The longest duration Prometheus reads (an int64 of nanoseconds, about 292 years)."""
MAX_SIZE_BYTES = 2**63 - 1
"""The largest size Prometheus reads (units.Base2Bytes is an int64)."""
_MAX_DIGITS = 20  # more digits than any value in range has; stops int() on huge digit strings

_DURATION = re.compile(
    "(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?"
)
_DURATION_UNIT_MILLIS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)
"""Milliseconds in each unit, in the order of ``_DURATION``'s groups (y w d h m s ms)."""
MAX_DURATION_MILLIS = (2**63 - 1) // 1_000_000
"""The longest duration Prometheus reads, in whole milliseconds."""
# Prometheus sizes (units.Base2Bytes): KB/MB/... are powers of 1024.
_SIZE = re.compile(r"^(?P<n>\d+)(?P<unit>B|KB|MB|GB|TB|PB|EB|KiB|MiB|GiB|TiB|PiB|EiB)?$")
_SIZE_EXP = {"B": 0, "KB": 1, "MB": 2, "GB": 3, "TB": 4, "PB": 5, "EB": 6}


def duration_millis(text: str) -> int | None:
    """Milliseconds in a Prometheus duration such as ``1h30m`` or ``500ms``, or None when ``text``
    is not one: units y, w, d, h, m, s, ms, each at most once and in that order, ASCII digits.

    The one grammar of durations (configuration and PromQL). ``0`` alone is not one here (a
    configuration takes it, PromQL reads it as a number); the range is the caller's to check
    against :data:`MAX_DURATION_MILLIS` (a count too long to read comes back beyond it).
    """
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        return None
    counts = match.groups()
    if any(count is not None and len(count) > _MAX_DIGITS for count in counts):
        return MAX_DURATION_MILLIS + 1
    return sum(int(count) * unit for count, unit in zip(counts, _DURATION_UNIT_MILLIS, strict=True) if count)


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration such as ``15s``, ``1m30s``, ``500ms`` or ``0``.

    Parameters
    ----------
    text
        Units y, w, d, h, m, s, ms, each at most once and in that order (:func:`duration_millis`).

    Raises
    ------
    ValueError
        When ``text`` is not in that syntax, or longer than Prometheus allows (about 292 years);
        pydantic turns it into a validation error.
    """
    if text == "0":
        return 0.0
    millis = duration_millis(text)
    if millis is None:
        raise PromwatchValueError(f"{_shown(text)} is not a duration; expected e.g. 15s, 1m, 1h30m, 500ms")
    if millis > MAX_DURATION_MILLIS:
        raise _out_of_range(text)
    return millis / 1000


def duration_seconds(value: object) -> float:
    """Seconds in a config duration: Prometheus syntax, or a number of seconds.

    Raises
    ------
    ValueError
        For anything else: a negative, infinite or NaN number, a boolean, a list.
    """
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if (isinstance(value, float) and not math.isfinite(value)) or value < 0:
            raise PromwatchValueError(f"{value!r} is not a duration; expected e.g. 15s, 1m (or a number of seconds >= 0)")
        if value > MAX_DURATION_SECONDS:  # an integer beyond any float too (math.isfinite would overflow)
            raise _out_of_range(value)
        return float(value)
    raise PromwatchValueError(f"{type(value).__name__} is not a duration; expected e.g. 15s, 1m, 1h30m, 500ms")


def _out_of_range(value: object) -> PromwatchValueError:
    return PromwatchValueError(f"{_shown(value)} is out of range; expected a duration of at most 292y (as Prometheus)")


def _shown(value: object) -> str:
    return shown(value, 40)


def format_duration(seconds: float) -> str:
    """The shortest Prometheus duration for ``seconds`` (``90.0`` -> ``1m30s``)."""
    millis = round(seconds * 1000)
    if millis == 0:
        return "0s"
    out = []
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, millis = divmod(millis, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def parse_size(text: object) -> int:
    """Bytes in a Prometheus size such as ``10MB`` (= 10 MiB), ``512KB`` or ``0`` (or a number of bytes).

    Raises
    ------
    ValueError
        When ``text`` is not a size, is negative or beyond Prometheus' largest (an int64).
    """
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise PromwatchValueError(f"{text!r} is negative; expected a size >= 0")
        size = text
    elif isinstance(text, str):
        match = _SIZE.match(text.strip())
        if match is None:
            raise PromwatchValueError(f"{_shown(text)} is not a size; expected e.g. 0, 512KB, 10MB, 1GB")
        if len(match["n"]) > _MAX_DIGITS:
            size = MAX_SIZE_BYTES + 1
        else:
            size = int(match["n"]) * 1024 ** _SIZE_EXP[(match["unit"] or "B").replace("iB", "B")]
    else:
        raise PromwatchValueError(f"{_shown(text)} is not a size; expected e.g. 0, 512KB, 10MB, 1GB (or a whole number of bytes)")
    if size > MAX_SIZE_BYTES:
        raise PromwatchValueError(f"{_shown(text)} is out of range; expected a size below 8EB (as Prometheus)")
    return size


def _positive(seconds: float) -> float:
    if seconds <= 0:
        raise PromwatchValueError("must be greater than 0; expected e.g. 15s (leave the key out for the default)")
    return seconds


def _whole_number(value: Any) -> Any:
    if isinstance(value, bool):
        raise PromwatchValueError("is not a whole number; expected a limit >= 0 (0 means no limit)")
    return value


MAX_LIMIT = 2**64 - 1
"""The largest count limit Prometheus reads (a uint64)."""
PositiveDuration = Annotated[float, BeforeValidator(duration_seconds), AfterValidator(_positive)]
"""Seconds, written as a Prometheus duration, greater than 0 (a scrape interval or timeout)."""
ByteSize = Annotated[int, BeforeValidator(parse_size)]
"""Bytes, written as a Prometheus size (``10MB``); 0 means no limit."""
Limit = Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=MAX_LIMIT)]
"""A count limit; 0 means no limit."""
