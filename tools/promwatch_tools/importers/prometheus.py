"""``prometheus.yml`` -> promwatch scrape config: ``global`` and ``scrape_configs`` carried as
they are where promwatch reads the key, everything else named with the reason.

Used on its own (``promwatch import prometheus``) and for the ``config:`` block of an ADOT
collector's prometheus receiver (``promwatch import adot``), which is the same schema.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promwatch.scrape.config import GlobalConfig, ScrapeJob
from promwatch.units import duration_seconds

from promwatch_tools.importers.findings import Finding, ImportInputError, ImportResult
from promwatch_tools.importers.unsupported import drop_unsupported_keys

PROMWATCH_ONLY_JOB_KEYS = frozenset({"emf", "strict", "allow_link_local"})
"""Keys of a promwatch job that Prometheus does not have (an import never finds them)."""
JOB_KEYS = frozenset(ScrapeJob.model_fields) - PROMWATCH_ONLY_JOB_KEYS
"""The Prometheus job keys promwatch reads: carried as written."""
GLOBAL_KEYS = frozenset(GlobalConfig.model_fields) - {"emf"}

_RULES_HINT = "import them with `promwatch import rules`"
_TOP_LEVEL_REASONS = {
    "rule_files": f"rules are CloudWatch alarms in promwatch: {_RULES_HINT}",
    "alerting": "not applicable: promwatch alarms notify through CloudWatch alarm actions (the spec's actions)",
    "remote_write": "not applicable: promwatch writes CloudWatch EMF (or OTLP: the job's emf.output)",
    "remote_read": "not applicable: promwatch keeps no time series database",
    "storage": "not applicable: promwatch keeps no time series database (CloudWatch stores the metrics)",
    "tracing": "not applicable: promwatch's functions are traced by Lambda (X-Ray)",
    "otlp": "not applicable: promwatch does not receive OTLP",
    "runtime": "not applicable: Lambda sizes the runtime",
    "scrape_config_files": "not carried over: import each file on its own and merge their scrape_configs",
}
_GLOBAL_REASONS = {
    "evaluation_interval": f"not applicable: alarms are evaluated by CloudWatch at their period; {_RULES_HINT}",
    "rule_query_offset": f"not applicable: {_RULES_HINT}",
    "query_log_file": "not applicable: promwatch serves no queries",
    "scrape_failure_log_file": "not applicable: failed scrapes are logged in the function's log group",
}
_JOB_REASONS = {
    "oauth2": "not supported: use authorization with a token (an ssm:/ or secretsmanager: reference keeps it out "
              "of the file); the job is imported without it",
    "proxy_url": "not supported: the function reaches targets directly (in its VPC)",
    "no_proxy": "not supported: the function reaches targets directly (in its VPC)",
    "proxy_from_environment": "not supported: the function reaches targets directly (in its VPC)",
    "proxy_connect_header": "not supported: the function reaches targets directly (in its VPC)",
    "enable_http2": "not needed: promwatch scrapes over HTTP/1.1",
    "enable_compression": "not needed: promwatch always asks for gzip",
    "scrape_protocols": "not needed: promwatch negotiates the text format and OpenMetrics itself",
    "fallback_scrape_protocol": "not needed: promwatch detects the format from the page",
    "target_limit": "not supported: the job scrapes every target it discovers",
    "keep_dropped_targets": "not applicable: `promwatch targets` lists dropped targets with the reason",
    "track_timestamps_staleness": "not applicable: CloudWatch has no staleness markers",
    "scrape_failure_log_file": "not applicable: failed scrapes are logged in the function's log group",
    "http_headers": "not supported: the job is imported without these headers",
}
_NATIVE_HISTOGRAM_REASON = "not supported: promwatch publishes classic histograms as CloudWatch distributions"


def import_prometheus(data: Any, *, eks_cluster: str | None = None) -> ImportResult:
    """A promwatch scrape config from a Prometheus configuration.

    Parameters
    ----------
    data
        The ``prometheus.yml`` document, as loaded from YAML.
    eks_cluster
        The EKS cluster in-cluster ``kubernetes_sd_configs`` (no ``api_server``) discovered in.

    Raises
    ------
    ImportInputError
        When ``data`` is not a mapping, or has no ``scrape_configs`` list.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ImportInputError(f"expected a Prometheus configuration (a mapping), got {type(data).__name__}")
    if "scrape_configs" not in data and data.keys() & {"receivers", "exporters", "service"}:
        raise ImportInputError("scrape_configs: missing; this looks like an OpenTelemetry Collector config (receivers, "
                               "exporters, service): use `promwatch import adot FILE`")
    findings: list[Finding] = []
    for key, value in data.items():
        if key in ("global", "scrape_configs"):
            continue
        reason = _TOP_LEVEL_REASONS.get(str(key), "not a Prometheus setting promwatch knows: not carried over")
        if key == "rule_files" and isinstance(value, list):
            listed = ", ".join(str(v) for v in value)
            reason = f"{listed}: {reason}" if listed else reason
        findings.append(Finding(str(key), reason))
    config = translate_prometheus_config(data, "", findings, eks_cluster=eks_cluster)
    drop_unsupported_keys(config, findings)
    return ImportResult(config, findings)


