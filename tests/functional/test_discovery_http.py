"""http_sd_configs against a real HTTP server: the request Prometheus' protocol makes, groups
becoming targets, a failing endpoint keeping the last list, and the target guard applying to SD
URLs and their redirects."""
from __future__ import annotations

import base64
import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from promwatch.discovery import FETCH_POLICY, DiscoveryCache, DiscoveryEnv, DiscoveryError
from promwatch.httpclient import FetchPolicy
from promwatch.scrape import build_targets, parse_config

METRICS_PAGE = b"# TYPE app_ready gauge\napp_ready 1\n"
GROUPS = [{"targets": ["10.0.0.1:9100", "10.0.0.2:9100"], "labels": {"__meta_rack": "r1", "env": "prod"}}]


@dataclass
class Endpoint:
    """What the SD server answers next, and the requests it saw."""

    status: int = 200
    content_type: str = "application/json"
    body: str = json.dumps(GROUPS)
    delay: float = 0.0
    location: str | None = None
    requests: list[dict[str, str]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            if state.delay:
                time.sleep(state.delay)
            metrics = self.path == "/metrics"  # the endpoint is an exporter too
            body = METRICS_PAGE if metrics else state.body.encode()
            try:
                self.send_response(200 if metrics else state.status)
                if state.location:
                    self.send_header("Location", state.location)
                self.send_header("Content-Type", "text/plain; version=0.0.4" if metrics else state.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                return  # a client that gave up waiting (the timeout case)

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sd"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def env(**extras: Any) -> DiscoveryEnv:
    def no_aws(service: str, region: str | None) -> object:
        raise AssertionError(f"no AWS call expected ({service})")
    return DiscoveryEnv(aws_client=no_aws, extras=extras)


def test_targets_come_from_the_endpoint_asked_as_prometheus_asks(endpoint: Endpoint, tmp_path: Path) -> None:
    # Given a job discovering through an endpoint with basic auth (password in a file),
    (tmp_path / "password").write_text("s3cret\n")
    config = parse_config(f"""
scrape_configs:
  - job_name: fleet
    http_sd_configs:
      - url: {endpoint.url}?cluster=blue
        refresh_interval: 30s
        basic_auth: {{username: promwatch, password_file: {tmp_path / 'password'}}}
    relabel_configs:
      - {{source_labels: [__meta_rack], target_label: rack}}
      - {{source_labels: [__meta_url], regex: '.*cluster=(.*)', target_label: cluster}}
""")
    job = config.scrape_configs[0]
    # when discovered and built,
    groups, failures = DiscoveryCache().groups(job.job_name, job.sd_configs(), env())
    targets, dropped = build_targets(job, discovered=groups)
    # then the request was a GET of the URL with Prometheus' headers and the credentials,
    assert failures == [] and dropped == []
    (request,) = endpoint.requests
    assert request["path"] == "/sd?cluster=blue"
    assert request["accept"] == "application/json"
    assert request["x-prometheus-refresh-interval-seconds"] == "30"
    assert request["authorization"] == "Basic " + base64.b64encode(b"promwatch:s3cret").decode()
    assert request["user-agent"].startswith("promwatch/")
    # and every target has its group's labels and what relabelling made of the meta labels.
    assert [dict(t.labels) for t in targets] == [
        {"job": "fleet", "instance": f"10.0.0.{i}:9100", "env": "prod", "rack": "r1", "cluster": "blue"} for i in (1, 2)]


@pytest.mark.parametrize(("answer", "problem"), [
    ({"status": 500}, "HTTP status 500"),
    ({"body": "{not json"}, "http_sd"),
    ({"body": '{"targets": []}'}, "expected a list of target groups"),
    ({"content_type": "text/html"}, "unsupported content type 'text/html'"),
    ({"delay": 1.5}, "timeout"),
])
def test_a_failing_endpoint_keeps_the_last_list(endpoint: Endpoint, answer: dict[str, Any], problem: str) -> None:
    # Given a job whose endpoint answered once (refreshing every 500ms, so a fetch may take that long),
    config = parse_config(f"scrape_configs: [{{job_name: n, http_sd_configs: [{{url: {endpoint.url}, "
                          "refresh_interval: 500ms}]}]")
    job = config.scrape_configs[0]
    clock = iter([0.0, 1.0])
    cache = DiscoveryCache(monotonic=lambda: next(clock))
    first, _ = cache.groups(job.job_name, job.sd_configs(), env())
    # when it fails on the next refresh (an error status, a body that is not groups, another
    # content type, no answer in time),
    for key, value in answer.items():
        setattr(endpoint, key, value)
    second, failures = cache.groups(job.job_name, job.sd_configs(), env())
    # then the last list is kept and the failure reported, naming the URL and the problem.
    assert len(first) == 1 and second == first
    assert len(failures) == 1 and failures[0].stale
    assert endpoint.url in failures[0].error and problem in failures[0].error


def test_the_target_guard_applies_to_the_sd_url_and_its_redirects(endpoint: Endpoint) -> None:
    # Given an SD URL on the instance metadata address, and an endpoint redirecting there,
    metadata = parse_config("scrape_configs: [{job_name: n, http_sd_configs: "
                            "[{url: 'http://169.254.169.254/latest/meta-data/'}]}]").scrape_configs[0]
    redirected = parse_config(f"scrape_configs: [{{job_name: n, http_sd_configs: [{{url: {endpoint.url}}}]}}]"
                              ).scrape_configs[0]
    endpoint.status, endpoint.location = 302, "http://169.254.169.254/latest/meta-data/iam/"
    # then both are refused by the scraper's guard, never fetched.
    for job in (metadata, redirected):
        with pytest.raises(DiscoveryError, match="refused"):
            job.sd_configs()[0][1].discover(env())
    # And inside Lambda (the Runtime API listens on loopback), a loopback SD URL is refused too.
    with pytest.raises(DiscoveryError, match="refused"):
        redirected.sd_configs()[0][1].discover(env(**{FETCH_POLICY: FetchPolicy(in_lambda=True)}))
    assert len(endpoint.requests) == 1  # only the redirect itself was asked


def test_promwatch_scrape_scrapes_what_the_endpoint_lists(
    endpoint: Endpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an endpoint listing a target: itself, an exporter too,
    address = endpoint.url.removeprefix("http://").removesuffix("/sd")
    endpoint.body = json.dumps([{"targets": [address], "labels": {"team": "payments"}}])
    config = tmp_path / "scrape.yaml"
    config.write_text(f"scrape_configs: [{{job_name: app, http_sd_configs: [{{url: {endpoint.url}}}]}}]")
    # when `promwatch scrape` runs on the config,
    from promwatch_tools.cli import main

    status = main(["scrape", "--config", str(config)])
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # then the discovered target was scraped, up, with its group's label as a dimension.
    assert status == 0
    (up,) = [d for d in documents if "up" in d and d.get("job") == "app"]
    assert (up["up"], up["instance"], up["team"]) == (1, address, "payments")
    assert [r["path"] for r in endpoint.requests] == ["/sd", "/metrics"]


class CountingSsm:
    """An SSM client answering every parameter with a token, counting the calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def get_parameter(self, *, Name: str, WithDecryption: bool) -> dict[str, Any]:
        self.calls.append(Name)
        return {"Parameter": {"Value": "sd-token"}}


def test_a_token_from_ssm_is_read_once_across_refreshes_within_its_ttl(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an http_sd job whose bearer token is an SSM parameter, and SSM clients counting calls,
    ssm = CountingSsm()
    monkeypatch.setattr("promwatch.coldstart.aws_client", lambda service, **_: ssm)
    job = parse_config(f"""
scrape_configs:
  - job_name: fleet
    http_sd_configs:
      - url: {endpoint.url}
        authorization: {{credentials: 'ssm:/sd/token'}}
""").scrape_configs[0]
    sd = job.sd_configs()[0][1]
    environment = env()
    # when the endpoint is asked twice in the same environment (two refreshes, well within 300 s),
    sd.discover(environment)
    sd.discover(environment)
    # then both requests carried the token, and SSM was asked once: the resolver outlives a refresh.
    assert [r["authorization"] for r in endpoint.requests] == ["Bearer sd-token"] * 2
    assert ssm.calls == ["/sd/token"]
