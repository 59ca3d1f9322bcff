"""Targets' resource metrics -> OTLP/HTTP request bodies that fit the endpoint's limits (pure).

Split before serializing, never truncated: a target whose points do not fit one request goes
in several (its resource and scope repeated, a metric's points spread over copies of the
metric), and the requests hold at most :data:`~promwatch.limits.OTLP_MAX_DATA_POINTS_PER_REQUEST`
points and :data:`~promwatch.limits.OTLP_MAX_REQUEST_BYTES` serialized bytes. Sizes are
counted from the messages' own ``ByteSize()`` plus the most a field's tag and length can take,
so a request is never larger than counted.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.metrics.v1 import metrics_pb2 as pb

from promwatch.limits import OTLP_MAX_DATA_POINTS_PER_REQUEST, OTLP_MAX_REQUEST_BYTES

FIELD_OVERHEAD = 6
"""The most a length-delimited field adds to its content: a 1-byte tag and a 5-byte length."""


@dataclass(slots=True)
class Batch:
    """One request: its resource metrics, the tickets they came with, their points and size."""

    resource_metrics: list[pb.ResourceMetrics] = field(default_factory=list)
    tickets: set[Hashable] = field(default_factory=set)
    points: int = 0
    size: int = 0

    def body(self) -> bytes:
        """The serialized ``ExportMetricsServiceRequest``."""
        return ExportMetricsServiceRequest(resource_metrics=self.resource_metrics).SerializeToString()


def points_of(metric: pb.Metric) -> Sequence[object]:
    """The data points of ``metric``, whatever its kind."""
    kind = metric.WhichOneof("data")
    return getattr(metric, kind).data_points if kind else ()


def _header(metric: pb.Metric) -> pb.Metric:
    """``metric`` without its points (name, description, unit, metadata, temporality)."""
    copy = pb.Metric()
    copy.CopyFrom(metric)
    kind = copy.WhichOneof("data")
    if kind:
        del getattr(copy, kind).data_points[:]
    return copy


def _pieces(resource: pb.ResourceMetrics, max_points: int, max_bytes: int) -> Iterator[tuple[pb.ResourceMetrics, int, int]]:
    """``resource`` cut into pieces of at most ``max_points`` points and ``max_bytes`` bytes each:
    (piece, points, counted size). A point too large for a request alone is not yielded."""
    base = pb.ResourceMetrics(resource=resource.resource, schema_url=resource.schema_url)
    base_size = base.ByteSize() + FIELD_OVERHEAD
    piece, size, points = pb.ResourceMetrics(), base_size, 0
    piece.CopyFrom(base)
    for scope_metrics in resource.scope_metrics:
        scope_base = pb.ScopeMetrics(scope=scope_metrics.scope, schema_url=scope_metrics.schema_url)
        scope_size = scope_base.ByteSize() + FIELD_OVERHEAD
        for metric in scope_metrics.metrics:
            count = len(points_of(metric))
            whole = metric.ByteSize() + FIELD_OVERHEAD
            scope_needed = not piece.scope_metrics or piece.scope_metrics[-1].scope != scope_metrics.scope
            if points + count <= max_points and size + whole + (scope_size if scope_needed else 0) <= max_bytes:
                # the usual case: the whole metric fits the piece, copied in one go
                if scope_needed:
                    piece.scope_metrics.add().CopyFrom(scope_base)
                    size += scope_size
                piece.scope_metrics[-1].metrics.add().CopyFrom(metric)
                size += whole
                points += count
                continue
            header = _header(metric)
            header_size = header.ByteSize() + FIELD_OVERHEAD
            kind = header.WhichOneof("data")
            current: pb.Metric | None = None
            for point in points_of(metric):
                point_size = point.ByteSize() + FIELD_OVERHEAD  # type: ignore[attr-defined]
                if base_size + scope_size + header_size + point_size > max_bytes:
                    continue  # cannot fit any request: counted by the caller as too large
                need = point_size + (header_size if current is None else 0)
                need += scope_size if not piece.scope_metrics or piece.scope_metrics[-1].scope != scope_metrics.scope else 0
                if points + 1 > max_points or size + need > max_bytes:
                    if points:
                        yield piece, points, size
                    piece, size, points, current = pb.ResourceMetrics(), base_size, 0, None
                    piece.CopyFrom(base)
                if not piece.scope_metrics or piece.scope_metrics[-1].scope != scope_metrics.scope:
                    piece.scope_metrics.add().CopyFrom(scope_base)
                    size += scope_size
                    current = None
                if current is None:
                    current = piece.scope_metrics[-1].metrics.add()
                    current.CopyFrom(header)
                    size += header_size
                getattr(current, kind).data_points.add().CopyFrom(point)  # type: ignore[arg-type]
                size += point_size
                points += 1
    if points:
        yield piece, points, size


def batches(
    entries: Iterable[tuple[Hashable, pb.ResourceMetrics]],
    *,
    max_points: int = OTLP_MAX_DATA_POINTS_PER_REQUEST,
    max_bytes: int = OTLP_MAX_REQUEST_BYTES,
) -> tuple[list[Batch], int]:
    """Pack the targets' resource metrics into requests within the limits.

    Parameters
    ----------
    entries
        (ticket, resource metrics) per target, in order.
    max_points, max_bytes
        The limits (the endpoint's by default).

    Returns
    -------
    tuple
        The batches, and the number of points left out because one alone would not fit a
        request.
    """
    out: list[Batch] = []
    batch = Batch()
    too_large = 0
    for ticket, resource in entries:
        total = sum(len(points_of(m)) for s in resource.scope_metrics for m in s.metrics)
        placed = 0
        whole = resource.ByteSize() + FIELD_OVERHEAD
        # A target that fits a request as it is goes in as it is (no copy); others are cut.
        pieces = [(resource, total, whole)] if total <= max_points and whole <= max_bytes else \
            _pieces(resource, max_points, max_bytes)
        for piece, points, size in pieces:
            if batch.points + points > max_points or batch.size + size > max_bytes:
                out.append(batch)
                batch = Batch()
            batch.resource_metrics.append(piece)
            batch.tickets.add(ticket)
            batch.points += points
            batch.size += size
            placed += points
        too_large += total - placed
    if batch.points:
        out.append(batch)
    return out, too_large
