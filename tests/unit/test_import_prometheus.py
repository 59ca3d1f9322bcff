"""prometheus.yml -> promwatch scrape config: jobs carried as written, rule_files pointed at
`promwatch import rules`, what promwatch does not do named with the reason (pure translation)."""
from __future__ import annotations

import pytest
import yaml
from promwatch.scrape import parse_config
from promwatch_tools.importers import ImportInputError, import_prometheus

PROMETHEUS_YML = """
global:
  scrape_interval: 15s
  evaluation_interval: 30s
  external_labels: {cluster: prod}
rule_files: [alerts/node.yml, alerts/app.yml]
alerting:
  alertmanagers: [{static_configs: [{targets: ['alertmanager:9093']}]}]
remote_write: [{url: 'http://mimir/api/v1/push'}]
storage: {tsdb: {out_of_order_time_window: 10m}}
scrape_configs:
  - job_name: node
    scrape_interval: 30s
    static_configs: [{targets: ['10.0.0.1:9100'], labels: {env: prod}}]
    relabel_configs:
      - {source_labels: [__address__], regex: '(.*):9100', target_label: host, replacement: '$1'}
    metric_relabel_configs:
      - {source_labels: [__name__], regex: 'go_.*', action: drop}
    ec2_sd_configs: [{region: eu-west-1, port: 9100}]
    consul_sd_configs: [{server: 'consul:8500'}]
    oauth2: {client_id: a, client_secret: b, token_url: 'https://idp/token'}
    enable_http2: false
    native_histogram_bucket_limit: 100
"""


def test_jobs_are_carried_and_the_rest_is_named() -> None:
    # given a prometheus.yml with rules, alerting, remote_write, storage and unsupported job keys
    result = import_prometheus(yaml.safe_load(PROMETHEUS_YML))
    found = {f.path: f.message for f in result.findings}
    # then the config loads with promwatch's loader, the job as written
    config = parse_config(yaml.safe_dump(result.config))
    [job] = config.scrape_configs
    assert job.interval == 30 and job.relabel_configs[0].target_label == "host" and len(job.ec2_sd_configs) == 1
    assert config.global_.external_labels == {"cluster": "prod"}
    # and rule_files point at the rules importer, listing the files
    assert found["rule_files"] == ("alerts/node.yml, alerts/app.yml: rules are CloudWatch alarms in promwatch: "
                                   "import them with `promwatch import rules`")
    # and the rest is named with why
    for path in ("alerting", "remote_write", "storage", "global.evaluation_interval"):
        assert found[path].startswith("not applicable"), path
    for key in ("consul_sd_configs", "oauth2", "enable_http2", "native_histogram_bucket_limit"):
        assert f"scrape_configs[0].{key}" in found, key
    assert "consul_sd_configs" not in result.config["scrape_configs"][0]


def test_unknown_keys_are_named_never_dropped_silently() -> None:
    # given a Prometheus config with a misspelt top-level and job key, when imported
    result = import_prometheus({"scrape_configs": [{"job_name": "a", "scrape_timout": "5s"}], "globall": {}})
    # then both are named in the findings
    assert {f.path for f in result.findings} == {"globall", "scrape_configs[0].scrape_timout"}


@pytest.mark.parametrize("data", [[], "text", {"scrape_configs": "a"}, {"global": {}}])
def test_a_document_that_is_not_a_prometheus_config_is_an_error(data: object) -> None:
    # given a document that is a list, text, or a config of the wrong shape, when imported, then it is refused
    with pytest.raises(ImportInputError):
        import_prometheus(data)


def test_keys_deeper_in_a_job_that_promwatch_does_not_read_are_left_out_and_named() -> None:
    # given a kubernetes discovery and TLS settings with Prometheus keys promwatch's models do not have
    data = {"scrape_configs": [{"job_name": "pods",
                                "kubernetes_sd_configs": [{"role": "pod", "eks_cluster": "prod", "enable_http2": True}],
                                "tls_config": {"insecure_skip_verify": False, "min_version": "TLS12"}}]}
    result = import_prometheus(data)
    # then the rest of the job is imported, loads, and each left-out key is named with its job
    parse_config(yaml.safe_dump(result.config))
    found = {f.path: f.message for f in result.findings}
    for path in ("scrape_configs[0].kubernetes_sd_configs[0].enable_http2", "scrape_configs[0].tls_config.min_version"):
        assert found[path] == "job 'pods': not a setting promwatch reads here: not carried over", found


