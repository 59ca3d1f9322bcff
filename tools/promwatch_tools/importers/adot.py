"""An ADOT (OpenTelemetry Collector) configuration -> promwatch scrape config.

The jobs are the ``config:`` blocks of the prometheus receivers in the ``metrics`` pipelines;
each job's ``emf:`` section is what the awsemf exporter of its pipeline made of it
(:mod:`promwatch_tools.importers.awsemf`). Every other component (``batch``, other receivers,
processors, exporters, extensions) and receiver setting (``target_allocator``, ...) is named on
a finding with the reason it is not carried over.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promwatch_tools.importers.awsemf import OTEL_SCOPE_NAME, EmfPlan, job_emf, otellib_relabel, plan_awsemf
from promwatch_tools.importers.envsubst import expand
from promwatch_tools.importers.findings import Finding, ImportInputError, ImportResult
from promwatch_tools.importers.prometheus import translate_prometheus_config
from promwatch_tools.importers.unsupported import drop_unsupported_keys

_RECEIVER_KEYS = {
    "target_allocator": "not applicable: the operator's target allocator shards targets between collectors; "
                        "promwatch discovers them itself (kubernetes_sd_configs) and fans out over SQS",
    "trim_metric_suffixes": "not carried over: promwatch keeps the exposed names (_total, _seconds, ...)",
    "use_start_time_metric": "not applicable: promwatch computes increases from its own baselines",
    "start_time_metric_regex": "not applicable: promwatch computes increases from its own baselines",
    "report_extra_scrape_metrics": "not carried over: promwatch reports its own scrape metrics (up, "
                                   "scrape_duration_seconds, ...)",
    "api_server": "not applicable: promwatch serves no Prometheus API",
    "enable_protobuf_negotiation": "not needed: promwatch reads the text format and OpenMetrics",
}
_RECEIVERS = {
    "prometheus": "not in a metrics pipeline: the collector did not run it; not imported",
    "prometheus_simple": "not carried over: write it as a scrape_configs job (endpoint -> static_configs targets, "
                         "collection_interval -> scrape_interval, metrics_path as is)",
}
_PROCESSORS = {
    "batch": "not needed: promwatch writes each scrape's documents in one go",
    "memory_limiter": "not needed: the function's memory is Lambda's setting",
}
_EXTENSIONS = {
    "health_check": "not applicable: Lambda watches the function (and promwatch's own alarms)",
    "sigv4auth": "not applicable: the function signs its requests with its IAM role",
    "ecs_observer": "not carried over: use aws_sd_configs with role: ecs in the job",
}
_PROCESSOR_DEFAULT = ("not carried over: promwatch runs no collector processors (relabel_configs and "
                      "metric_relabel_configs can rename, add and drop labels and series)")


def import_adot(data: Any, environ: Mapping[str, str], *, otel_scope_name: str = OTEL_SCOPE_NAME,
                eks_cluster: str | None = None) -> ImportResult:
    """A promwatch scrape config from an ADOT collector configuration.

    Parameters
    ----------
    data
        The collector's configuration, as loaded from YAML.
    environ
        The environment ``${env:NAME}`` references resolve from.
    otel_scope_name
        The prometheus receiver's instrumentation scope, awsemf's ``OTelLib`` dimension value.
    eks_cluster
        The EKS cluster in-cluster ``kubernetes_sd_configs`` (no ``api_server``) discovered in.

    Raises
    ------
    ImportInputError
        When ``data`` is not a collector configuration or no metrics pipeline has a prometheus
        receiver.
    """
    if not isinstance(data, dict):
        raise ImportInputError(f"expected a collector configuration (a mapping), got {type(data).__name__}")
    data, findings = expand(data, environ)
    receivers = _section(data, "receivers", findings)
    exporters = _section(data, "exporters", findings)
    pipelines = _section(_section(data, "service", findings), "pipelines", findings, "service.")
    used: dict[str, list[str]] = {}  # prometheus receiver -> the exporters of its metrics pipelines
    for name, pipeline in pipelines.items():
        if not isinstance(pipeline, dict) or _kind(name) != "metrics":
            continue
        for receiver in _names(pipeline.get("receivers")):
            if _kind(receiver) == "prometheus":
                used.setdefault(receiver, []).extend(_names(pipeline.get("exporters")))
    if not used:
        raise ImportInputError("no metrics pipeline (service.pipelines.metrics) has a prometheus receiver: nothing "
                               "to import")
    config: dict[str, Any] = {}
    jobs: list[Any] = []
    for receiver, exporter_names in used.items():
        imported = _receiver(receiver, receivers.get(receiver), exporters, exporter_names, otel_scope_name,
                             eks_cluster, findings)
        own_global = imported.get("global")
        if not jobs and own_global is not None:
            config["global"] = own_global
        elif own_global and own_global != config.get("global"):
            _global_into_jobs(own_global, imported["scrape_configs"], f"receivers.{receiver}.config.global", findings)
        jobs.extend(imported["scrape_configs"])
    config["scrape_configs"] = jobs
    drop_unsupported_keys(config, findings)
    _report_others(data, used, findings)
    return ImportResult(config, findings)


def _receiver(name: str, settings: Any, exporters: Mapping[str, Any], exporter_names: list[str],
              otel_scope_name: str, eks_cluster: str | None, findings: list[Finding]) -> dict[str, Any]:
    path = f"receivers.{name}"
    if not isinstance(settings, dict) or not isinstance(settings.get("config"), dict):
        raise ImportInputError(f"{path}.config: expected the receiver's Prometheus configuration (global, "
                               "scrape_configs)")
    for key in settings:
        if key != "config":
            findings.append(Finding(f"{path}.{key}", _RECEIVER_KEYS.get(str(key), "not a prometheus receiver setting "
                                                                                  "promwatch knows: not carried over")))
    prom = settings["config"]
    for key in prom:
        if key not in ("global", "scrape_configs"):
            findings.append(Finding(f"{path}.config.{key}", "not applicable in a prometheus receiver: not carried "
                                                            "over"))
    imported = translate_prometheus_config(prom, f"{path}.config", findings, eks_cluster=eks_cluster)
    plan = _plan(name, exporters, exporter_names, otel_scope_name, findings)
    for index, job in enumerate(imported["scrape_configs"]):
        if not isinstance(job, dict):
            continue
        job_path = f"{path}.config.scrape_configs[{index}]"
        _loopback_targets(job, job_path, findings)
        if plan is None:
            continue
        emf, job_findings = job_emf(plan, job, job_path)
        findings.extend(job_findings)
        job["emf"] = emf
        relabels = job.get("metric_relabel_configs")
        job["metric_relabel_configs"] = [*(relabels if isinstance(relabels, list) else []), otellib_relabel(plan)]
    return imported


_JOB_DEFAULTS = ("scrape_interval", "scrape_timeout", "sample_limit", "label_limit", "label_name_length_limit",
                 "label_value_length_limit", "body_size_limit")


def _global_into_jobs(own_global: Mapping[str, Any], jobs: list[Any], path: str, findings: list[Finding]) -> None:
    """A later receiver's ``global``: promwatch has one, so its job defaults go into its jobs."""
    for job in jobs:
        if isinstance(job, dict):
            for key in _JOB_DEFAULTS:
                if key in own_global and key not in job:
                    job[key] = own_global[key]
    if own_global.get("external_labels"):
        findings.append(Finding(f"{path}.external_labels", "not carried over: promwatch has one global, the first "
                                                           "receiver's; add these labels with relabel_configs"))
    findings.append(Finding(path, "differs from the first receiver's (promwatch has one global): its scrape "
                                  "defaults are written into this receiver's jobs"))


