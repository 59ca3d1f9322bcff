"""The awsemfexporter's settings -> a promwatch job's ``emf:`` section.

Read from the exporter's ``config.go`` (``Config`` and the ``awsutil.AWSSessionSettings`` it
squashes), ``util.go`` (``getNamespace``, ``getLogInfo``, the ``{...}`` placeholders) and
``metric_translator.go``/``datapoint.go`` (dimensions, ``OTelLib``, roll-ups) in
open-telemetry/opentelemetry-collector-contrib, ``exporter/awsemfexporter``. What awsemf did
with a prometheus receiver's metrics and no settings, promwatch reproduces:

* namespace: the ``service.name`` resource attribute, which the receiver sets to the job name;
* log group ``/metrics/<namespace>``;
* dimensions: the series' labels without ``job`` and ``instance`` (the receiver moves them to
  the resource), plus ``OTelLib`` (the receiver's instrumentation scope), rolled up with
  ``ZeroAndSingleDimensionRollup`` keeping ``OTelLib`` in every set.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from promwatch.emf.config import MetricDeclaration
from promwatch.limits import EMF_UNITS
from pydantic import ValidationError

from promwatch_tools.importers.findings import Finding

OTEL_SCOPE_NAME = "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver"
"""The prometheus receiver's instrumentation scope, awsemf's ``OTelLib`` dimension value (older
collectors named it ``otelcol/prometheusreceiver``: pass that with ``--otel-scope-name``)."""
OTELLIB = "OTelLib"
AWSEMF_DEFAULT_ROLLUP = "ZeroAndSingleDimensionRollup"
_ROLLUPS = {"ZeroAndSingleDimensionRollup": "ZeroAndSingleDimensionRollup",
            "SingleDimensionRollupOnly": "SingleDimensionRollup", "NoDimensionRollup": "NoDimensionRollup"}
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_PLACEHOLDERS = {  # util.go patternKeyToAttributeMap
    "ClusterName": "aws.ecs.cluster.name", "TaskId": "aws.ecs.task.id", "NodeName": "k8s.node.name",
    "PodName": "pod", "ServiceName": "service.name", "ContainerInstanceId": "aws.ecs.container.instance.id",
    "TaskDefinitionFamily": "aws.ecs.task.family", "InstanceId": "service.instance.id", "FaasName": "faas.name",
    "FaasVersion": "faas.version",
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

_RESOURCE_LABELS = frozenset({"job", "instance"})
"""Labels the prometheus receiver moves to the resource: never awsemf labels."""
_SESSION = "not applicable: the function uses its own IAM role, region and AWS SDK settings (template.yaml)"
_NOT_APPLICABLE = {
    **dict.fromkeys(("region", "endpoint", "max_retries", "no_verify_ssl", "proxy_address", "local_mode",
                     "imds_retries", "certificate_file_path", "profile", "shared_credentials_file", "num_workers",
                     "request_timeout_seconds", "resource_arn", "sts_region", "external_id"), _SESSION),
    "role_arn": "not supported: the function writes with its own IAM role, in its own account; deploy the stack "
                "in the account that owns the metrics",
    "middleware": "not applicable: a collector extension hook for the AWS client",
    "log_retention": "not carried over: set the log group's retention where it is created (template.yaml)",
    "tags": "not carried over: tag the log group where it is created (template.yaml)",
    "eks_fargate_container_insights_enabled": "not applicable: Container Insights payloads, not Prometheus metrics "
                                              "(promwatch's insights function rolls Container Insights up)",
    "enhanced_container_insights": "not applicable: Container Insights payloads, not Prometheus metrics "
                                   "(promwatch's insights function rolls Container Insights up)",
    "add_entity": "not supported: promwatch adds no entity to its documents",
    "use_all_labels_as_dimensions": "kept: promwatch makes every label a dimension when there are no "
                                    "metric_declarations",
    "parse_json_encoded_attr_values": "not applicable: Prometheus label values stay strings",
}


@dataclass(frozen=True)
class EmfPlan:
    """What an awsemf exporter's settings make of every job it exported (see :func:`plan_awsemf`)."""

    settings: dict[str, Any]
    """``emf:`` keys the same for every job."""
    namespace: str | None
    log_group_name: str | None
    log_stream_name: str | None
    to_logs: bool
    otel_scope_name: str
    path: str
    job_instance_dimensions: bool = False


