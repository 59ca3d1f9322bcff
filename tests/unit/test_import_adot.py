"""ADOT collector configs -> promwatch scrape configs: the seed's sidecar config imports as is,
every other component and receiver setting is named, ${env:...} resolves as the collector does."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from promwatch.safeload import load_yaml, read_text
from promwatch.scrape import parse_config
from promwatch_tools.importers import Finding, ImportInputError, expand, import_adot

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "adot" / "otel-config.yaml"


def paths(findings: list[Finding]) -> set[str]:
    return {f.path for f in findings}


def test_the_seeds_sidecar_config_imports_as_is() -> None:
    # given the seed's otel-config.yaml, unchanged
    data = load_yaml(read_text(FIXTURE))
    # when imported
    result = import_adot(data, {})
    # then the config loads with the scrape config loader: one job, namespace prod/task-service
    config = parse_config(yaml.safe_dump(result.config))
    [job] = config.scrape_configs
    assert job.job_name == "prod/task-service" and job.emf.namespace == "prod/task-service"
    assert job.interval == 60 and job.timeout == 10 and job.metrics_path == "/metrics"
    assert job.emf.output.log_group_name == "/metrics/prod/task-service"
    # and the batch processor and the health_check extension are named as not needed
    assert {"processors.batch", "extensions.health_check"} <= paths(result.findings)


def test_components_and_receiver_keys_that_are_not_carried_are_named() -> None:
    # given an ADOT config with a target allocator, suffix trimming, processors, other pipelines and extensions
    data = {
        "receivers": {"prometheus/app": {"config": {"scrape_configs": [{"job_name": "a"}]},
                                         "target_allocator": {"endpoint": "http://ta"}, "trim_metric_suffixes": True},
                      "otlp": {"protocols": {"grpc": None}}},
        "processors": {"resourcedetection/ecs": {"detectors": ["ecs"]}, "batch/metrics": {}},
        "exporters": {"awsemf/app": {}, "debug": {}},
        "extensions": {"sigv4auth": {}},
        "service": {"pipelines": {"metrics/app": {"receivers": ["prometheus/app"], "exporters": ["awsemf/app"]},
                                  "traces": {"receivers": ["otlp"], "exporters": ["debug"]}},
                    "telemetry": {"logs": {"level": "debug"}}},
    }
    # when imported
    result = import_adot(data, {})
    found = {f.path: f.message for f in result.findings}
    # then each thing not carried over is named with why
    assert found["receivers.prometheus/app.target_allocator"].startswith("not applicable")
    assert "keeps the exposed names" in found["receivers.prometheus/app.trim_metric_suffixes"]
    assert "no collector processors" in found["processors.resourcedetection/ecs"]
    assert found["processors.batch/metrics"].startswith("not needed")
    assert {"receivers.otlp", "exporters.debug", "extensions.sigv4auth", "service.pipelines.traces",
            "service.telemetry"} <= set(found)
    # and the scrape config keeps an EMF namespace named after the job
    assert result.config["scrape_configs"][0]["emf"]["namespace"] == "a"


def test_a_prometheus_receiver_exporting_elsewhere_gets_promwatch_defaults() -> None:
    # given a Prometheus receiver exporting to remote write, not awsemf
    data = {"receivers": {"prometheus": {"config": {"scrape_configs": [{"job_name": "a"}]}}},
            "exporters": {"prometheusremotewrite": {"endpoint": "http://x"}},
            "service": {"pipelines": {"metrics": {"receivers": ["prometheus"], "exporters": ["prometheusremotewrite"]}}}}
    # when imported
    result = import_adot(data, {})
    # then the job gets promwatch's default EMF settings and the receiver is reported
    assert "emf" not in result.config["scrape_configs"][0]
    assert "receivers.prometheus" in paths(result.findings)


@pytest.mark.parametrize("data", [
    [], {"receivers": {}}, {"receivers": {"prometheus": {"config": {"scrape_configs": []}}},
                            "service": {"pipelines": {"traces": {"receivers": ["prometheus"]}}}},
])
def test_no_prometheus_receiver_in_a_metrics_pipeline_is_an_error(data: object) -> None:
    # given a config with no Prometheus receiver in a metrics pipeline, when imported, then it is refused
    with pytest.raises(ImportInputError):
        import_adot(data, {})


def test_environment_references_resolve_as_the_collector_does() -> None:
    # given ${env:...}, ${VAR}, a default, $$ escapes, an unset variable and another provider
    data = {"a": "${env:REGION}", "b": "${PORT}", "c": "${env:MISSING:-7s}", "d": "$$1-${env:REGION}",
            "e": "${env:UNSET}", "f": "${file:/etc/x}", "g": ["plain $1"]}
    out, findings = expand(data, {"REGION": "eu-west-1", "PORT": "3000"})
    # then values resolve, a whole reference takes its YAML type, $$ is $
    assert out == {"a": "eu-west-1", "b": 3000, "c": "7s", "d": "$1-eu-west-1", "e": "", "f": "${file:/etc/x}",
                   "g": ["plain $1"]}
    # and the default, the unset variable and the other provider are reported
    assert paths(findings) == {"c", "e", "f"}


def test_env_references_in_the_receiver_config_are_resolved_before_translation() -> None:
    # given the fixture config with an ${env:...} reference as the scrape interval
    data = load_yaml(read_text(FIXTURE))
    data["receivers"]["prometheus"]["config"]["global"]["scrape_interval"] = "${env:SCRAPE_INTERVAL}"
    # when imported with that variable set
    result = import_adot(data, {"SCRAPE_INTERVAL": "15s"})
    # then the interval is the variable's value
    assert result.config["global"]["scrape_interval"] == "15s"


def test_a_second_receivers_global_goes_into_its_jobs() -> None:
    # given two prometheus receivers with different globals in one pipeline
    data = {"receivers": {"prometheus": {"config": {"global": {"scrape_interval": "1m"},
                                                    "scrape_configs": [{"job_name": "a"}]}},
                          "prometheus/fast": {"config": {"global": {"scrape_interval": "10s", "scrape_timeout": "5s",
                                                                    "external_labels": {"tier": "fast"}},
                                                         "scrape_configs": [{"job_name": "b"},
                                                                            {"job_name": "c", "scrape_interval": "20s"}]}}},
            "exporters": {"awsemf": None},
            "service": {"pipelines": {"metrics": {"receivers": ["prometheus", "prometheus/fast"],
                                                  "exporters": ["awsemf"]}}}}
    result = import_adot(data, {})
    # then the first global is promwatch's, the second's defaults are written into its own jobs
    config = parse_config(yaml.safe_dump(result.config))
    assert [(j.job_name, j.interval, j.timeout) for j in config.scrape_configs] == [
        ("a", 60, 10), ("b", 10, 5), ("c", 20, 5)]
    # and its external labels, which cannot follow, are named
    assert "receivers.prometheus/fast.config.global.external_labels" in paths(result.findings)


EKS_PODS = """
receivers:
  prometheus:
    config:
      global: {scrape_interval: 1m, scrape_timeout: 10s}
      scrape_configs:
        - job_name: kubernetes-pods
          sample_limit: 10000
          kubernetes_sd_configs: [{role: pod}]
          relabel_configs:
            - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
              action: keep
              regex: true
            - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
              action: replace
              regex: ([^:]+)(?::\\d+)?;(\\d+)
              replacement: $$1:$$2
              target_label: __address__
            - source_labels: [__meta_kubernetes_namespace]
              target_label: Namespace
