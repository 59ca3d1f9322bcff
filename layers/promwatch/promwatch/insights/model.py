"""Container Insights performance log events, both layouts that reach the log group.

The CloudWatch agent writes ``"Version": "0"`` events: a top-level ``CloudWatchMetrics`` array
(not always present) and ``Timestamp`` as a string of epoch milliseconds. ADOT's
awsemfexporter writes ``"Version": "1"`` events: the EMF ``_aws`` block holds the Timestamp
(an integer) and the directives, and a top-level ``Timestamp`` may or may not be repeated.
Neither layout's metric directives are relied upon: metric values are read from the event's
own fields, which both layouts carry at the top level.

Every ``Type`` is accepted (Cluster, ClusterNamespace, ClusterService, Node, NodeFS,
NodeDiskIO, NodeNet, Pod, PodNet, Container, ContainerFS, the enhanced-observability GPU,
Neuron, EFA types, and whatever comes next); rules pick the types they want.

Notes on names: ``PodName`` is the *workload* name Container Insights reports (the owner's
name), the pod's own name is ``kubernetes.pod_name``, and the owner is
``kubernetes.pod_owners[0]``.
"""
from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from promwatch.insights.errors import EventValueError, InsightsError

__all__ = [
    "EmfBlock",
    "Kubernetes",
    "MalformedEventError",
    "PerformanceEvent",
    "PodOwner",
    "parse_event",
    "workload_of",
]

# Kubernetes builds pod-template-hash and generated-name suffixes from this alphabet
# (k8s.io/apimachinery/pkg/util/rand: no vowels, no 0/1/3 to avoid words and look-alikes).
_TEMPLATE_HASH = re.compile(r"^(?P<base>.+)-[bcdfghjklmnpqrstvwxz2456789]{5,10}$")
# A CronJob names its Jobs "<cronjob>-<scheduled time in minutes since the epoch>".
_CRONJOB_SUFFIX = re.compile(r"^(?P<base>.+)-\d{8,}$")


class MalformedEventError(InsightsError):
    """A log event is not a usable performance event; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PodOwner(BaseModel):
    """One entry of ``kubernetes.pod_owners``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    owner_kind: str
    owner_name: str


class Kubernetes(BaseModel):
    """The ``kubernetes`` block: pod identity, labels and owners (when the Type has them)."""

    model_config = ConfigDict(extra="allow")

    host: str | None = None
    namespace_name: str | None = None
    pod_name: str | None = None
    pod_id: str | None = None
    container_name: str | None = None
    service_name: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    pod_owners: list[PodOwner] = Field(default_factory=list)


class EmfBlock(BaseModel):
    """The ``_aws`` block of a Version "1" (ADOT) event; only the Timestamp is used."""

    model_config = ConfigDict(extra="allow")

    Timestamp: int


class PerformanceEvent(BaseModel):
    """One performance log event of either layout.

    Metric values and plain string fields (``ClusterName``, ``Namespace``, ``PodName``,
    ``NodeName``, ``pod_cpu_usage_total``, ...) stay in :attr:`fields` (pydantic's extras) as
    the JSON gave them; :meth:`number` reads a metric value and :meth:`text` a string.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str = Field(alias="Type", min_length=1)
    timestamp_ms: int = Field(default=None, alias="Timestamp", validate_default=False)  # type: ignore[assignment]
    version: str | None = Field(default=None, alias="Version")
    kubernetes: Kubernetes | None = None
    aws: EmfBlock | None = Field(default=None, alias="_aws")

    @model_validator(mode="after")
    def _timestamp_from_either_layout(self) -> PerformanceEvent:
        if self.timestamp_ms is None:
            if self.aws is None:
                raise EventValueError("no Timestamp: expected a top-level Timestamp or _aws.Timestamp (epoch ms)")
            self.timestamp_ms = self.aws.Timestamp
        if self.timestamp_ms < 0:
            raise EventValueError(f"Timestamp {self.timestamp_ms} is negative; expected epoch milliseconds")
        return self

    @property
    def fields(self) -> dict[str, Any]:
        """The event's other top-level members (metric values, names), as parsed."""
        return self.__pydantic_extra__ or {}

    def number(self, name: str) -> float | None:
        """The numeric field ``name``, or None when absent or not a number (bools excluded)."""
        value = self.fields.get(name)
        if type(value) is float or type(value) is int:
            return value
        return None

    def text(self, name: str) -> str | None:
        """The string field ``name`` (``Type``/``Version`` included), or None when absent."""
        if name == "Type":
            return self.type
        if name == "Version":
            return self.version
        value = self.fields.get(name)
        return value if isinstance(value, str) and value else None


def workload_of(kubernetes: Kubernetes | None) -> str | None:
    """``"<owner kind>/<owner name>"`` of the pod, resolved to the controller users name.

    Container Insights usually reports a Deployment's pods with owner ``Deployment/<name>``
    already; when it reports the ReplicaSet instead (``ReplicaSet/web-7d9f8c6b5``), the
    pod-template-hash suffix is stripped to give ``Deployment/web`` (the exact hash from the
    ``pod-template-hash`` label when present, else a suffix of Kubernetes' generated-name
    alphabet). A Job named ``<cronjob>-<minutes>`` resolves to ``CronJob/<cronjob>``. Pods
    without owners have no workload (None): rules grouping by ``workload`` skip them unless
    the rule sets ``missing_value``.
    """
    if kubernetes is None or not kubernetes.pod_owners:
        return None
    owner = kubernetes.pod_owners[0]
    kind, name = owner.owner_kind, owner.owner_name
    if kind == "ReplicaSet":
        template_hash = kubernetes.labels.get("pod-template-hash")
        if template_hash and name.endswith("-" + template_hash):
            return f"Deployment/{name[: -len(template_hash) - 1]}"
        match = _TEMPLATE_HASH.match(name)
        if match:
            return f"Deployment/{match['base']}"
    elif kind == "Job":
        match = _CRONJOB_SUFFIX.match(name)
        if match:
            return f"CronJob/{match['base']}"
    return f"{kind}/{name}"


def _reason(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "event"
    return f"{where}: {first['msg']}"


def parse_event(message: str | bytes | dict[str, Any]) -> PerformanceEvent:
    """Parse one log event's message (JSON text, or an already-decoded object).

    Raises
    ------
    MalformedEventError
        When the message is not JSON, lacks ``Type`` or a timestamp, or has fields of the
        wrong type; ``reason`` names the field and the problem.
    """
    try:
        if isinstance(message, dict):
            return PerformanceEvent.model_validate(message)
        return PerformanceEvent.model_validate_json(message)
    except ValidationError as error:
        raise MalformedEventError(_reason(error)) from None
