"""run_cycle and the `promwatch scrape` CLI against a local HTTP server: lenient and strict
parsing, limits, the guard, credentials, self-metrics, exit statuses."""
from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from promwatch.emf import problems
from promwatch.httpclient import SecretResolver
from promwatch.scrape import CycleReport, parse_config, run_cycle
from promwatch.sinks import StdoutSink
from promwatch.state import MemoryStateStore
from promwatch_tools.cli import main

GOOD = b"# TYPE jobs_total counter\njobs_total{queue=\"a\"} 5\njobs_total{queue=\"b\"} 6\n# TYPE temp gauge\ntemp 21.5\n"
BAD_LINE = GOOD + b"this is not a sample line\ntemp2 1\n"


class Pages(http.server.BaseHTTPRequestHandler):
    auth: ClassVar[list[str | None]] = []

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        Pages.auth.append(self.headers.get("Authorization"))
        body = {"/good": GOOD, "/bad": BAD_LINE}.get(self.path.split("?")[0])
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def cycle(yaml_text: str, capsys: pytest.CaptureFixture[str], **kwargs: Any) -> tuple[CycleReport, list[dict[str, Any]]]:
    capsys.readouterr()
    report = run_cycle(parse_config(yaml_text), state_store=MemoryStateStore(), sink=StdoutSink(), **kwargs)
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for document in documents:
        assert problems(document) == [], document
    return report, documents


def health(documents: list[dict[str, Any]], job: str, reason: str | None = None) -> dict[str, Any]:
    (found,) = [d for d in documents if d.get("Component") == "scrape" and d.get("job") == job
                and d.get("Reason") == reason]
    return found