def plan_awsemf(settings: Any, path: str, otel_scope_name: str = OTEL_SCOPE_NAME) -> tuple[EmfPlan, list[Finding]]:
    """What the awsemf exporter at ``path`` (its settings, None when bare) does to every job.

    Every key of the exporter's ``Config`` is carried, changed or reported; a key it does not
    have is named as unknown.
    """
    findings: list[Finding] = []
    raw: Mapping[str, Any] = settings if isinstance(settings, dict) else {}
    if settings is not None and not isinstance(settings, dict):
        findings.append(Finding(path, f"expected a mapping of settings, got {type(settings).__name__}: "
                                      "awsemf's defaults are imported"))
    emf: dict[str, Any] = {}
    rollup = _rollup(raw, path, findings)
    emf["dimension_rollup_option"] = rollup
    if rollup != "NoDimensionRollup":
        emf["rollup_base_dimensions"] = [OTELLIB]
    job_instance_dimensions = _resource_to_telemetry(raw, path, findings)
    if not job_instance_dimensions:
        emf["log_only_labels"] = ["job", "instance"]
    declarations = _declarations(raw.get("metric_declarations"), f"{path}.metric_declarations", findings)
    if declarations:
        emf["metric_declarations"] = declarations
    units = _units(raw.get("metric_descriptors"), f"{path}.metric_descriptors", findings)
    if units:
        emf["units"] = units
    to_logs = _output(raw, path, findings)
    _flags(raw, path, findings)
    namespace = raw.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        findings.append(Finding(f"{path}.namespace", f"expected a string, got {namespace!r}: the job name is used"))
        namespace = None
    group, stream = (raw.get(k) if isinstance(raw.get(k), str) and raw.get(k) else None
                     for k in ("log_group_name", "log_stream_name"))
    handled = {"namespace", "log_group_name", "log_stream_name", "dimension_rollup_option", "metric_declarations",
               "metric_descriptors", "output_destination", "resource_to_telemetry_conversion",
               "retain_initial_value_of_delta_metric", "detailed_metrics", "version", "disable_metric_extraction"}
    for key in raw:
        name = str(key)
        if name in _NOT_APPLICABLE:
            findings.append(Finding(f"{path}.{name}", _NOT_APPLICABLE[name]))
        elif name not in handled:
            findings.append(Finding(f"{path}.{name}", "unknown awsemf setting (not in the exporter's Config): "
                                                      "not carried over"))
    plan = EmfPlan(emf, namespace or None, group, stream, to_logs, otel_scope_name, path, job_instance_dimensions)
    return plan, findings


