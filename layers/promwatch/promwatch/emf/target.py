"""Inputs and output of :func:`promwatch.emf.translate` besides the families themselves."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from promwatch.state.model import TargetBaselines


class TargetInfo(NamedTuple):
    """The scraped target.

    Attributes
    ----------
    job
        The job name (``job`` label, and the default namespace).
    instance
        The ``instance`` label (``host:port`` after relabelling).
    labels
        Target labels after ``relabel_configs`` (may include job and instance). They are
        added to every series that lacks them (a series' own label wins: the scrape side
        has already applied ``honor_labels``), and they label ``up`` and the other scrape
        metrics.
    honor_timestamps
        Use the timestamps the target exposes as EMF Timestamps (Prometheus' option).
    scrape_interval_seconds
        The job's interval; with ``_created`` it lets the first scrape of a target count a
        counter created less than one interval ago (a freshly started pod) from zero.
    """

    job: str
    instance: str
    labels: Mapping[str, str] = MappingProxyType({})  # read-only: every default instance shares it
    honor_timestamps: bool = False
    scrape_interval_seconds: float | None = None


class ScrapeStats(NamedTuple):
    """What the scrape itself measured, for Prometheus' per-target metrics."""

    up: bool
    duration_seconds: float
    samples_scraped: int = 0
    samples_post_metric_relabeling: int = 0


class Drop(NamedTuple):
    """A sample that did not become a metric, and why.

    ``reason`` is one of :data:`DROP_REASONS`.
    """

    reason: str
    name: str
    labels: Mapping[str, str]
    detail: str = ""


DROP_REASONS = (
    "non_finite",            # NaN or +-Inf value: EMF cannot carry it
    "timestamp_too_old",     # honor_timestamps and more than 14 days old
    "timestamp_in_future",   # honor_timestamps and more than 2 hours ahead
    "invalid_dimension",     # a label value blank or longer than 1024 characters after escaping, or a label name
                             # CloudWatch refuses as a dimension (non-ASCII, control character, blank, ...)
    "invalid_metric_name",   # a metric name with an ASCII control character, blank, or over 1024 characters
    "duplicate_series",      # the same series twice in one exposition
    "not_declared",          # metric_declarations are set and none selects the series
    "too_large",             # cannot fit one 256 KiB EMF event even alone
    "malformed",             # e.g. a histogram bucket without a numeric ``le``
)
"""Every reason :class:`Drop` can carry."""


@dataclass(slots=True)
class Translation:
    """What :func:`promwatch.emf.translate` returns.

    Attributes
    ----------
    documents
        EMF documents, each valid by the spec; :func:`promwatch.emf.serialize` each one.
    baselines
        The baselines to store for the next scrape; None when there is nothing to store (the
        target was down on its first scrape). When the target was down it is ``previous``
        unchanged.
    dropped
        Every sample that did not become a metric, with its reason.
    scrape_documents
        How many of ``documents``, the first ones, carry the scrape's own metrics (``up``,
        ``scrape_duration_seconds``, ...); the rest carry the target's series.
    """

    documents: list[dict[str, Any]]
    baselines: TargetBaselines | None
    dropped: list[Drop] = field(default_factory=list)
    scrape_documents: int = 0

    def drop_counts(self) -> dict[str, int]:
        """Dropped samples per reason (for the log line and the ``DroppedSamples`` self-metric)."""
        return dict(Counter(d.reason for d in self.dropped))
