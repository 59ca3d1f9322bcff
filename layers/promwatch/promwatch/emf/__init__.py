"""Samples -> CloudWatch Embedded Metric Format documents (pure code).

The writer (:func:`write_group`) is shared by every producer of EMF in promwatch: the
Prometheus translation here and the Container Insights roll-ups. It splits output to fit the
limits in :mod:`promwatch.limits` before serializing; it never truncates.
"""
from __future__ import annotations

from promwatch.emf.errors import EmfError, EmfValidationError
from promwatch.emf.model import Distribution, Metric, MetricGroup
from promwatch.emf.validate import problems, validate
from promwatch.emf.writer import serialize, write, write_group

__all__ = [
    "Distribution",
    "EmfError",
    "EmfValidationError",
    "Metric",
    "MetricGroup",
    "problems",
    "serialize",
    "validate",
    "write",
    "write_group",
]
