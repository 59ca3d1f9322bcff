"""A spec file: its dashboards and alarms, and the packs (:class:`GenerateSpec`) expanded
into more of them when the spec is loaded."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from promwatch.reconcile.errors import SpecValueError
from promwatch.reconcile.spec import Actions, AlarmSpec, DashboardSpec, MetricPeriod, Name, Text
from promwatch.reconcile.spec_base import Strict as _Strict
from promwatch.reconcile.spec_base import at

__all__ = ["GenerateSpec", "SpecFile"]


class GenerateSpec(_Strict):
    """A pack expanded into dashboards (and alarms) when the spec is loaded.

    ``pack``: ``nodejs`` (prom-client), ``node_exporter``, ``exposition`` (a dashboard from the
    families of a scraped page saved in ``exposition``), ``insights`` (the Container Insights
    roll-ups of ``rules``), ``health`` (promwatch's own metrics). Job packs add an ``up``
    alarm unless ``up_alarm: false``, and one at 80% of the job's ``max_series`` when given (on
    promwatch's EMF self-metrics: the budget trims EMF output only, so it is refused for a PromQL
    pack, and by the loader for an ``auto`` pack whose job sends OTLP only); ``query_language: promql`` makes them PromQL charts and a
    PromQL alarm over the job's OpenTelemetry metrics (a job whose output is OTLP);
    ``query_language: auto`` reads the job's ``outputs`` in ``scrape_config``: classic metrics
    for an EMF job, PromQL for an OTLP job, both (the PromQL ones named ``<name>-promql``) for a
    job sending both.
    """

    pack: Literal["nodejs", "node_exporter", "exposition", "insights", "health"]
    job: Text | None = None
    namespace: Text | None = None
    """Namespace of the job's metrics; defaults to the job name, as the scrape does."""
    name: Name | None = None
    """Dashboard name; defaults to ``<job's last path segment>-<pack>``."""
    exposition: str | None = None
    """``exposition`` pack: a saved /metrics page, relative to the spec file."""
    rules: str | None = None
    """``insights`` pack: the roll-up rules file, relative to the spec file (default ../insights.yaml)."""
    dead_letter_queue: Text | None = None
    """``health`` pack: the fan-out dead-letter queue's name (default: every queue)."""
    up_alarm: bool = True
    max_series: int | None = Field(default=None, ge=1)
    actions: Actions = Field(default_factory=Actions)
    """Actions of the generated ``up`` (and series budget) alarms."""
    period: MetricPeriod = 60
    query_language: Literal["metrics", "promql", "auto"] = "metrics"
    """``metrics``: the job's classic CloudWatch metrics (EMF output); ``promql``: its OpenTelemetry
    metrics (OTLP output), read with PromQL; ``auto``: as the job's outputs in ``scrape_config``."""
    scrape_config: str | None = None
    """``query_language: auto``: the scrape config naming the job's outputs, relative to the spec
    file (default ../scrape.yaml)."""

    @model_validator(mode="after")
    def _pack_fields(self) -> GenerateSpec:
        if self.pack in ("nodejs", "node_exporter", "exposition") and not self.job:
            raise SpecValueError(at("job", f"the {self.pack} pack needs 'job' (the scrape job_name)"))
        if self.scrape_config is not None and self.query_language != "auto":
            raise SpecValueError(at("scrape_config", "scrape_config is read only to choose the query language; "
                                "expected query_language: auto beside it (or no scrape_config)"))
        if self.query_language in ("promql", "auto") and self.pack in ("insights", "health"):
            raise SpecValueError(at("query_language", f"the {self.pack} pack reads classic CloudWatch metrics only; "
                                "expected query_language: metrics (or none)"))
        if self.max_series and (self.pack in ("insights", "health") or self.query_language == "promql"):
            raise SpecValueError(at("max_series", "the series budget alarm needs a job pack with query_language: metrics"))
        if self.pack == "exposition" and not self.exposition:
            raise SpecValueError(at("exposition", "the exposition pack needs 'exposition' (a saved /metrics page)"))
        return self


class SpecFile(_Strict):
    """One YAML file of a spec directory."""

    dashboards: list[DashboardSpec] = Field(default_factory=list)
    alarms: list[AlarmSpec] = Field(default_factory=list)
    generate: list[GenerateSpec] = Field(default_factory=list)