def job_emf(plan: EmfPlan, job: Mapping[str, Any], job_path: str) -> tuple[dict[str, Any], list[Finding]]:
    """The ``emf:`` section of one imported job, and findings about its names."""
    findings: list[Finding] = []
    job_name = str(job.get("job_name", ""))
    if _relabels_job(job):
        findings.append(Finding(f"{job_path}.relabel_configs", "rewrite the job label: awsemf named the namespace "
                                                               "(and log group) after the rewritten job, promwatch "
                                                               f"after the job name {job_name!r}; set emf.namespace"))
    emf = dict(plan.settings)
    namespace = plan.namespace or job_name
    emf["namespace"] = namespace
    if plan.namespace is None:
        findings.append(Finding(f"{plan.path}.namespace", f"not set: awsemf named it after service.name, which the "
                                                          f"prometheus receiver sets to the job: {namespace!r}"))
    if plan.to_logs:
        output: dict[str, Any] = {"type": "logs"}
        if plan.log_group_name is None:
            output["log_group_name"] = f"/metrics/{namespace}"
            findings.append(Finding(f"{plan.path}.log_group_name", f"not set: awsemf wrote to /metrics/<namespace>: "
                                                                   f"{output['log_group_name']!r}, kept"))
        else:
            output["log_group_name"] = _placeholders(plan.log_group_name, job_name, f"{plan.path}.log_group_name",
                                                     findings)
        if plan.log_stream_name is not None:
            output["log_stream_name"] = _placeholders(plan.log_stream_name, job_name, f"{plan.path}.log_stream_name",
                                                      findings)
        else:
            findings.append(Finding(f"{plan.path}.log_stream_name", "not set: awsemf wrote to otel-stream-<collector "
                                                                    "id>; promwatch writes one stream per function "
                                                                    "instance (promwatch/<date>/<id>)"))
        emf["output"] = output
    findings.append(Finding(f"{job_path}", _dimensions_note(plan)))
    findings.append(Finding(f"{job_path}", "changed: up, scrape_duration_seconds, scrape_samples_scraped and "
                                           "scrape_samples_post_metric_relabeling are published per target (job, "
                                           "instance), so an up == 0 alarm names the target; awsemf published them "
                                           "with OTelLib alone, every target of the namespace together"))
    return emf, findings


def otellib_relabel(plan: EmfPlan) -> dict[str, Any]:
    """The metric relabel rule that gives every series awsemf's ``OTelLib`` label (last: the
    collector's own relabelling never saw it)."""
    return {"target_label": OTELLIB, "replacement": plan.otel_scope_name, "action": "replace"}


def _dimensions_note(plan: EmfPlan) -> str:
    kept = "job and instance stay dimensions (resource_to_telemetry_conversion)" if plan.job_instance_dimensions \
        else "job and instance are log-only (awsemf had them as resource attributes, not dimensions)"
    rollup = plan.settings["dimension_rollup_option"]
    sets = {"ZeroAndSingleDimensionRollup": "{OTelLib}, and {OTelLib, label} for each label",
            "SingleDimensionRollup": "and {OTelLib, label} for each label",
            "NoDimensionRollup": "and no roll-up"}[rollup]
    declared = " (metric_declarations choose the full sets)" if "metric_declarations" in plan.settings else ""
    return (f"dimensions as awsemf made them: each series' labels plus OTelLib={plan.otel_scope_name!r}{declared}, "
            f"{sets}; {kept}")


def _rollup(raw: Mapping[str, Any], path: str, findings: list[Finding]) -> str:
    value = raw.get("dimension_rollup_option")
    if value is None:
        chosen = AWSEMF_DEFAULT_ROLLUP
        why = "not set: awsemf's default ZeroAndSingleDimensionRollup is kept"
    elif value in _ROLLUPS:
        chosen = _ROLLUPS[value]
        why = f"{value} kept" + (f" (promwatch spells it {chosen})" if chosen != value else "")
    else:
        findings.append(Finding(f"{path}.dimension_rollup_option", f"{value!r} is none of awsemf's options, which "
                                                                   "then rolled nothing up: NoDimensionRollup"))
        return "NoDimensionRollup"
    cost = {"ZeroAndSingleDimensionRollup": "a series with N labels is up to N+2 CloudWatch metrics (its full set, "
                                            "OTelLib alone, OTelLib with each label), where NoDimensionRollup "
                                            "makes 1: e.g. http_request_duration_seconds{method,route,code} costs 5",
            "SingleDimensionRollup": "a series with N labels is up to N+1 CloudWatch metrics (its full set, OTelLib "
                                     "with each label), where NoDimensionRollup makes 1",
            "NoDimensionRollup": ""}[chosen]
    message = f"{why}; it costs: {cost}; set NoDimensionRollup if no dashboard or alarm reads the rolled-up sets" \
        if cost else why
    findings.append(Finding(f"{path}.dimension_rollup_option", message))
    return chosen


