"""The awsemf exporter's settings -> a job's emf section: every key of the exporter's Config
handled or reported, defaults reproduced as awsemf computed them (pure translation)."""
from __future__ import annotations

from typing import Any

import pytest
from promwatch.emf import EmfSettings
from promwatch_tools.importers import OTEL_SCOPE_NAME, Finding, import_adot

JOB = "prod/task-service"


def collector(awsemf: Any, job: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "receivers": {"prometheus": {"config": {"scrape_configs": [
            job or {"job_name": JOB, "static_configs": [{"targets": ["10.0.0.7:3000"]}]}]}}},
        "exporters": {"awsemf": awsemf},
        "service": {"pipelines": {"metrics": {"receivers": ["prometheus"], "exporters": ["awsemf"]}}},
    }


def imported(awsemf: Any, job: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[Finding]]:
    result = import_adot(collector(awsemf, job), {})
    return result.config["scrape_configs"][0], result.findings


def messages(findings: list[Finding], path: str) -> list[str]:
    return [f.message for f in findings if f.path == path]


# Every key of awsemfexporter's Config (config.go, with the AWSSessionSettings it squashes and
# the keys of the CloudWatch agent's fork), with a value a user would write.
AWSEMF_KEYS: dict[str, Any] = {
    "namespace": "Shop", "log_group_name": "/shop/metrics", "log_stream_name": "app",
    "dimension_rollup_option": "NoDimensionRollup",
    "metric_declarations": [{"dimensions": [["service"]], "metric_name_selectors": ["^x$"]}],
    "metric_descriptors": [{"metric_name": "x", "unit": "Count", "overwrite": True}],
    "output_destination": "cloudwatch", "resource_to_telemetry_conversion": {"enabled": False},
    "retain_initial_value_of_delta_metric": True, "detailed_metrics": True, "parse_json_encoded_attr_values": ["k"],
    "version": "0", "region": "eu-west-1", "endpoint": "https://logs.example", "role_arn": "arn:aws:iam::1:role/x",
    "max_retries": 3, "no_verify_ssl": True, "proxy_address": "http://proxy:3128", "local_mode": True,
    "imds_retries": 2, "certificate_file_path": "/ca.pem", "profile": "p", "shared_credentials_file": ["/c"],
    "num_workers": 8, "request_timeout_seconds": 30, "resource_arn": "arn:x", "external_id": "e",
    "middleware": "agenthealth/logs", "log_retention": 7, "tags": {"team": "a"},
    "eks_fargate_container_insights_enabled": True, "enhanced_container_insights": True,
    "disable_metric_extraction": True, "add_entity": True, "use_all_labels_as_dimensions": True,
}


CARRIED: dict[str, Any] = {
    "namespace": lambda emf: emf["namespace"] == "Shop",
    "log_group_name": lambda emf: emf["output"]["log_group_name"] == "/shop/metrics",
    "log_stream_name": lambda emf: emf["output"]["log_stream_name"] == "app",
    "metric_declarations": lambda emf: emf["metric_declarations"] == AWSEMF_KEYS["metric_declarations"],
    "metric_descriptors": lambda emf: emf["units"] == {"x": "Count"},
    "output_destination": lambda emf: emf["output"]["type"] == "logs",
}
"""The keys carried into the job's emf section, and what each becomes there (with its value above)."""


@pytest.mark.parametrize("key", sorted(AWSEMF_KEYS))
def test_every_awsemf_key_is_carried_or_reported(key: str) -> None:
    # given an awsemf exporter with one setting
    job, findings = imported({key: AWSEMF_KEYS[key]})
    # then it is carried into the emf section (what it becomes there), or a stderr line names it
    # (nothing is ignored silently)
    named = [f for f in findings if f.path == f"exporters.awsemf.{key}" or f.path.startswith(f"exporters.awsemf.{key}")]
    if key in CARRIED:
        emf = job["emf"]
        assert CARRIED[key](emf), emf
    else:
        assert named
    # and none of them is unknown to the importer
    assert not any("unknown" in f.message for f in named)
    # and the job's emf section is one promwatch loads
    EmfSettings.model_validate(job["emf"])


