"""http_sd_configs: Prometheus' HTTP SD answer rules (content type, JSON list of groups,
__meta_url) and its keys, the HTTP client ones shared with scrape jobs."""
from __future__ import annotations

import pytest
from promwatch.discovery import DiscoveryError, HttpSDConfig
from promwatch.discovery.http import go_seconds, parse_http_sd
from promwatch.scrape import ConfigError, parse_config

URL = "https://sd.internal/targets"


def test_an_answer_becomes_groups_named_by_url_and_index_with_meta_url() -> None:
    # Given an answer of two groups, one trying to set __meta_url itself,
    body = '[{"targets": ["10.0.0.1:9100"], "labels": {"env": "prod", "__meta_url": "forged"}}, {"targets": []}]'
    # then each group is <url>:<index> and gets __meta_url, the URL asked.
    groups = parse_http_sd(URL, "application/json", body)
    assert [g.source for g in groups] == [f"{URL}:0", f"{URL}:1"]
    assert dict(groups[0].labels) == {"env": "prod", "__meta_url": URL}
    assert [dict(t) for t in groups[0].targets] == [{"__address__": "10.0.0.1:9100"}]


@pytest.mark.parametrize("content_type", [
    "application/json", "Application/JSON", " application/json ", "application/json; charset=utf-8",
    'application/json;charset="UTF-8"',
])
def test_json_content_types_prometheus_accepts(content_type: str) -> None:
    # given a JSON content type Prometheus accepts, when an empty body is parsed, then there are no groups
    assert parse_http_sd(URL, content_type, "[]") == []


@pytest.mark.parametrize("content_type", [
    None, "", "text/plain", "application/json; charset=latin-1", "application/jsonx", "application/json;",
    "text/json",
])
def test_other_content_types_fail_the_refresh(content_type: str | None) -> None:
    # given a content type that is not JSON in UTF-8, when parsed, then the refresh fails naming it
    with pytest.raises(DiscoveryError, match=f"http_sd '{URL}': unsupported content type"):
        parse_http_sd(URL, content_type, "[]")


@pytest.mark.parametrize(("body", "problem"), [
    ("{not json", "http_sd"),
    ('{"targets": ["a:1"]}', "expected a list of target groups"),
    ("[null]", r"\[0\]: expected a mapping"),
    ('[{"targets": ["a:1"], "source": "x"}]', "unknown key"),
    ('[{"targets": [1]}]', "targets: expected a list"),
    ('[{"targets": ["a:1"], "labels": {"0bad": "x"}}]', "labels: expected label names"),
])
def test_a_body_that_is_not_a_list_of_groups_fails_the_refresh(body: str, problem: str) -> None:
    # given a body that is not a list of target groups, when parsed, then the refresh fails naming the problem
    with pytest.raises(DiscoveryError, match=problem):
        parse_http_sd(URL, "application/json", body)


def test_null_is_no_groups() -> None:
    # Given the JSON null, which Go's decoder reads as an empty list, then there are no groups.
    assert parse_http_sd(URL, "application/json", "null") == []


@pytest.mark.parametrize(("seconds", "text"), [(60.0, "60"), (0.5, "0.5"), (300.0, "300"), (1e-05, "0.00001"),
                                              (90.25, "90.25")])
def test_the_refresh_interval_header_is_written_as_go_writes_it(seconds: float, text: str) -> None:
    # given a refresh interval in seconds, when written for the header, then it is written as Go writes it
    assert go_seconds(seconds) == text


def test_prometheus_defaults_and_client_keys() -> None:
    # Given an entry with a URL and credentials,
    config = parse_config(f"""
scrape_configs:
  - job_name: a
    http_sd_configs:
      - url: {URL}
        authorization: {{credentials: ssm:/sd/token}}
        tls_config: {{insecure_skip_verify: true}}
        follow_redirects: false
""").scrape_configs[0].sd_configs()[0][1]
    # then the interval defaults to 60s and the client keys are the scrape job's.
    assert isinstance(config, HttpSDConfig) and config.refresh_interval == 60.0
    assert config.authorization is not None and config.tls_config.insecure_skip_verify and not config.follow_redirects


@pytest.mark.parametrize(("entry", "problem"), [
    ("{}", r"url: required key is missing"),
    ("{url: 'ftp://sd/targets'}", "scheme 'ftp' is not supported"),
    ("{url: 'http:///targets'}", "empty address"),
    ("{url: 'sd.internal/targets'}", "is not a URL"),
    ("{url: 'http://sd/t', basic_auth: {username: u}, bearer_token: t}", "at most one of basic_auth & bearer_token"),
    ("{url: 'http://sd/t', proxy_url: 'http://p'}", "unknown key 'proxy_url'"),
    ("{url: 'http://sd/t', refresh_interval: 0s}", "refresh_interval"),
])
def test_a_bad_entry_is_refused_when_the_config_loads(entry: str, problem: str) -> None:
    # given a bad http_sd_configs entry, when the config loads, then it is refused naming the problem
    with pytest.raises(ConfigError, match=r"http_sd_configs\[0\].*" + problem):
        parse_config(f"scrape_configs: [{{job_name: a, http_sd_configs: [{entry}]}}]")


def test_a_password_in_the_url_is_never_echoed() -> None:
    # Given an SD URL carrying credentials in its userinfo,
    with pytest.raises(ConfigError) as caught:
        parse_config("scrape_configs: [{job_name: a, http_sd_configs: [{url: 'https://bob:s3cret@sd/t'}]}]")
    # then it is refused, pointing at basic_auth, and the message never holds the password.
    assert "basic_auth" in str(caught.value) and "s3cret" not in str(caught.value)
