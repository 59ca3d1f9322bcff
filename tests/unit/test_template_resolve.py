"""promwatch_tools.local.template: a function's spec from a template, as SAM and CloudFormation resolve it."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from promwatch_tools.local.errors import StackError
from promwatch_tools.local.stack import load_template
from promwatch_tools.local.template import find_function, function_spec

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Mode: {Type: String, Default: plain}
  Size: {Type: Number, Default: 256}
  Names: {Type: CommaDelimitedList, Default: ""}
  Kinds: {Type: CommaDelimitedList, Default: "", AllowedValues: ["", x, y]}
Conditions:
  Fancy: !Or [!Condition IsProd, !Equals [!Ref Mode, fancy]]
  IsProd: !Equals [!Ref Stage, prod]
  HasNames: !Not [!Equals [!Join ["", !Ref Names], ""]]
Rules:
  FancyOnlyInProd:
    RuleCondition: {Fn::Equals: [{Ref: Mode}, fancy]}
    Assertions:
      - Assert: {Fn::Equals: [{Ref: Stage}, prod]}
        AssertDescription: Mode=fancy is for prod
Mappings:
  Levels: {dev: {log: DEBUG}, prod: {log: INFO}}
Globals:
  Function:
    Timeout: 30
    MemorySize: !Ref Size
    Layers: [!Ref Lib]
    Environment:
      Variables:
        SHARED: global
        OVERRIDDEN: global
        LEVEL: !FindInMap [Levels, !Ref Stage, log]
Resources:
  Lib:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: lib/}
    Metadata: {BuildMethod: python3.12}
  Files:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: files/}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
  Queue:
    Type: AWS::SQS::Queue
  Named:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Sub "named-${Stage}"}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/worker
      Handler: app.handler
      Timeout: 90
      Layers: [!Ref Files, "arn:aws:lambda:us-east-1:123:layer:external:1"]
      Environment:
        Variables:
          OVERRIDDEN: function
          TABLE: !Ref Table
          TABLE_ARN: !GetAtt Table.Arn
          QUEUE_URL: !Ref Queue
          NAMED_ARN: !GetAtt Named.Arn
          WHERE: !Sub "${AWS::StackName}/${AWS::Region}/${Stage}/${Queue.QueueName}/${!Literal}"
          SUB_LIST: !Sub ["${A}-${B}", {A: !Ref Stage, B: !Select [1, !Split [",", "x,y,z"]]}]
          JOINED: !Join ["+", [a, !Ref Mode]]
          FLAG: !If [Fancy, "yes", "no"]
          OPTIONAL: !If [IsProd, only-in-prod, !Ref AWS::NoValue]
          NUMBER: 7
          NAMES: !If [HasNames, !Join [";", !Ref Names], none]
          BOOL: true
  Other:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/other/, Handler: app.lambda_handler}
"""


@pytest.fixture
def template(tmp_path: Path) -> dict[str, Any]:
    # Written to disk and loaded with the short-tag loader, as template.yaml is.
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return load_template(path)


def test_globals_merge_and_values_resolve(template: dict[str, Any]) -> None:
    # given the worker function with defaults for every parameter
    spec = function_spec(template, "Worker", root=Path("/app"), stack_name="s")
    env = spec.environment
    # then maps merge key by key, the function winning, and intrinsics resolve to local names
    assert env["SHARED"] == "global" and env["OVERRIDDEN"] == "function"
    assert env["LEVEL"] == "DEBUG"
    assert env["TABLE"] == "s-Table"
    assert env["TABLE_ARN"] == "arn:aws:dynamodb:us-east-1:123456789012:table/s-Table"
    assert env["QUEUE_URL"] == "https://sqs.us-east-1.amazonaws.com/123456789012/s-Queue"
    assert env["NAMED_ARN"] == "arn:aws:sqs:us-east-1:123456789012:named-dev"
    assert env["WHERE"] == "s/us-east-1/dev/s-Queue/${Literal}"
    assert env["SUB_LIST"] == "dev-y"
    assert env["JOINED"] == "a+plain"
    assert env["FLAG"] == "no"
    assert "OPTIONAL" not in env
    assert (env["NUMBER"], env["BOOL"]) == ("7", "true")


