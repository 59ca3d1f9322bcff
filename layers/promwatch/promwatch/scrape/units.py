"""Prometheus duration (``1m30s``) and size (``10MB``) syntax."""
from __future__ import annotations

import re

_DURATION = re.compile(
    r"^(?:(?P<y>\d+)y)?(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?"
    r"(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?(?:(?P<ms>\d+)ms)?$"
)
_DURATION_UNITS = {
    "y": 365 * 86400.0, "w": 7 * 86400.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001,
}
# Prometheus sizes (units.Base2Bytes): KB/MB/... are powers of 1024.
_SIZE = re.compile(r"^(?P<n>\d+)(?P<unit>B|KB|MB|GB|TB|PB|EB|KiB|MiB|GiB|TiB|PiB|EiB)?$")
_SIZE_EXP = {"B": 0, "KB": 1, "MB": 2, "GB": 3, "TB": 4, "PB": 5, "EB": 6}


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration such as ``15s``, ``1m30s``, ``500ms`` or ``0``.

    Parameters
    ----------
    text
        Units y, w, d, h, m, s, ms, each at most once and in that order.

    Raises
    ------
    ValueError
        When ``text`` is not in that syntax (pydantic turns it into a validation error).
    """
    match = _DURATION.match(text)
    if text == "0":
        return 0.0
    if not text or match is None:
        raise ValueError(f"{text!r} is not a duration; expected e.g. 15s, 1m, 1h30m, 500ms")
    return sum(int(count) * _DURATION_UNITS[unit] for unit, count in match.groupdict().items() if count)


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
    """Bytes in a Prometheus size such as ``10MB`` (= 10 MiB), ``512KB`` or ``0``.

    Raises
    ------
    ValueError
        When ``text`` is not a size (any YAML value can arrive here: pydantic turns only
        ValueError into a validation error).
    """
    if isinstance(text, bool) or not isinstance(text, int | str):
        raise ValueError(f"{text!r} is not a size; expected e.g. 0, 512KB, 10MB, 1GB")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"{text!r} is negative; expected a size >= 0")
        return text
    match = _SIZE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a size; expected e.g. 0, 512KB, 10MB, 1GB")
    unit = (match["unit"] or "B").replace("iB", "B")
    return int(match["n"]) * 1024 ** _SIZE_EXP[unit]
