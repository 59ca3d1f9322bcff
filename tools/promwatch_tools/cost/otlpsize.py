"""How many bytes an OTLP request counts for on CloudWatch's per-GB OpenTelemetry bill (pure).

CloudWatch's "OTel metrics pricing and storage" page
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/metrics-otel-pricing.html)
says each data point contributes its serialized size, which includes the metric name, all
labels, the resource attributes, and the timestamp and value. So the resource and the name,
which a request carries once per target and metric, count once per point: a point's billed
size here is its own serialized size (attributes, times, value or buckets) plus the metric
name's UTF-8 bytes plus the serialized resource. The page gives no formula beyond that list;
this is its plain reading, not a figure AWS confirmed.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.proto.metrics.v1.metrics_pb2 import ResourceMetrics


def billed_bytes(resources: Iterable[ResourceMetrics]) -> int:
    """The ingestion bytes of ``resources`` as the pricing page describes them.

    Parameters
    ----------
    resources
        Targets' resource metrics (what :func:`promwatch.otlp.to_resource_metrics` returns, or
        the pieces of a request).

    Returns
    -------
    int
        Sum over data points of point size + metric name bytes + resource size.
    """
    from promwatch.otlp.encode import points_of

    total = 0
    for resource in resources:
        resource_size = resource.resource.ByteSize()
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points = points_of(metric)
                fixed = len(metric.name.encode("utf-8")) + resource_size
                total += sum(point.ByteSize() for point in points) + fixed * len(points)  # type: ignore[attr-defined]
    return total