def _plan(receiver: str, exporters: Mapping[str, Any], exporter_names: list[str], otel_scope_name: str,
          findings: list[Finding]) -> EmfPlan | None:
    emf_exporters = [name for name in dict.fromkeys(exporter_names) if _kind(name) == "awsemf"]
    if not emf_exporters:
        findings.append(Finding(f"receivers.{receiver}", "its pipelines export to no awsemf exporter: its jobs get "
                                                         "promwatch's emf defaults"))
        return None
    first = emf_exporters[0]
    if first not in exporters:
        findings.append(Finding(f"exporters.{first}", "named in a pipeline but not configured: awsemf's defaults"))
    plan, plan_findings = plan_awsemf(exporters.get(first), f"exporters.{first}", otel_scope_name)
    findings.extend(plan_findings)
    for other in emf_exporters[1:]:
        findings.append(Finding(f"exporters.{other}", f"also exports receiver {receiver}: a promwatch job has one "
                                                      f"emf section, {first}'s is imported"))
    return plan


def _loopback_targets(job: Mapping[str, Any], path: str, findings: list[Finding]) -> None:
    statics = job.get("static_configs")
    if not isinstance(statics, list):
        return
    for index, static in enumerate(statics):
        targets = static.get("targets") if isinstance(static, dict) else None
        for target in targets if isinstance(targets, list) else []:
            host = str(target).rsplit(":", 1)[0].strip("[]")
            if host in ("localhost", "127.0.0.1", "::1", "0.0.0.0"):
                findings.append(Finding(f"{path}.static_configs[{index}].targets", f"{target!r} kept: the sidecar "
                                        "reached the app on its own pod's loopback; from Lambda write the app's "
                                        "address, or discover it (kubernetes_sd_configs, aws_sd_configs)"))