exporters:
  awsemf:
    namespace: ContainerInsights/Prometheus
    log_group_name: /aws/containerinsights/{ClusterName}/prometheus
    log_stream_name: "{TaskId}"
    resource_to_telemetry_conversion: {enabled: true}
    dimension_rollup_option: NoDimensionRollup
    metric_declarations:
      - dimensions: [[ClusterName, Namespace]]
        metric_name_selectors: ["^http_requests_total$"]
service:
  pipelines:
    metrics: {receivers: [prometheus], exporters: [awsemf]}
"""


def test_an_eks_pods_config_in_the_adot_docs_shape_imports() -> None:
    # given an EKS pod-discovery config with $$-escaped relabel replacements and placeholders
    result = import_adot(yaml.safe_load(EKS_PODS), {}, eks_cluster="prod-eks")
    # then it loads: $$1:$$2 is $1:$2, the discovery reaches the cluster, the declarations are carried
    [job] = parse_config(yaml.safe_dump(result.config)).scrape_configs
    assert job.relabel_configs[1].replacement == "$1:$2"
    assert job.kubernetes_sd_configs[0].eks_cluster == "prod-eks"
    assert job.emf.namespace == "ContainerInsights/Prometheus" and len(job.emf.metric_declarations) == 1
    assert job.emf.output.log_group_name == "/aws/containerinsights/undefined/prometheus"
    # and the placeholders awsemf filled from resource attributes are named
    assert {"exporters.awsemf.log_group_name", "exporters.awsemf.log_stream_name"} <= paths(result.findings)
