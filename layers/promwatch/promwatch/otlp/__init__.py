"""Prometheus pages -> OpenTelemetry metrics over OTLP/HTTP (CloudWatch's OTLP endpoint).

:mod:`promwatch.otlp.mapping` translates one scrape of one target into an OTLP
``ResourceMetrics`` (pure), with start times from :mod:`promwatch.otlp.starts` and the
resource, attributes and exemplars from :mod:`promwatch.otlp.attributes`;
:mod:`promwatch.otlp.encode` packs targets into requests within the endpoint's limits (pure);
:mod:`promwatch.otlp.sink` signs and delivers them. :mod:`promwatch.otlp.config` holds the
``outputs:`` entry. Only the config is protobuf-free: the other names load on first use, so a
process with no OTLP job never imports the protobuf runtime::

    from promwatch.otlp import to_resource_metrics, otlp_sink
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from promwatch.lazyexports import lazy_exports
from promwatch.otlp.config import OTLP_PATH, OTLP_SERVICE, EmfOutputChoice, OtlpOutput, default_endpoint

if TYPE_CHECKING:
    from promwatch.otlp.attributes import ScrapeTarget, is_stale, otel_unit, resource_attributes
    from promwatch.otlp.encode import Batch, batches
    from promwatch.otlp.mapping import OtlpTranslation, to_resource_metrics
    from promwatch.otlp.sink import (
        HttpResponse,
        OtlpConnectionError,
        OtlpError,
        OtlpSink,
        Transport,
        Urllib3Transport,
        otlp_sink,
        output_region,
        sigv4_signer,
    )
    from promwatch.otlp.starts import StartTracker

__getattr__ = lazy_exports(__name__, globals(), (
    "promwatch.otlp.attributes", "promwatch.otlp.encode", "promwatch.otlp.mapping", "promwatch.otlp.sink",
    "promwatch.otlp.starts"))


__all__ = [
    "OTLP_PATH",
    "OTLP_SERVICE",
    "Batch",
    "EmfOutputChoice",
    "HttpResponse",
    "OtlpConnectionError",
    "OtlpError",
    "OtlpOutput",
    "OtlpSink",
    "OtlpTranslation",
    "ScrapeTarget",
    "StartTracker",
    "Transport",
    "Urllib3Transport",
    "batches",
    "default_endpoint",
    "is_stale",
    "otel_unit",
    "otlp_sink",
    "output_region",
    "resource_attributes",
    "sigv4_signer",
    "to_resource_metrics",
]