def test_unknown_keys_are_named() -> None:
    # given a key awsemf does not have (a typo)
    _, findings = imported({"namepsace": "Shop"})
    # then it is named as unknown
    assert messages(findings, "exporters.awsemf.namepsace") == [
        "unknown awsemf setting (not in the exporter's Config): not carried over"]


def test_bare_exporter_reproduces_awsemfs_defaults() -> None:
    # given a bare awsemf (None, as `awsemf:` loads)
    job, findings = imported(None)
    emf = job["emf"]
    # then namespace is the job (service.name), the log group /metrics/<namespace>
    assert emf["namespace"] == JOB
    assert emf["output"] == {"type": "logs", "log_group_name": f"/metrics/{JOB}"}
    # and the dimensions are awsemf's: labels without job/instance, OTelLib kept in every roll-up
    assert emf["dimension_rollup_option"] == "ZeroAndSingleDimensionRollup"
    assert emf["rollup_base_dimensions"] == ["OTelLib"] and emf["log_only_labels"] == ["job", "instance"]
    assert job["metric_relabel_configs"][-1] == {"target_label": "OTelLib", "replacement": OTEL_SCOPE_NAME,
                                                 "action": "replace"}
    # and the roll-up's cost is on stderr
    [rollup] = messages(findings, "exporters.awsemf.dimension_rollup_option")
    assert "N+2 CloudWatch metrics" in rollup and "NoDimensionRollup" in rollup


def test_rollup_spellings() -> None:
    # given awsemf's three options and a value it does not know
    assert imported({"dimension_rollup_option": "SingleDimensionRollupOnly"})[0]["emf"]["dimension_rollup_option"] \
        == "SingleDimensionRollup"
    job, findings = imported({"dimension_rollup_option": "NoDimensionRollup"})
    # then no roll-up keeps no base dimensions
    assert job["emf"]["dimension_rollup_option"] == "NoDimensionRollup" and "rollup_base_dimensions" not in job["emf"]
    job, findings = imported({"dimension_rollup_option": "Everything"})
    assert job["emf"]["dimension_rollup_option"] == "NoDimensionRollup"
    assert "none of awsemf's options" in messages(findings, "exporters.awsemf.dimension_rollup_option")[0]


def test_log_group_placeholders_resolve_as_awsemf_would() -> None:
    # given placeholders: ServiceName is the job, ClusterName needs an attribute the receiver does not set
    job, findings = imported({"log_group_name": "/aws/{ClusterName}/{ServiceName}", "log_stream_name": "{TaskId}"})
    # then ServiceName is replaced, the others become 'undefined' and are reported
    assert job["emf"]["output"] == {"type": "logs", "log_group_name": f"/aws/undefined/{JOB}",
                                    "log_stream_name": "undefined"}
    assert any("{ClusterName}" in m for m in messages(findings, "exporters.awsemf.log_group_name"))
    assert any("{TaskId}" in m for m in messages(findings, "exporters.awsemf.log_stream_name"))


@pytest.mark.parametrize(("placeholder", "said"), [
    ("{FaasName}", "needs the resource attribute faas.name"),
    ("{FaasVersion}", "needs the resource attribute faas.version"),
    ("{InstanceId}", "each target's instance (service.instance.id"),
])
def test_every_awsemf_placeholder_is_known(placeholder: str, said: str) -> None:
    # given a placeholder of upstream's patternKeyToAttributeMap the receiver leaves unset
    job, findings = imported({"log_group_name": f"/lambda/{placeholder}", "log_stream_name": "s"})
    # then it is written 'undefined' and reported, as for the other attributes
    assert job["emf"]["output"]["log_group_name"] == "/lambda/undefined"
    assert any(placeholder in m and said in m for m in messages(findings, "exporters.awsemf.log_group_name"))


def test_an_unknown_placeholder_is_reported_as_awsemf_refuses_it() -> None:
    # given a log stream name with a placeholder awsemf does not know
    job, findings = imported({"log_group_name": "/shop/metrics", "log_stream_name": "{HostName}-{ServiceName}"})
    # then the known one is translated, the unknown one kept and reported as refused by awsemf
    assert job["emf"]["output"]["log_stream_name"] == f"{{HostName}}-{JOB}"
    (message,) = messages(findings, "exporters.awsemf.log_stream_name")
    assert "{HostName} is not an awsemf placeholder" in message and "awsemf refuses the config" in message


