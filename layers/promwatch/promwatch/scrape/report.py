"""What a scrape cycle did, per target and in total (returned by the handler and the CLI)."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from promwatch.discovery import DiscoveryFailure


@dataclass(slots=True)
class TargetReport:
    """One target's scrape.

    ``retryable`` marks failures of promwatch's own infrastructure (state store, sink) rather
    than of the target, and targets the cycle had no time left for: a fan-out batch holding
    such a target is reported as a batch item failure so SQS delivers it again. ``busy``: another
    invocation held the target's claim, and published it. ``skipped``: why the target was not
    scraped at all (``deadline``). ``undelivered``: its documents could not be delivered (its
    baselines were left as they were: the next scrape covers the interval).
    """

    job: str
    instance: str
    url: str
    up: bool = False
    error: str | None = None
    refused: bool = False
    retryable: bool = False
    busy: bool = False
    skipped: str | None = None
    undelivered: bool = False
    commit_failed: bool = False
    """Published, but the baselines could not be saved (the next scrape counts the interval again)."""
    release_failed: bool = False
    """Its claim could not be given back: it lapses at this cycle's deadline (until then other
    invocations leave the target alone)."""
    duration_seconds: float = 0.0
    samples_scraped: int = 0
    samples_post_metric_relabeling: int = 0
    parse_errors: int = 0
    documents: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    active_series: int | None = None
    """With a series budget (``max_series``): the series this scrape published (admitted)."""

    @property
    def key(self) -> str:
        """The target key (``job|url``)."""
        return f"{self.job}|{self.url}"


@dataclass(slots=True)
class CycleReport:
    """A scrape cycle: every target's report and what went elsewhere.

    Attributes
    ----------
    targets
        Reports of the targets scraped by this invocation.
    dropped_targets
        Targets ``relabel_configs`` dropped (or left without an address), per job.
    fanned_out_targets, fanout_messages
        Targets sent to the fan-out queue for other invocations, and in how many messages.
    fanout_failed_targets
        Targets that could not be sent (they were not scraped).
    unknown_targets
        Keys a fan-out batch named that the config no longer has.
    documents
        EMF documents written (data and self-metrics).
    undelivered_documents
        Documents the sinks could not deliver.
    discovery_failures
        Discoveries that failed this cycle (their last good list, if any, was used).
    undelivered_otlp_requests
        OTLP requests the endpoint never accepted (their targets' start times were kept).
    otlp_rejected_points
        OTLP data points the endpoint rejected (partial success).
    otlp_too_large_points
        OTLP data points not sent: larger than a whole request on their own.
    """

    targets: list[TargetReport] = field(default_factory=list)
    dropped_targets: dict[str, int] = field(default_factory=dict)
    fanned_out_targets: int = 0
    fanout_messages: int = 0
    fanout_failed_targets: int = 0
    unknown_targets: list[str] = field(default_factory=list)
    documents: int = 0
    undelivered_documents: int = 0
    discovery_failures: list[DiscoveryFailure] = field(default_factory=list)
    undelivered_otlp_requests: int = 0
    otlp_rejected_points: int = 0
    otlp_too_large_points: int = 0

    @property
    def up(self) -> int:
        """Targets that answered."""
        return sum(1 for t in self.targets if t.up)

    @property
    def down(self) -> int:
        """Targets that did not (refused ones included)."""
        return sum(1 for t in self.targets if not t.up)

    def dropped_samples(self) -> dict[str, int]:
        """Dropped samples per reason, over every target."""
        total: Counter[str] = Counter()
        for target in self.targets:
            total.update(target.dropped)
        return dict(total)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the handler's return value)."""
        return {
            "targets": len(self.targets),
            "up": self.up,
            "down": self.down,
            "documents": self.documents,
            "fanned_out_targets": self.fanned_out_targets,
            "fanout_messages": self.fanout_messages,
            "fanout_failed_targets": self.fanout_failed_targets,
            "unknown_targets": list(self.unknown_targets),
            "undelivered_documents": self.undelivered_documents,
            **({"undelivered_otlp_requests": self.undelivered_otlp_requests,
                "otlp_rejected_points": self.otlp_rejected_points,
                "otlp_too_large_points": self.otlp_too_large_points}
               if self.undelivered_otlp_requests or self.otlp_rejected_points or self.otlp_too_large_points
               else {}),
            "discovery_failures": [asdict(f) for f in self.discovery_failures],
            "dropped_targets": dict(self.dropped_targets),
            "dropped_samples": self.dropped_samples(),
            "target_reports": [asdict(t) for t in self.targets],
        }