def _resource_to_telemetry(raw: Mapping[str, Any], path: str, findings: list[Finding]) -> bool:
    value = raw.get("resource_to_telemetry_conversion")
    if value is None:
        return False
    key = f"{path}.resource_to_telemetry_conversion"
    if not isinstance(value, dict):
        findings.append(Finding(key, f"expected a mapping with 'enabled', got {value!r}: not carried over"))
        return False
    for extra in value:
        if extra != "enabled":
            findings.append(Finding(f"{key}.{extra}", "unknown setting: not carried over"))
    if value.get("enabled") is True:
        findings.append(Finding(f"{key}.enabled", "true: awsemf added the resource attributes (service.name, "
                                                  "service.instance.id, server.address, server.port, url.scheme) as "
                                                  "dimensions; a CloudWatch dimension from promwatch is a label, and "
                                                  "labels hold no dots: job and instance are kept as dimensions "
                                                  "instead (the same values as service.name, service.instance.id)"))
        return True
    findings.append(Finding(f"{key}.enabled", f"{value.get('enabled')!r}: resource attributes are not dimensions, "
                                              "as in promwatch"))
    return False


def _declarations(value: Any, path: str, findings: list[Finding]) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        findings.append(Finding(path, f"expected a list, got {type(value).__name__}: not carried over"))
        return []
    kept: list[dict[str, Any]] = []
    for index, declaration in enumerate(value):
        where = f"{path}[{index}]"
        if isinstance(declaration, dict) and isinstance(declaration.get("dimensions"), list):
            sets = [list(dict.fromkeys(keys)) if isinstance(keys, list) else keys for keys in declaration["dimensions"]]
            if sets != declaration["dimensions"]:
                findings.append(Finding(f"{where}.dimensions", "a set repeats a label: each kept once, as awsemf did"))
            resource = [keys for keys in sets if isinstance(keys, list) and _RESOURCE_LABELS.intersection(keys)]
            if resource:
                sets = [keys for keys in sets if keys not in resource]
                findings.append(Finding(f"{where}.dimensions", f"{resource} left out: awsemf never published them "
                                                               "(job and instance are resource attributes of the "
                                                               "prometheus receiver's metrics, not labels)"))
            declaration = {**declaration, "dimensions": sets}
        matchers = declaration.get("label_matchers") if isinstance(declaration, dict) else None
        for number, matcher in enumerate(matchers if isinstance(matchers, list) else []):
            names = matcher.get("label_names") if isinstance(matcher, dict) else None
            if isinstance(names, list) and _RESOURCE_LABELS.intersection(names):
                findings.append(Finding(f"{where}.label_matchers[{number}]", "names job or instance, which awsemf "
                                                                             "saw empty (resource attributes); "
                                                                             "promwatch matches their values"))
        try:
            MetricDeclaration.model_validate(declaration)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
            findings.append(Finding(where, f"left out, as awsemf drops a declaration it cannot use: {problems}"))
            continue
        kept.append(declaration)
    if kept:
        findings.append(Finding(path, f"{len(kept)} carried as written (promwatch's are awsemfexporter-compatible; "
                                      "the series no declaration selects are not published, as in awsemf)"))
    return kept


def _units(value: Any, path: str, findings: list[Finding]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, list):
        findings.append(Finding(path, f"expected a list, got {type(value).__name__}: not carried over"))
        return {}
    units: dict[str, str] = {}
    for index, descriptor in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(descriptor, dict):
            findings.append(Finding(where, "expected a mapping with metric_name and unit: left out"))
            continue
        name, unit = descriptor.get("metric_name"), descriptor.get("unit")
        for extra in set(descriptor) - {"metric_name", "unit", "overwrite"}:
            findings.append(Finding(f"{where}.{extra}", "unknown setting: not carried over"))
        if not isinstance(name, str) or not _METRIC_NAME.fullmatch(name):
            findings.append(Finding(where, f"metric_name {name!r} is not a metric name: left out (awsemf skips it)"))
        elif unit not in EMF_UNITS:
            findings.append(Finding(where, f"unit {unit!r} is not a CloudWatch unit: left out, as awsemf drops it"))
        else:
            units[name] = unit
            if descriptor.get("overwrite") is not True:
                findings.append(Finding(f"{where}.overwrite", "false: awsemf set the unit only where the metric had "
                                                              "none; promwatch's units always apply"))
    return units