def test_lenient_skips_bad_lines_and_counts_them(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a page with one bad line and a lenient job (the default),
    report, documents = cycle(f"scrape_configs: [{{job_name: j, metrics_path: /bad, static_configs: [{{targets: ['{server}']}}]}}]", capsys)
    # then the target is up, the good samples are published, the bad line is counted.
    assert report.targets[0].up and report.targets[0].parse_errors == 1
    assert [d["temp"] for d in documents if "temp" in d] == [21.5]
    assert health(documents, "j")["ParseErrors"] == 1


def test_strict_fails_the_scrape_on_a_bad_line(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the same page and strict: true, then the target is down (up=0), as in Prometheus.
    report, documents = cycle(f"scrape_configs: [{{job_name: j, strict: true, metrics_path: /bad, static_configs: [{{targets: ['{server}']}}]}}]", capsys)
    assert not report.targets[0].up and "parse error: line 6" in (report.targets[0].error or "")
    assert [d["up"] for d in documents if "up" in d] == [0]


def test_sample_limit_fails_only_that_target(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Given two jobs on the same page, one with a sample_limit the page exceeds,
    report, documents = cycle(f"""
scrape_configs:
  - {{job_name: limited, sample_limit: 2, metrics_path: /good, static_configs: [{{targets: ['{server}']}}]}}
  - {{job_name: free, metrics_path: /good, static_configs: [{{targets: ['{server}']}}]}}
""", capsys)
    # then the limited one is down with the reason, and the other goes through.
    by_job = {t.job: t for t in report.targets}
    assert not by_job["limited"].up and "sample_limit exceeded: 3 samples" in (by_job["limited"].error or "")
    assert by_job["free"].up
    assert [d["up"] for d in documents if "up" in d and d["job"] == "limited"] == [0]
    assert health(documents, "limited")["TargetsFailed"] == 1


def test_refused_target_is_reported_never_fetched(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a job pointing at instance metadata, then it is refused, reported, and counted.
    report, documents = cycle("scrape_configs: [{job_name: imds, static_configs: [{targets: ['169.254.169.254:80']}]}]", capsys)
    assert report.targets[0].refused and not report.targets[0].up
    assert health(documents, "imds")["TargetsRefused"] == 1
    assert [d["up"] for d in documents if "up" in d] == [0]


def test_metric_relabel_drops_are_counted_by_reason(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a metric_relabel_configs rule dropping one series, then DroppedSamples{Reason=metric_relabel} is 1.
    report, documents = cycle(f"""
scrape_configs:
  - job_name: j
    metrics_path: /good
    static_configs: [{{targets: ['{server}']}}]
    metric_relabel_configs: [{{source_labels: [queue], regex: b, action: drop}}]
""", capsys)
    assert report.targets[0].samples_post_metric_relabeling == 2
    assert health(documents, "j", reason="metric_relabel")["DroppedSamples"] == 1


def test_credentials_from_a_file_are_sent(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given basic auth with a password file, then the request carries the Basic header.
    password = tmp_path / "password"
    password.write_text("pa55\n")
    Pages.auth.clear()
    cycle(f"""
scrape_configs:
  - job_name: j
    metrics_path: /good
    static_configs: [{{targets: ['{server}']}}]
    basic_auth: {{username: scraper, password_file: {password}}}
""", capsys, secrets=SecretResolver())
    assert Pages.auth == ["Basic " + base64.b64encode(b"scraper:pa55").decode()]


def test_missing_credentials_file_fails_the_target_not_the_cycle(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a job whose token file is missing, then that target is down and the message names the file.
    report, _ = cycle(f"""
scrape_configs:
  - {{job_name: j, metrics_path: /good, static_configs: [{{targets: ['{server}']}}], bearer_token_file: /nonexistent/token}}
  - {{job_name: k, metrics_path: /good, static_configs: [{{targets: ['{server}']}}]}}
""", capsys)
    by_job = {t.job: t for t in report.targets}
    assert "cannot read credentials file '/nonexistent/token'" in (by_job["j"].error or "")
    assert by_job["k"].up


def test_cli_exit_status(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a bad config, then `promwatch scrape` exits 1 naming the key;
    config = tmp_path / "scrape.yaml"
    config.write_text("scrape_configs: [{job_name: j, relabel_configs: [{action: nope}]}]")
    assert main(["scrape", "--config", str(config)]) == 1
    assert "scrape_configs[0].relabel_configs[0].action" in capsys.readouterr().err
    # a down target still exits 0 with up=0 on stdout and a line on stderr;
    assert main(["scrape", "http://127.0.0.1:1/metrics"]) == 0
    captured = capsys.readouterr()
    assert [json.loads(line).get("up") for line in captured.out.splitlines() if '"up"' in line] == [0]
    assert "127.0.0.1:1 is down" in captured.err
    # and the URL shorthand takes its job name from --job.
    assert main(["scrape", f"http://{server}/good?x=1", "--job", "web"]) == 0
    assert {json.loads(line).get("job") for line in capsys.readouterr().out.splitlines()} == {"web"}


class FailingStore:
    """A state store whose table is unreachable."""

    def claim(self, job: str, instance: str, **kwargs: Any) -> bool:
        from promwatch.state import StateError

        raise StateError(f"table unreachable for {job}/{instance}")

    load = release = claim

    def save(self, *args: Any, **kwargs: Any) -> int:
        raise AssertionError("save without load")


def test_state_failure_fails_only_its_batch_message(server: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # Given a fan-out event whose target cannot reach the state store,
    from promwatch.scrape import ScrapeRuntime, ScrapeSettings

    config = tmp_path / "scrape.yaml"
    config.write_text(f"scrape_configs: [{{job_name: j, metrics_path: /good, static_configs: [{{targets: ['{server}']}}]}}]")
    runtime = ScrapeRuntime(ScrapeSettings(config_source=str(config)), state_store=FailingStore(),  # type: ignore[arg-type]
                            sink=StdoutSink())
    body = json.dumps({"v": 1, "targets": [f"j|http://{server}/good"]})
    record = {"messageId": "m-1", "receiptHandle": "r", "body": body, "attributes": {
        "ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "s", "ApproximateFirstReceiveTimestamp": "1"},
        "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}
    # when handled, then the message is reported for retry, and of that target only up is
    # published: its increases could not be computed against, or saved as, baselines.
    assert runtime.handle({"Records": [record]}) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert not [d for d in documents if "jobs_total" in d]
    assert [d["up"] for d in documents if "up" in d] == [1]


def test_each_runtime_keeps_its_own_warm_memory(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given two scrape runtimes of one config (two execution environments)
    from promwatch.scrape import ScrapeRuntime, ScrapeSettings, WarmMemory

    config = tmp_path / "scrape.yaml"
    config.write_text(f"scrape_configs: [{{job_name: j, metrics_path: /good, static_configs: [{{targets: ['{server}']}}]}}]")
    first, second = (ScrapeRuntime(ScrapeSettings(config_source=str(config)), state_store=MemoryStateStore(),
                                   sink=StdoutSink()) for _ in range(2))
    # when one of them handles a scheduled cycle
    first.handle({})
    # then what it remembers of the page and the target is in its own memory, none in the other's
    assert isinstance(first.memory, WarmMemory) and first.memory is not second.memory
    assert 'jobs_total{queue="a"}' in first.memory.parser.text_series
    assert len(first.memory.translation.targets) == 1
    assert second.memory.parser.sizes() == dict.fromkeys(second.memory.parser.sizes(), 0)
    assert second.memory.translation.targets == {}


def test_cycles_publish_the_same_with_a_warm_memory_and_without_one(server: str,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # Given a config and two state stores: one for cycles sharing a memory, one for cold cycles
    from promwatch.scrape import WarmMemory

    config = parse_config(f"scrape_configs: [{{job_name: j, metrics_path: /good, static_configs: [{{targets: ['{server}']}}], "
                          "metric_relabel_configs: [{source_labels: [queue], target_label: q}]}]")
    memory, warm_store, cold_store = WarmMemory(), MemoryStateStore(), MemoryStateStore()
    for at in range(3):
        # when each of three cycles runs once warm and once cold, at the same clock
        published = []
        for store, cycle_memory in ((warm_store, memory), (cold_store, None)):
            capsys.readouterr()
            run_cycle(config, state_store=store, sink=StdoutSink(), clock=lambda at=at: 1_800_000_000.0 + 60 * at,
                      memory=cycle_memory)
            documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
            published.append([d for d in documents if "jobs_total" in d or "temp" in d])
        # then both publish the same data documents
        assert published[0] == published[1] and published[0]


@pytest.mark.parametrize("output", ["stdout", "-"])
def test_an_explicit_output_overrides_the_jobs_emf_output(
    output: str, server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a job writing to CloudWatch Logs (as every config `import adot` makes), and no AWS region
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    config = tmp_path / "scrape.yaml"
    config.write_text(f"scrape_configs: [{{job_name: web, static_configs: [{{targets: ['{server}']}}], metrics_path: /good,"
                      " emf: {output: {type: logs, log_group_name: /promwatch/emf}}}]")
    # When scraped with --output stdout
    assert main(["scrape", "--config", str(config), "--output", output]) == 0
    # Then the documents are on stdout, not sent to CloudWatch Logs
    jobs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(document.get("temp") == 21.5 and document.get("job") == "web" for document in jobs)
