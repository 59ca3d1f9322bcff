"""Prometheus text format 0.0.4 and OpenMetrics 1.0 parsing (pure code)."""
from __future__ import annotations

from promwatch.exposition.model import FAMILY_TYPES, Exemplar, Family, Sample

__all__ = ["FAMILY_TYPES", "Exemplar", "Family", "Sample"]
