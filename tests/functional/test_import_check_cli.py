"""``promwatch import adot|prometheus`` and ``promwatch check config|rules|spec`` in-process:
stdout YAML that the real loader loads, one stderr line per finding, promtool-like exit codes."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from promwatch.scrape import parse_config
from promwatch_tools.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "adot" / "otel-config.yaml"


def test_import_adot_prints_a_config_the_loader_loads_and_findings_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given the seed's otel-config.yaml, unchanged
    # when imported
    status = main(["import", "adot", str(FIXTURE)])
    out = capsys.readouterr()
    # then it succeeds, stdout loads with the scrape config loader
    assert status == 0, out.err
    [job] = parse_config(out.out).scrape_configs
    assert (job.job_name, job.emf.namespace, job.emf.dimension_rollup_option) == (
        "prod/task-service", "prod/task-service", "ZeroAndSingleDimensionRollup")
    # and stderr has one `key.path: why` line per setting changed or not carried over
    lines = out.err.splitlines()
    assert all(": " in line and not line.startswith(" ") for line in lines)
    by_path = {line.split(": ", 1)[0] for line in lines}
    assert {"exporters.awsemf.dimension_rollup_option", "exporters.awsemf.namespace",
            "exporters.awsemf.log_group_name", "processors.batch", "extensions.health_check"} <= by_path


def test_import_adot_resolves_environment_references(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a collector config whose namespace comes from the environment, and one variable unset
    config = yaml.safe_load(FIXTURE.read_text())
    config["exporters"]["awsemf"] = {"namespace": "${env:EMF_NAMESPACE}", "region": "${env:AWS_REGION_UNSET}"}
    path = tmp_path / "otel.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("EMF_NAMESPACE", "Shop/Tasks")
    monkeypatch.delenv("AWS_REGION_UNSET", raising=False)
    # when imported
    status = main(["import", "adot", str(path)])
    out = capsys.readouterr()
    # then the namespace is the variable's value and the unset one is reported
    assert status == 0, out.err
    assert parse_config(out.out).scrape_configs[0].emf.namespace == "Shop/Tasks"
    assert "exporters.awsemf.region: ${env:AWS_REGION_UNSET}: AWS_REGION_UNSET is not set here" in out.err


def test_import_prometheus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a Prometheus config with a 15s interval, rule files and remote_write
    path = tmp_path / "prometheus.yml"
    path.write_text("global: {scrape_interval: 15s}\nrule_files: [rules.yml]\n"
                    "remote_write: [{url: 'http://m/push'}]\n"
                    "scrape_configs: [{job_name: node, static_configs: [{targets: ['10.0.0.1:9100']}]}]\n")
    # when imported
    status = main(["import", "prometheus", str(path)])
    # then it succeeds and the interval is carried over
    out = capsys.readouterr()
    assert status == 0, out.err
    assert parse_config(out.out).scrape_configs[0].interval == 15
    # and the rule files, remote_write and the interval each get a finding saying what becomes of them
    assert out.err.splitlines() == [
        "rule_files: rules.yml: rules are CloudWatch alarms in promwatch: import them with `promwatch import rules`",
        "remote_write: not applicable: promwatch writes CloudWatch EMF (or OTLP: the job's emf.output)",
        "global.scrape_interval: 15s: kept, but promwatch scrapes a job once per invocation of the scrape function's "
        "schedule (rate(1 minute) by default, EventBridge's shortest): every minute, not every 15s; the value still "
        "sets the default scrape_timeout and the counters' expected gap (`promwatch cost` prices the schedule)",
    ]


def test_import_fails_on_what_cannot_be_imported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a collector config without a prometheus receiver, a file that is not YAML, a missing file,
    # and a job promwatch's loader refuses (two jobs with one name)
    no_receiver = tmp_path / "a.yaml"
    no_receiver.write_text("receivers: {otlp: {}}\nservice: {pipelines: {metrics: {receivers: [otlp]}}}\n")
    broken = tmp_path / "b.yaml"
    broken.write_text("scrape_configs: [\n")
    twice = tmp_path / "c.yml"
    twice.write_text("scrape_configs: [{job_name: a}, {job_name: a}]\n")
    # then each exits 1 with the reason on stderr and nothing on stdout
    for argv, expected in ((["adot", str(no_receiver)], "no metrics pipeline"),
                           (["prometheus", str(broken)], "line"),
                           (["prometheus", str(tmp_path / "missing.yml")], "cannot read"),
                           (["prometheus", str(twice)], "multiple scrape configs with job name 'a'")):
        assert main(["import", *argv]) == 1
        out = capsys.readouterr()
        assert out.out == "" and expected in out.err, (argv, out.err)


@pytest.mark.parametrize(("kind", "path"), [
    ("config", "config/scrape.yaml"), ("rules", "config/insights.yaml"), ("spec", "config/dashboards"),
    ("spec", "config/dashboards/task-service.yaml"),
])
def test_check_accepts_the_repositorys_own_files(kind: str, path: str, capsys: pytest.CaptureFixture[str]) -> None:
    # given one of the repository's own config, rules or spec files, when checked, then it succeeds
    assert main(["check", kind, str(ROOT / path)]) == 0
    assert capsys.readouterr().out.startswith("SUCCESS: ")


def test_check_reports_the_loaders_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a scrape config with a bad interval, rules without rules, and a spec with a broken alarm
    config = tmp_path / "scrape.yaml"
    config.write_text("scrape_configs: [{job_name: a, scrape_interval: 0s}]\n")
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules: []\n")
    spec = tmp_path / "spec"
    spec.mkdir()
    (spec / "a.yaml").write_text("alarms: [{name: x}]\n")
    # then each check exits 1, FAILED and the loader's message naming the key on stderr
    for kind, path, expected in (("config", config, "scrape_configs[0].scrape_interval"), ("rules", rules, "rules"),
                                 ("spec", spec / "a.yaml", "alarms[0]")):
        assert main(["check", kind, str(path)]) == 1
        out = capsys.readouterr()
        assert out.out == "" and out.err.startswith("FAILED: ") and expected in out.err, out.err


def test_check_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    # given an unknown kind to check, when run, then it is a usage error, exit 2
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "dashboards", "x"])
    assert exit_info.value.code == 2
    # and when the file cannot be read, then it exits 1 saying so
    assert main(["check", "config", "/nonexistent/scrape.yaml"]) == 1
    assert "cannot be read" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["", "# nothing\n", "scrape_configs: []\n", "global: {scrape_interval: 1m}\n"])
def test_check_config_refuses_a_config_without_jobs(text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an empty config (what a failed `import ... > scrape.yaml` leaves)
    config = tmp_path / "scrape.yaml"
    config.write_text(text)
    # Then check fails, saying there is nothing to scrape
    assert main(["check", "config", str(config)]) == 1
    assert "no scrape_configs" in capsys.readouterr().err


@pytest.mark.parametrize(("kind", "text", "hint"), [
    ("rules", "groups: [{name: g, rules: [{alert: A, expr: up == 0}]}]\n",
     "this is a Prometheus rule file (groups:), not Container Insights roll-up rules (rules:); check it with "
     "`promwatch import rules FILE` (or promtool check rules)"),
    ("config", "receivers: {prometheus: {config: {scrape_configs: []}}}\nexporters: {awsemf: {}}\n",
     "this looks like an OpenTelemetry Collector config; translate it with `promwatch import adot FILE`"),
    ("config", "groups: [{name: g, rules: []}]\n", "this is a Prometheus rule file"),
    ("rules", "scrape_configs: [{job_name: a}]\n", "this is a scrape config; check it with `promwatch check config FILE`"),
])
def test_check_names_a_file_of_another_kind(
    kind: str, text: str, hint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a file of another kind than the one asked to check
    path = tmp_path / "file.yaml"
    path.write_text(text)
    # when checked, then it exits 1 and the error says what the file is and how to check it
    assert main(["check", kind, str(path)]) == 1
    assert hint in capsys.readouterr().err


def test_check_config_warns_of_an_otlp_output_without_a_region_where_aws_region_is_unset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given OTLP outputs with no region, a region, and a regional endpoint
    config = tmp_path / "scrape.yaml"
    config.write_text("scrape_configs:\n"
                      "  - {job_name: bare, outputs: [otlp]}\n"
                      "  - {job_name: regional, outputs: [{type: otlp, region: eu-west-1}]}\n"
                      "  - {job_name: endpoint, outputs: [{type: otlp, "
                      "endpoint: 'https://monitoring.eu-north-1.amazonaws.com/v1/metrics'}]}\n")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    # when checked without AWS_REGION, then it is valid but the job naming no region is warned of
    assert main(["check", "config", str(config)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("SUCCESS: ")
    warnings = [line for line in out.err.splitlines() if line.startswith("WARNING: ")]
    assert len(warnings) == 1 and "'bare'" in warnings[0] and "no region" in warnings[0]
    # and with AWS_REGION set there is nothing to warn of
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    assert main(["check", "config", str(config)]) == 0
    assert "WARNING" not in capsys.readouterr().err