def test_in_cluster_kubernetes_discovery_needs_a_cluster() -> None:
    # given the EKS examples' in-cluster discovery (no api_server)
    data = {"scrape_configs": [{"job_name": "pods", "kubernetes_sd_configs": [{"role": "pod"}]}]}
    # when imported without a cluster, then it is named with what to do
    [finding] = import_prometheus(data).findings
    assert finding.path == "scrape_configs[0].kubernetes_sd_configs[0]" and "--eks-cluster" in finding.message
    # and with one, the discovery reaches that cluster and the config loads
    result = import_prometheus(data, eks_cluster="prod-eks")
    assert parse_config(yaml.safe_dump(result.config)).scrape_configs[0].kubernetes_sd_configs[0].eks_cluster == "prod-eks"


def test_a_collector_config_is_pointed_to_import_adot() -> None:
    # Given an OpenTelemetry Collector config given to `import prometheus`
    data = {"receivers": {"prometheus": {"config": {"scrape_configs": []}}}, "exporters": {"awsemf": {}},
            "service": {"pipelines": {}}}
    # Then the error says what it looks like and which importer reads it
    with pytest.raises(ImportInputError, match=r"looks like an OpenTelemetry Collector config .*`promwatch import adot"):
        import_prometheus(data)


@pytest.mark.parametrize(("where", "interval"), [("global", "15s"), ("job", "5s"), ("job", 30)])
def test_a_scrape_interval_under_a_minute_is_named(where: str, interval: object) -> None:
    # Given a scrape_interval the schedule (a minute at its fastest) cannot meet
    job: dict[str, object] = {"job_name": "a", **({"scrape_interval": interval} if where == "job" else {})}
    data = {"scrape_configs": [job], **({"global": {"scrape_interval": interval}} if where == "global" else {})}
    found = {f.path: f.message for f in import_prometheus(data).findings}
    # Then it is kept and named: promwatch scrapes once a minute
    path = "global.scrape_interval" if where == "global" else "scrape_configs[0].scrape_interval"
    assert "scrapes a job once per invocation" in found[path] and "every minute" in found[path], found
    # And a minute or more is not named
    assert not import_prometheus({"scrape_configs": [{"job_name": "a", "scrape_interval": "1m"}]}).findings


SA = "/var/run/secrets/kubernetes.io/serviceaccount"


def test_in_cluster_credentials_and_the_in_cluster_api_name_are_named() -> None:
    # Given the kubernetes-cadvisor job of Prometheus' example (scraped through the API server's proxy)
    job = {"job_name": "cadvisor", "scheme": "https", "bearer_token_file": f"{SA}/token",
           "tls_config": {"ca_file": f"{SA}/ca.crt"},
           "kubernetes_sd_configs": [{"role": "node"}],
           "relabel_configs": [{"target_label": "__address__", "replacement": "kubernetes.default.svc:443"}]}
    found = {f.path: f.message for f in import_prometheus({"scrape_configs": [job]}).findings}
    # Then each is named, saying it fails from Lambda and what to use instead
    for path in ("scrape_configs[0].bearer_token_file", "scrape_configs[0].tls_config.ca_file"):
        assert "service account file" in found[path] and "eks_cluster" in found[path], found
    address = found["scrape_configs[0].relabel_configs[0].replacement"]
    assert "resolves only inside the cluster" in address and "eks_cluster" in address


def test_in_cluster_discovery_credentials_give_way_to_eks_cluster() -> None:
    # Given in-cluster discovery with the service account's token and CA
    sd = {"role": "pod", "bearer_token_file": f"{SA}/token", "tls_config": {"ca_file": f"{SA}/ca.crt"}}
    result = import_prometheus({"scrape_configs": [{"job_name": "pods", "kubernetes_sd_configs": [sd]}]},
                               eks_cluster="prod")
    # Then with --eks-cluster they are left out (named), and the config loads
    [imported] = result.config["scrape_configs"][0]["kubernetes_sd_configs"]
    assert imported == {"role": "pod", "eks_cluster": "prod"}
    found = {f.path: f.message for f in result.findings}
    assert "left out, eks_cluster" in found["scrape_configs[0].kubernetes_sd_configs[0].bearer_token_file"]
    parse_config(yaml.safe_dump(result.config))