def _report_others(data: Mapping[str, Any], used: Mapping[str, list[str]], findings: list[Finding]) -> None:
    for section in ("receivers", "processors", "exporters", "extensions", "connectors"):
        components = data.get(section)
        for name in components if isinstance(components, dict) else {}:
            kind = _kind(str(name))
            if section == "receivers" and name in used:
                continue
            if section == "exporters" and kind == "awsemf" and any(name in names for names in used.values()):
                continue
            if section == "receivers":
                reason = _RECEIVERS.get(kind, "not carried over: promwatch scrapes Prometheus endpoints only")
            elif section == "processors":
                reason = _PROCESSORS.get(kind, _PROCESSOR_DEFAULT)
            elif section == "exporters":
                reason = ("not in a pipeline with a prometheus receiver: not imported" if kind == "awsemf"
                          else "not carried over: promwatch writes CloudWatch EMF (or OTLP: emf.output)")
            elif section == "extensions":
                reason = _EXTENSIONS.get(kind, "not applicable: a collector extension")
            else:
                reason = "not applicable: a collector connector"
            findings.append(Finding(f"{section}.{name}", reason))
    service = data.get("service")
    service = service if isinstance(service, dict) else {}
    for key in service:
        if key == "pipelines":
            pipelines = service["pipelines"]
            for name in pipelines if isinstance(pipelines, dict) else {}:
                if _kind(str(name)) != "metrics":
                    findings.append(Finding(f"service.pipelines.{name}", "not a metrics pipeline: not imported"))
        elif key != "extensions":
            findings.append(Finding(f"service.{key}", "not applicable: the collector's own settings"))
    for key in data:
        if key not in ("receivers", "processors", "exporters", "extensions", "connectors", "service"):
            findings.append(Finding(str(key), "not a collector configuration section: not carried over"))


def _section(data: Any, key: str, findings: list[Finding], prefix: str = "") -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        findings.append(Finding(f"{prefix}{key}", f"expected a mapping, got {type(value).__name__}: ignored"))
        return {}
    return value


def _names(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _kind(name: str) -> str:
    """A component's type: ``prometheus/app`` -> ``prometheus``."""
    return name.split("/", 1)[0]
