"""``promwatch targets``: a config's static, file and HTTP discovered targets, before and after
relabelling, as JSON (the issue's exact shape) or a table; failures on stderr and in the status."""
from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from promwatch_tools.cli import main

SD_GROUPS = [{"targets": ["10.1.0.1:9100", "10.1.0.2:9100"], "labels": {"__meta_datacenter": "eu", "team": "x"}}]


@pytest.fixture
def sd_url() -> Iterator[str]:
    """An HTTP SD endpoint serving SD_GROUPS at /sd and HTTP 500 anywhere else."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.path == "/sd"
            body = json.dumps(SD_GROUPS).encode() if ok else b"down"
            self.send_response(200 if ok else 500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_config(directory: Path, sd_url: str, sd_path: str = "/sd") -> str:
    (directory / "targets.json").write_text(json.dumps([{"targets": ["10.0.0.1:9100"], "labels": {"env": "prod"}}]))
    path = directory / "scrape.yaml"
    path.write_text(f"""
global: {{external_labels: {{region: eu-west-1}}}}
scrape_configs:
  - job_name: node
    static_configs: [{{targets: ['127.0.0.1:9100'], labels: {{env: dev}}}}]
    file_sd_configs: [{{files: [targets.json]}}]
    http_sd_configs: [{{url: '{sd_url}{sd_path}'}}]
    relabel_configs:
      - {{source_labels: [__meta_datacenter], target_label: dc}}
      - {{source_labels: [__address__], regex: '10\\.1\\.0\\.2:.*', action: drop}}
  - job_name: other
    static_configs: [{{targets: ['127.0.0.2:9100']}}]
""")
    return str(path)


def defaults(job: str) -> dict[str, str]:
    return {"__metrics_path__": "/metrics", "__scheme__": "http", "__scrape_interval__": "1m",
            "__scrape_timeout__": "10s", "job": job}


def test_json_lists_every_target_before_and_after_relabelling(
    sd_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a config with a static target, a file_sd one and two http_sd ones (one dropped by a rule),
    config = write_config(tmp_path, sd_url)
    # when its node job's targets are listed as JSON,
    status = main(["targets", "--config", config, "--job", "node", "--output", "json"])
    # then every target is there, in discovery order, in exactly the shape.
    out = capsys.readouterr()
    assert status == 0, out.err
    assert json.loads(out.out) == [
        {"job": "node",
         "discovered_labels": {**defaults("node"), "__address__": "127.0.0.1:9100", "env": "dev"},
         "labels": {"env": "dev", "instance": "127.0.0.1:9100", "job": "node", "region": "eu-west-1"},
         "dropped_reason": None, "scrape_url": "http://127.0.0.1:9100/metrics"},
        {"job": "node",
         "discovered_labels": {**defaults("node"), "__address__": "10.0.0.1:9100", "env": "prod",
                               "__meta_filepath": str(tmp_path / "targets.json")},
         "labels": {"env": "prod", "instance": "10.0.0.1:9100", "job": "node", "region": "eu-west-1"},
         "dropped_reason": None, "scrape_url": "http://10.0.0.1:9100/metrics"},
        {"job": "node",
         "discovered_labels": {**defaults("node"), "__address__": "10.1.0.1:9100", "__meta_datacenter": "eu",
                               "__meta_url": f"{sd_url}/sd", "team": "x"},
         "labels": {"dc": "eu", "instance": "10.1.0.1:9100", "job": "node", "region": "eu-west-1", "team": "x"},
         "dropped_reason": None, "scrape_url": "http://10.1.0.1:9100/metrics"},
        {"job": "node",
         "discovered_labels": {**defaults("node"), "__address__": "10.1.0.2:9100", "__meta_datacenter": "eu",
                               "__meta_url": f"{sd_url}/sd", "team": "x"},
         "labels": None, "dropped_reason": "dropped by relabel_configs", "scrape_url": None},
    ]
    assert out.err == ""


def test_the_table_has_one_line_per_target_of_every_job(
    sd_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the same config, when listed as a table (the default) for every job,
    status = main(["targets", "--config", write_config(tmp_path, sd_url)])
    lines = capsys.readouterr().out.splitlines()
    # then there is a header and a line per target: URL and labels, or dropped with the reason.
    assert status == 0
    assert lines[0].split() == ["JOB", "SCRAPE", "URL", "LABELS"]
    assert len(lines) == 6
    assert lines[1].split(None, 2) == [
        "node", "http://127.0.0.1:9100/metrics", '{env="dev", instance="127.0.0.1:9100", job="node", region="eu-west-1"}']
    assert lines[4].split(None, 2) == ["node", "dropped", 'dropped by relabel_configs {__address__="10.1.0.2:9100"}']
    assert lines[5].startswith("other ")


def test_a_failing_discovery_is_reported_and_the_status_is_1(
    sd_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a config whose http_sd endpoint answers HTTP 500,
    config = write_config(tmp_path, sd_url, sd_path="/broken")
    # when its targets are listed,
    status = main(["targets", "--config", config, "--output", "json"])
    out = capsys.readouterr()
    # then the targets that were found are listed, the failure is on stderr naming the job, the
    # discovery and the problem, and the status is 1.
    assert status == 1
    assert [item["discovered_labels"]["__address__"] for item in json.loads(out.out)] == [
        "127.0.0.1:9100", "10.0.0.1:9100", "127.0.0.2:9100"]
    assert "job node http_sd_configs[0]: discovery failed" in out.err and "HTTP status 500" in out.err
    assert "1 discovery failed (job 'node' http_sd_configs[0])" in out.err


def test_an_unknown_job_is_refused_naming_the_jobs_there_are(
    sd_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a job the config does not have, then the status is 1 and stderr names the jobs it has.
    assert main(["targets", "--config", write_config(tmp_path, sd_url), "--job", "nope"]) == 1
    assert "no job named 'nope'; the config has 'node', 'other'" in capsys.readouterr().err


def test_without_a_config_it_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # Given no --config, then argparse refuses the command line (status 2) naming the option.
    with pytest.raises(SystemExit) as exited:
        main(["targets"])
    assert exited.value.code == 2 and "--config" in capsys.readouterr().err


def test_a_label_value_cannot_write_control_characters_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a discovered label value holding an escape sequence (label values are untrusted),
    (tmp_path / "t.json").write_text(json.dumps([{"targets": ["10.0.0.1:9100"], "labels": {"owner": "\x1b[2J\x9bx"}}]))
    (tmp_path / "scrape.yaml").write_text("scrape_configs: [{job_name: n, file_sd_configs: [{files: [t.json]}]}]")
    # then neither output carries the raw control characters.
    for output in ("table", "json"):
        assert main(["targets", "--config", str(tmp_path / "scrape.yaml"), "--output", output]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\x9b" not in out and "\\u001b[2J" in out