def translate_prometheus_config(data: Mapping[str, Any], path: str, findings: list[Finding], *,
                                eks_cluster: str | None = None) -> dict[str, Any]:
    """``global`` and ``scrape_configs`` of ``data`` as promwatch reads them; what is left out
    is appended to ``findings`` (key paths under ``path``). In-cluster ``kubernetes_sd_configs``
    get ``eks_cluster`` when it is given (promwatch runs outside the cluster).

    Raises
    ------
    ImportInputError
        When ``scrape_configs`` is missing or not a list.
    """
    prefix = f"{path}." if path else ""
    jobs = data.get("scrape_configs")
    if not isinstance(jobs, list):
        raise ImportInputError(f"{prefix}scrape_configs: expected a list of jobs, got {type(jobs).__name__}")
    config: dict[str, Any] = {}
    raw_global = data.get("global")
    if isinstance(raw_global, dict):
        config["global"] = _carried(raw_global, GLOBAL_KEYS, f"{prefix}global", _GLOBAL_REASONS, findings)
    elif raw_global is not None:
        findings.append(Finding(f"{prefix}global", f"expected a mapping, got {type(raw_global).__name__}: left out"))
    config["scrape_configs"] = [translate_job(job, f"{prefix}scrape_configs[{index}]", findings)
                                for index, job in enumerate(jobs)]
    for index, job in enumerate(config["scrape_configs"]):
        _in_cluster_discovery(job, f"{prefix}scrape_configs[{index}]", eks_cluster, findings)
        _in_cluster_settings(job, f"{prefix}scrape_configs[{index}]", findings)
        _faster_than_the_schedule(job, f"{prefix}scrape_configs[{index}]", findings)
    _faster_than_the_schedule(config.get("global"), f"{prefix}global", findings)
    return config


SCHEDULE_SECONDS = 60
"""The scrape function's schedule at its fastest: EventBridge's shortest rate is a minute."""


def _faster_than_the_schedule(section: Any, path: str, findings: list[Finding]) -> None:
    """Name a ``scrape_interval`` under a minute: promwatch scrapes once per scheduled invocation."""
    value = section.get("scrape_interval") if isinstance(section, dict) else None
    try:
        seconds = duration_seconds(value) if value is not None else None
    except ValueError:
        return  # the scrape config loader names it
    if seconds is not None and 0 < seconds < SCHEDULE_SECONDS:
        findings.append(Finding(f"{path}.scrape_interval", f"{value}: kept, but promwatch scrapes a job once per "
                                "invocation of the scrape function's schedule (rate(1 minute) by default, EventBridge's "
                                "shortest): every minute, not every " + str(value) + "; the value still sets the "
                                "default scrape_timeout and the counters' expected gap (`promwatch cost` prices the "
                                "schedule)"))


SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount/"
"""Where a pod finds its service account's token and the cluster's CA: not in a Lambda function."""
IN_CLUSTER_API = "kubernetes.default.svc"
"""The API server's name inside the cluster: it resolves only there."""


