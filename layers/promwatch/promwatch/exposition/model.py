"""Values the parsers produce: small, immutable, cheap to build."""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

FAMILY_TYPES = (
    "counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown",
)
"""Family types. The text format's ``untyped`` is reported as ``unknown``, as OpenMetrics names it."""


class Exemplar(NamedTuple):
    """An OpenMetrics exemplar attached to a sample (``# {trace_id="..."} 0.5 1.7e9``)."""

    labels: Mapping[str, str]
    value: float
    timestamp: float | None = None
    """Seconds since the epoch, or None."""


class Sample(NamedTuple):
    """One sample line.

    ``labels`` must be treated as read-only: the parser may share one mapping between the
    samples of successive scrapes of the same series.
    """

    name: str
    labels: Mapping[str, str]
    value: float
    timestamp: float | None = None
    """Seconds since the epoch (the text format's milliseconds are converted), or None."""
    exemplar: Exemplar | None = None


class Family(NamedTuple):
    """A metric family: its metadata and its samples, in exposition order."""

    name: str
    type: str
    help: str
    unit: str
    samples: list[Sample]
