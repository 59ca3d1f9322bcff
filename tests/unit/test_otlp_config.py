"""``outputs:`` (emf, otlp or both), the OTLP endpoint and region, and ``--output otlp[:URL]``."""
from __future__ import annotations

import pytest
from promwatch.otlp import OtlpOutput, default_endpoint, output_region
from promwatch.otlp.sink import OtlpError
from promwatch.scrape import ConfigError, parse_config
from promwatch_tools.commands.scrape import otlp_only

CONFIG = """
global: {outputs: [otlp]}
scrape_configs:
  - job_name: inherits
  - job_name: both
    outputs: [emf, {type: otlp, region: eu-west-1}]
  - job_name: classic
    outputs: [emf]
"""


def test_outputs_default_to_emf_inherit_from_global_and_may_name_both() -> None:
    # given a config whose global sends OTLP
    config = parse_config(CONFIG, origin="t.yaml")
    jobs = {job.job_name: job for job in config.scrape_configs}
    # then a job naming no outputs inherits it, others keep their own
    assert (jobs["inherits"].sends_emf, jobs["inherits"].otlp) == (False, OtlpOutput())
    assert jobs["both"].sends_emf and jobs["both"].otlp == OtlpOutput(region="eu-west-1")
    assert (jobs["classic"].sends_emf, jobs["classic"].otlp) == (True, None)
    # and without any outputs anywhere a job is EMF only, as before
    plain = parse_config("scrape_configs: [{job_name: a}]", origin="t.yaml").scrape_configs[0]
    assert (plain.sends_emf, plain.otlp) == (True, None)


@pytest.mark.parametrize(("outputs", "expected"), [
    ("[emf, emf]", "names an output twice"),
    ("[]", "outputs is empty"),
    ("[{type: otlp, endpoint: 'ftp://x/v1/metrics'}]", "is not an http(s) URL"),
    ("[{type: otlp, region: 'EU WEST'}]", "region"),
    ("[{type: kafka}]", "kafka"),
    ("[{type: otlp, endpoint: 'http://collector:4318/v1/traces'}]", "'/v1/traces', not the OTLP metrics path"),
    ("[{type: otlp, endpoint: 'https://gw.example/otlp'}]", "expected one ending with /v1/metrics"),
])
def test_bad_outputs_are_refused_naming_the_key(outputs: str, expected: str) -> None:
    # given outputs that repeat, are empty, or name a bad endpoint, region or type
    with pytest.raises(ConfigError, match="outputs") as caught:
        # when parsed, then the error names the key and the problem
        parse_config(f"scrape_configs: [{{job_name: a, outputs: {outputs}}}]", origin="t.yaml")
    assert expected in str(caught.value)


def test_endpoint_defaults_from_the_region_and_the_region_from_endpoint_or_environment() -> None:
    # given a region, then the default endpoint is the CloudWatch OTLP endpoint of that region
    assert default_endpoint("eu-west-1") == "https://monitoring.eu-west-1.amazonaws.com/v1/metrics"
    # and an output's region is its own, else the endpoint's, else the environment's
    assert output_region(OtlpOutput(region="ap-south-1"), {"AWS_REGION": "x"}) == "ap-south-1"
    assert output_region(OtlpOutput(endpoint="https://monitoring.eu-north-1.amazonaws.com/v1/metrics"), {}) == "eu-north-1"
    assert output_region(OtlpOutput(endpoint="http://127.0.0.1:1/v1/metrics"), {"AWS_DEFAULT_REGION": "us-west-2"}) == "us-west-2"
    # and without any of them it is refused
    with pytest.raises(OtlpError, match="no region"):
        output_region(OtlpOutput(), {})


@pytest.mark.parametrize("base", ["http://collector:4318", "http://collector:4318/"])
def test_an_endpoint_without_a_path_gets_the_otlp_metrics_path(base: str) -> None:
    # given a collector's base URL, as collector users write it
    job = parse_config(f"scrape_configs: [{{job_name: a, outputs: [{{type: otlp, endpoint: '{base}'}}]}}]",
                       origin="t.yaml").scrape_configs[0]
    # then requests go to its /v1/metrics, not to /
    assert job.otlp is not None and job.otlp.endpoint == "http://collector:4318/v1/metrics"


def test_cli_otlp_output_sends_every_job_over_otlp_only() -> None:
    # given a config with several jobs, when every output is set to one OTLP endpoint
    config = otlp_only(parse_config(CONFIG, origin="t.yaml"), "http://127.0.0.1:9/v1/metrics")
    # then every job sends over OTLP only, to that endpoint
    assert {(job.sends_emf, job.otlp.endpoint if job.otlp else None) for job in config.scrape_configs} == {
        (False, "http://127.0.0.1:9/v1/metrics")}
    # and an endpoint that is no URL is refused
    with pytest.raises(ConfigError, match="otlp:nope"):
        otlp_only(config, "nope")


ESCAPING_CONFIG = """
scrape_configs:
  - {job_name: otlp-only, outputs: [otlp], static_configs: [{targets: ["h:1"]}]}
  - {job_name: both, outputs: [emf, otlp], static_configs: [{targets: ["h:1"]}]}
  - {job_name: emf, static_configs: [{targets: ["h:1"]}]}
  - {job_name: emf-utf8, metric_name_validation_scheme: utf8, static_configs: [{targets: ["h:1"]}]}
  - {job_name: otlp-legacy, outputs: [otlp], metric_name_validation_scheme: legacy,
     static_configs: [{targets: ["h:1"]}]}
  - {job_name: otlp-dots, outputs: [otlp], metric_name_escaping_scheme: dots, static_configs: [{targets: ["h:1"]}]}
"""


def test_utf8_names_are_asked_for_by_otlp_only_jobs_and_utf8_validation_emf_jobs_keep_their_header() -> None:
    from promwatch.exposition import ACCEPT_HEADER
    from promwatch.httpclient import SecretResolver
    from promwatch.scrape.request import fetch_request
    from promwatch.scrape.targets import build_targets

    # given jobs with each combination of outputs and Prometheus 3 name schemes
    config = parse_config(ESCAPING_CONFIG, origin="t.yaml")
    # when their scrape requests are made
    accept = {job.job_name: fetch_request(job, build_targets(job)[0][0], SecretResolver()).accept
              for job in config.scrape_configs}
    # then an OTLP-only job and a job validating utf8 ask for names as exposed, as Prometheus 3 does
    for name in ("otlp-only", "emf-utf8"):
        assert accept[name].startswith("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8,")
        assert "text/plain;version=1.0.0;escaping=allow-utf-8;" in accept[name]
    # and a job with EMF output (unless it says utf8) or legacy validation sends the header it always has
    assert accept["both"] == accept["emf"] == accept["otlp-legacy"] == ACCEPT_HEADER
    # and an explicit escaping scheme is what is asked for
    assert "escaping=dots" in accept["otlp-dots"]


def test_global_name_schemes_are_inherited_and_legacy_refuses_allow_utf8() -> None:
    # given a utf8 validation scheme in global, when parsed
    config = parse_config("global: {metric_name_validation_scheme: utf8}\nscrape_configs: [{job_name: a}]",
                          origin="t.yaml")
    # then a job inherits it as allow-utf-8 escaping
    assert config.scrape_configs[0].name_escaping == "allow-utf-8"
    # and a job with the legacy scheme and allow-utf-8 escaping is refused
    with pytest.raises(ConfigError, match="legacy"):
        parse_config("scrape_configs: [{job_name: a, metric_name_validation_scheme: legacy, "
                     "metric_name_escaping_scheme: allow-utf-8}]", origin="t.yaml")