def _strings(value: Any, path: str) -> list[tuple[str, str]]:
    """Every string under ``value``, with its key path."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _strings(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _strings(item, f"{path}[{index}]")]
    return []


def _in_cluster_settings(job: Any, path: str, findings: list[Finding]) -> None:
    """Name what works only from a pod in the cluster: the service account's files, the in-cluster API name."""
    for where, value in _strings(job, path):
        if value.startswith(SERVICE_ACCOUNT_DIR):
            findings.append(Finding(where, f"{value}: the pod's service account file, which the function (in Lambda, "
                                           "outside the cluster) does not have: kept, the scrape fails reading it; for "
                                           "the cluster's API use kubernetes_sd_configs with eks_cluster (IAM "
                                           "authentication, the CA from eks:DescribeCluster), for targets an "
                                           "ssm:/ or secretsmanager: reference to a token"))
        elif IN_CLUSTER_API in value:
            findings.append(Finding(where, f"{value!r}: {IN_CLUSTER_API} resolves only inside the cluster: kept, it "
                                           "fails from Lambda; reach the API with kubernetes_sd_configs and "
                                           "eks_cluster, and scrape targets at their own addresses (node or pod IPs "
                                           "in the function's VPC) instead of through the API server's proxy"))


def _in_cluster_discovery(job: Any, path: str, eks_cluster: str | None, findings: list[Finding]) -> None:
    sds = job.get("kubernetes_sd_configs") if isinstance(job, dict) else None
    for index, sd in enumerate(sds if isinstance(sds, list) else []):
        if not isinstance(sd, dict) or sd.get("api_server") or sd.get("eks_cluster"):
            continue
        where = f"{path}.kubernetes_sd_configs[{index}]"
        if eks_cluster:
            sd["eks_cluster"] = eks_cluster
            findings.append(Finding(where, f"in-cluster discovery: eks_cluster {eks_cluster!r} added (promwatch runs "
                                           "outside the cluster and reaches its API with its IAM role)"))
            for key in _IN_CLUSTER_CREDENTIALS:
                if _service_account_file(sd, key):
                    _drop(sd, key)
                    findings.append(Finding(f"{where}.{key}", "the pod's service account file: left out, eks_cluster "
                                                              "authenticates with the function's IAM role"))
        else:
            findings.append(Finding(where, "in-cluster discovery (no api_server): promwatch runs outside the "
                                           "cluster; import again with --eks-cluster NAME, or write api_server"))


_IN_CLUSTER_CREDENTIALS = ("bearer_token_file", "authorization.credentials_file", "tls_config.ca_file")


def _service_account_file(section: Mapping[str, Any], dotted: str) -> bool:
    *parents, last = dotted.split(".")
    for parent in parents:
        inner = section.get(parent)
        section = inner if isinstance(inner, dict) else {}
    value = section.get(last)
    return isinstance(value, str) and value.startswith(SERVICE_ACCOUNT_DIR)


def _drop(section: dict[str, Any], dotted: str) -> None:
    """Delete a dotted key, and a parent section it leaves empty."""
    parent, _, last = dotted.rpartition(".")
    inner = section[parent] if parent else section
    del inner[last]
    if parent and not inner:
        del section[parent]


def translate_job(job: Any, path: str, findings: list[Finding]) -> Any:
    """One Prometheus job as promwatch reads it (keys it does not read are named in ``findings``).

    A job that is not a mapping is returned as written: the scrape config loader names it.
    """
    if not isinstance(job, dict):
        return job
    return _carried(job, JOB_KEYS, path, _JOB_REASONS, findings, job_level=True)


def _carried(section: Mapping[str, Any], keys: frozenset[str], path: str, reasons: Mapping[str, str],
             findings: list[Finding], *, job_level: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in section.items():
        name = str(key)
        if name in keys:
            out[name] = value
        elif job_level and name.endswith("_sd_configs"):
            findings.append(Finding(f"{path}.{name}", "not supported (promwatch discovers with file, ec2, aws, "
                                                      "kubernetes, dns and http): the targets it found are not scraped"))
        elif name.startswith(("native_histogram", "scrape_native_histograms", "convert_classic_histograms",
                              "always_scrape_classic_histograms", "scrape_classic_histograms")):
            findings.append(Finding(f"{path}.{name}", _NATIVE_HISTOGRAM_REASON))
        elif name.startswith("metric_name_") and name.endswith("_scheme"):
            findings.append(Finding(f"{path}.{name}", "not applicable: promwatch keeps the exposed names (CloudWatch "
                                                      "accepts UTF-8 metric names)"))
        else:
            findings.append(Finding(f"{path}.{name}", reasons.get(name, "not a setting promwatch reads: not carried over")))
    return out