def _output(raw: Mapping[str, Any], path: str, findings: list[Finding]) -> bool:
    value = raw.get("output_destination")
    if isinstance(value, str) and value.lower() == "stdout":
        findings.append(Finding(f"{path}.output_destination", "stdout: promwatch's stdout in Lambda is the function's "
                                                              "log group, from which CloudWatch extracts the metrics"))
        return False
    if value is not None and (not isinstance(value, str) or value.lower() != "cloudwatch"):
        findings.append(Finding(f"{path}.output_destination", f"{value!r} is not stdout, so awsemf wrote to "
                                                              "CloudWatch Logs: so does promwatch"))
    return True


def _flags(raw: Mapping[str, Any], path: str, findings: list[Finding]) -> None:
    messages = {
        ("retain_initial_value_of_delta_metric", True): "true: not supported: promwatch records a target's first "
            "scrape as baselines (series that appear later on a scraped target count from zero)",
        ("retain_initial_value_of_delta_metric", False): "false, as promwatch: a target's first scrape only records "
            "baselines (promwatch counts series that appear later from zero)",
        ("detailed_metrics", True): "true: promwatch always publishes summary quantiles as gauges with a quantile "
            "dimension, and _sum/_count as counters, as detailed_metrics did",
        ("detailed_metrics", False): "false: promwatch publishes summary quantiles as gauges with a quantile "
            "dimension (detailed_metrics: true's shape), not as one statistic set",
        ("disable_metric_extraction", True): "true: not supported: promwatch's documents always declare their "
            "metrics; list labels in emf.log_only_labels to keep them out of dimensions",
        ("disable_metric_extraction", False): "false, as promwatch",
    }
    for key in ("retain_initial_value_of_delta_metric", "detailed_metrics", "disable_metric_extraction"):
        if key in raw:
            value = raw[key]
            message = messages.get((key, value)) if isinstance(value, bool) else None
            findings.append(Finding(f"{path}.{key}", message or f"expected true or false, got {value!r}: not carried"))
    if "version" in raw:
        version = str(raw["version"])
        message = ("1, as promwatch (the _aws metadata)" if version == "1" else
                   f"{version!r}: not supported: promwatch writes EMF version 1 (with _aws), which CloudWatch reads "
                   "the same")
        findings.append(Finding(f"{path}.version", message))


def _placeholders(template: str, job_name: str, path: str, findings: list[Finding]) -> str:
    out = template
    for key in dict.fromkeys(_PLACEHOLDER.findall(template)):
        pattern = "{" + key + "}"
        attribute = _PLACEHOLDERS.get(key)
        if attribute is None:
            findings.append(Finding(path, f"{pattern} is not an awsemf placeholder (it knows "
                                          f"{', '.join('{' + k + '}' for k in _PLACEHOLDERS)}): awsemf refuses the "
                                          "config; kept as written: write the value"))
        elif key == "ServiceName":
            out = out.replace(pattern, job_name)
        elif key == "InstanceId":
            out = out.replace(pattern, "undefined")
            findings.append(Finding(path, f"{pattern} is each target's instance ({attribute}, which the prometheus "
                                          "receiver sets per target), but promwatch names one log group and stream "
                                          "per job: written 'undefined'; write the value"))
        else:
            out = out.replace(pattern, "undefined")
            findings.append(Finding(path, f"{pattern} needs the resource attribute {attribute}, which the prometheus "
                                          "receiver does not set (a collector processor may have): written 'undefined', "
                                          "as awsemf does without it; write the value"))
    return out


def _relabels_job(job: Mapping[str, Any]) -> bool:
    rules = job.get("relabel_configs")
    return isinstance(rules, list) and any(isinstance(r, dict) and r.get("target_label") == "job" for r in rules)
