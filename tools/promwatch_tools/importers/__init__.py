"""Carry an existing setup over: ADOT collector and Prometheus configurations -> promwatch
scrape configs. Pure translations: each returns the config (plain data) and one
:class:`Finding` per setting it changed or could not carry over."""
from __future__ import annotations

from promwatch_tools.importers.adot import import_adot
from promwatch_tools.importers.awsemf import OTEL_SCOPE_NAME
from promwatch_tools.importers.envsubst import expand
from promwatch_tools.importers.findings import Finding, ImportInputError, ImportResult
from promwatch_tools.importers.prometheus import import_prometheus

__all__ = [
    "OTEL_SCOPE_NAME",
    "Finding",
    "ImportInputError",
    "ImportResult",
    "expand",
    "import_adot",
    "import_prometheus",
]
