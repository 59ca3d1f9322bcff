"""Carry an existing setup over: ADOT collector and Prometheus configurations -> promwatch
scrape configs, Prometheus alerting rules -> the dashboards/alarms spec. Pure translations:
each returns the config or spec (plain data) and one :class:`Finding` per setting or rule it
changed or could not carry over."""
from __future__ import annotations

from promwatch_tools.importers.adot import import_adot
from promwatch_tools.importers.awsemf import OTEL_SCOPE_NAME
from promwatch_tools.importers.envsubst import expand
from promwatch_tools.importers.findings import Finding, ImportInputError, ImportResult
from promwatch_tools.importers.prometheus import import_prometheus
from promwatch_tools.importers.rules import RulesOptions, import_rules

__all__ = [
    "OTEL_SCOPE_NAME",
    "Finding",
    "ImportInputError",
    "ImportResult",
    "RulesOptions",
    "expand",
    "import_adot",
    "import_prometheus",
    "import_rules",
]