def test_stdout_destination_writes_to_the_functions_log_group() -> None:
    # given the StdOut destination, when imported
    job, findings = imported({"output_destination": "StdOut"})
    # then the job writes to the function's own log group (no output section) and says so
    assert "output" not in job["emf"]
    assert messages(findings, "exporters.awsemf.output_destination")


def test_declarations_are_carried_and_unusable_ones_dropped_as_awsemf_does() -> None:
    # given one good declaration, one with a repeated label and one without selectors
    good = {"dimensions": [["route"], []], "metric_name_selectors": ["^http_"],
            "label_matchers": [{"label_names": ["code"], "regex": "^5"}]}
    job, findings = imported({"metric_declarations": [
        good, {"dimensions": [["a", "a"]], "metric_name_selectors": ["x"]}, {"dimensions": [["a"]]}]})
    # then the good and the repaired one are carried, the unusable one is named with why
    assert job["emf"]["metric_declarations"] == [good, {"dimensions": [["a"]], "metric_name_selectors": ["x"]}]
    assert "metric_name_selectors" in messages(findings, "exporters.awsemf.metric_declarations[2]")[0]
    EmfSettings.model_validate(job["emf"])


def test_metric_descriptors_become_units() -> None:
    # given descriptors with a known unit, an overwrite flag and an unknown unit
    job, findings = imported({"metric_descriptors": [
        {"metric_name": "nodejs_heap_size_total_bytes", "unit": "Bytes", "overwrite": True},
        {"metric_name": "queue_depth", "unit": "Count"},
        {"metric_name": "x", "unit": "Furlongs"}]})
    # then the known units are kept, the overwrite flag and the unknown unit reported
    assert job["emf"]["units"] == {"nodejs_heap_size_total_bytes": "Bytes", "queue_depth": "Count"}
    assert messages(findings, "exporters.awsemf.metric_descriptors[1].overwrite")
    assert "Furlongs" in messages(findings, "exporters.awsemf.metric_descriptors[2]")[0]


def test_resource_to_telemetry_keeps_job_and_instance_as_dimensions() -> None:
    # given resource_to_telemetry_conversion enabled, when imported
    job, findings = imported({"resource_to_telemetry_conversion": {"enabled": True}})
    # then job and instance stay dimensions (nothing log-only) and the finding says why
    assert "log_only_labels" not in job["emf"]
    assert "labels hold no dots" in messages(findings, "exporters.awsemf.resource_to_telemetry_conversion.enabled")[0]


def test_a_job_relabelled_into_another_name_is_reported() -> None:
    # given a scrape job whose relabelling writes the job label
    job = {"job_name": JOB, "static_configs": [{"targets": ["10.0.0.7:3000"]}],
           "relabel_configs": [{"source_labels": ["__meta_x"], "target_label": "job"}]}
    # when imported, then the relabelling is reported
    _, findings = imported(None, job)
    assert messages(findings, "receivers.prometheus.config.scrape_configs[0].relabel_configs")


def test_declared_sets_with_job_or_instance_are_left_out_as_awsemf_never_published_them() -> None:
    # given declarations naming job (a resource attribute of the receiver's metrics, not a label)
    job, findings = imported({"metric_declarations": [
        {"dimensions": [["job", "route"], ["route"]], "metric_name_selectors": ["^http_"],
         "label_matchers": [{"label_names": ["instance"], "regex": ".*"}]}]})
    # then only the set awsemf could publish is kept, and both are named
    assert job["emf"]["metric_declarations"][0]["dimensions"] == [["route"]]
    assert messages(findings, "exporters.awsemf.metric_declarations[0].dimensions")
    assert messages(findings, "exporters.awsemf.metric_declarations[0].label_matchers[0]")


def test_the_otellib_value_follows_the_collectors_scope_name() -> None:
    # given an older collector, whose prometheus receiver named its scope otelcol/prometheusreceiver
    result = import_adot(collector(None), {}, otel_scope_name="otelcol/prometheusreceiver")
    # then OTelLib carries that name
    rule = result.config["scrape_configs"][0]["metric_relabel_configs"][-1]
    assert rule["target_label"] == "OTelLib" and rule["replacement"] == "otelcol/prometheusreceiver"