def test_scalars_are_overridden_and_lists_are_global_first(template: dict[str, Any]) -> None:
    # given the worker (own Timeout, global MemorySize, both global and own Layers)
    spec = function_spec(template, "Worker", root=Path("/app"))
    # then its own Timeout wins, MemorySize comes from Globals, layers split by kind
    assert (spec.timeout_s, spec.memory_mb) == (90, 256)
    assert spec.python_layers == (Path("/app/lib/"),)
    assert spec.data_layers == (Path("/app/files/"),)
    assert (spec.code_dir, spec.handler) == (Path("/app/functions/worker"), "app.handler")
    assert spec.log_group == "/aws/lambda/promwatch-local-Worker"


def test_parameter_overrides_flow_through_conditions(template: dict[str, Any]) -> None:
    # given Stage=prod (Fancy names IsProd, declared after it: CloudFormation allows either order)
    env = function_spec(template, "Worker", root=Path("/app"), parameters={"Stage": "prod"}).environment
    # then the conditions and mappings follow it
    assert (env["FLAG"], env["OPTIONAL"], env["LEVEL"]) == ("yes", "only-in-prod", "INFO")


def test_list_parameters_are_lists(template: dict[str, Any]) -> None:
    # given a CommaDelimitedList parameter, empty by default and then given two items
    default = function_spec(template, "Worker", root=Path("/app")).environment
    given = function_spec(template, "Worker", root=Path("/app"), parameters={"Names": "a, b"}).environment
    # then it behaves as a list in Join and in conditions
    assert (default["NAMES"], given["NAMES"]) == ("none", "a;b")


def test_list_parameter_members_are_checked_one_by_one(template: dict[str, Any]) -> None:
    # given a list parameter whose AllowedValues apply to each member, as CloudFormation applies them
    spec = function_spec(template, "Worker", root=Path("/app"), parameters={"Kinds": "x, y"})
    # then two allowed members pass (the whole "x, y" was compared with the values before)
    assert spec.logical_id == "Worker"
    with pytest.raises(StackError, match=r"Kinds member 'z': expected one of \['', 'x', 'y'\]"):
        function_spec(template, "Worker", root=Path("/app"), parameters={"Kinds": "x,z"})


@pytest.mark.parametrize(
    ("parameters", "message"),
    [({"Stage": "qa"}, r"Stage='qa': expected one of \['dev', 'prod'\]"),
     ({"Nope": "1"}, r"\['Nope'\]: expected one of"),
     ({"Mode": "fancy"}, "rule FancyOnlyInProd: Mode=fancy is for prod")],
    ids=["allowed-values", "unknown", "rule"],
)
def test_bad_parameter_overrides_are_refused(
    template: dict[str, Any], parameters: dict[str, str], message: str
) -> None:
    # when an override is outside AllowedValues, unknown, or refused by a rule, then it is refused by name
    with pytest.raises(StackError, match=message):
        function_spec(template, "Worker", root=Path("/app"), parameters=parameters)


def test_functions_are_found_by_logical_id_or_code_directory(template: dict[str, Any]) -> None:
    # then logical ids, directory names and paths all find the function
    assert find_function(template, "Worker") == "Worker"
    assert find_function(template, "worker") == "Worker"
    assert find_function(template, "functions/other") == "Other"
    with pytest.raises(StackError, match=r"'missing': expected one of \['Other', 'Worker'\]"):
        find_function(template, "missing")


def test_unsupported_intrinsic_is_named(template: dict[str, Any]) -> None:
    # given a variable using an intrinsic that needs a real account
    template["Resources"]["Other"]["Properties"]["Environment"] = {
        "Variables": {"X": {"Fn::ImportValue": "shared-thing"}}
    }
    # then resolving it names the function
    with pytest.raises(StackError, match="Fn::ImportValue: not supported locally"):
        function_spec(template, "Other", root=Path("/app"))
