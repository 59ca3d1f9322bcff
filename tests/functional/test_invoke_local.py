"""promwatch invoke: handlers run in-process with the template's environment and a Lambda context."""
from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from promwatch_tools.cli import main
from promwatch_tools.local.invoke import LambdaContext, LocalFunction

ROOT = Path(__file__).resolve().parents[2]

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
Globals:
  Function:
    Runtime: python3.12
    Timeout: 42
    Layers: [!Ref Lib, !Ref Config]
    Environment:
      Variables:
        STAGE: !Ref Stage
        CONFIG_DIR: /opt
Resources:
  Lib:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: lib}
    Metadata: {BuildMethod: python3.12}
  Config:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: config/}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo
      Handler: app.lambda_handler
      MemorySize: 768
      Environment:
        Variables:
          SETTINGS: /opt/settings.txt
          TABLE: !Ref Table
  BrokenFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/broken, Handler: app.lambda_handler}
"""

ECHO = '''
import os
import sys

import echo_helper  # from the python layer

INITS = []
INITS.append(os.environ["STAGE"])  # module scope runs once per execution environment


def lambda_handler(event, context):
    print("a log line")  # Lambda sends stdout to the log group
    return {
        "event": event,
        "helper": echo_helper.NAME,
        "settings": open(os.environ["SETTINGS"]).read().strip(),
        "table": os.environ["TABLE"],
        "stage": os.environ["STAGE"],
        "extra": os.environ.get("EXTRA"),
        "inits": len(INITS),
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "lambda_name_env": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
    }
'''

BROKEN = '''
def lambda_handler(event, context):
    raise RuntimeError("target list is empty")
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A tiny SAM project: a python layer, a config layer, a working and a failing function."""
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    for path, text in {
        "lib/echo_helper.py": "NAME = 'from-layer'\n",
        "config/settings.txt": "bundled settings\n",
        "functions/echo/app.py": ECHO,
        "functions/broken/app.py": BROKEN,
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(textwrap.dedent(text))
    return tmp_path


def test_handler_gets_template_environment_layers_and_context(project: Path) -> None:
    # given the echo function of the project
    function = LocalFunction("echo", template=project / "template.yaml", stack_name="t")
    # when invoked
    result = function.invoke({"hello": 1})
    # then it ran with the layer importable, /opt mapped to config/, local names, a context
    assert result.ok, result.error
    out = result.payload
    assert out["event"] == {"hello": 1}
    assert out["helper"] == "from-layer"
    assert out["settings"] == "bundled settings"
    assert out["table"] == "t-Table"
    assert out["stage"] == "dev"
    assert (out["function_name"], out["memory"]) == ("t-EchoFunction", 768)
    assert out["lambda_name_env"] == "t-EchoFunction"
    assert 0 < out["remaining_ms"] <= 42_000
    # and the process environment is put back afterwards
    assert "TABLE" not in os.environ


def test_module_scope_runs_once_and_each_invocation_gets_its_own_request(project: Path) -> None:
    # given one loaded function
    function = LocalFunction("EchoFunction", template=project / "template.yaml")
    # when invoked twice
    first, second = function.invoke({}), function.invoke({})
    # then the second is warm (no second INIT) with a new request id
    assert (first.payload["inits"], second.payload["inits"]) == (1, 1)
    assert first.request_id != second.request_id


def test_context_counts_down_from_the_timeout() -> None:
    # given a context made at t=100 s on a fake clock, with a 42 s timeout
    now = [100.0]
    context = LambdaContext("f", 128, "arn", "/aws/lambda/f", "s", timeout_s=42, clock=lambda: now[0])
    # then the remaining time follows the clock, and never goes below zero
    assert context.get_remaining_time_in_millis() == 42_000
    now[0] = 130.5
    assert context.get_remaining_time_in_millis() == 11_500
    now[0] = 200.0
    assert context.get_remaining_time_in_millis() == 0


def test_cli_prints_only_the_result_on_stdout(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given an event file
    event = project / "event.json"
    event.write_text('{"k": "v"}')
    # when invoked through the CLI with a parameter override and an extra variable
    status = main([
        "invoke", "echo", "--event", str(event), "--template", str(project / "template.yaml"),
        "--parameter-overrides", "Stage=prod", "--env", "EXTRA=yes",
    ])
    # then stdout is the result as JSON and the handler's own output went to stderr
    captured = capsys.readouterr()
    assert status == 0
    out = json.loads(captured.out)
    assert (out["event"], out["stage"], out["extra"]) == ({"k": "v"}, "prod", "yes")
    assert "a log line" in captured.err and "a log line" not in captured.out


def test_cli_reports_a_failing_handler_in_lambdas_error_shape(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a handler that raises
    event = project / "event.json"
    event.write_text("{}")
    # when invoked, then the exit status is 1 and the error is shaped as Lambda reports it
    status = main(["invoke", "broken", "-e", str(event), "-t", str(project / "template.yaml")])
    error = json.loads(capsys.readouterr().out)
    assert status == 1
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "target list is empty")
    assert error["stackTrace"]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["nope"], "function 'nope'"), (["echo", "--parameter-overrides", "Stage=qa"], "Stage='qa'")],
)
def test_cli_bad_arguments_exit_2_naming_the_value(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    # given an event and a bad function name or parameter value
    event = project / "event.json"
    event.write_text("{}")
    # when invoked, then it exits 2 and names the bad value
    status = main(["invoke", *args, "-e", str(event), "-t", str(project / "template.yaml")])
    assert status == 2
    assert message in capsys.readouterr().err


def test_insights_function_of_the_real_template_runs_on_its_sample_event(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the project's template and a sample subscription event
    monkeypatch.chdir(ROOT)
    # when the insights function is invoked on it
    status = main(["invoke", "insights", "--event", "events/insights/subscription.json"])
    captured = capsys.readouterr()
    # then it returns a JSON result and its EMF went to the log stream (stderr), valid by spec
    assert status == 0, captured.out
    json.loads(captured.out)
    from promwatch.emf import validate

    emf = [json.loads(line) for line in captured.err.splitlines() if line.startswith('{"_aws"')]
    assert emf
    for document in emf:
        validate(document)
