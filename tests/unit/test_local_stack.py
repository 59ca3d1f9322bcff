"""Planning the stack's data resources from template.yaml (pure)."""
from __future__ import annotations

from pathlib import Path

import pytest
from promwatch_tools.local.errors import StackError
from promwatch_tools.local.stack import load_template, plan_stack

ROOT = Path(__file__).resolve().parents[2]

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: dev}
  Mode: {Type: String, Default: queue}
  Retention: {Type: Number, Default: 7}
Conditions:
  WithStream: !Equals [!Ref Mode, stream]
  NotStream: !Not [!Condition WithStream]
Resources:
  Dlq:
    Type: AWS::SQS::Queue
    Properties: {MessageRetentionPeriod: 600}
  Work:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub work-${Stage}
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 2}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Join ["-", [!Ref "AWS::StackName", table]]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      BillingMode: PAY_PER_REQUEST
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}
  Stream:
    Type: AWS::Kinesis::Stream
    Condition: WithStream
    Properties: {ShardCount: 1}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Environment:
        Variables:
          TABLE: !Ref Table
          EXTRA: !If [NotStream, !Ref "AWS::NoValue", on]
  Group:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/x/${Stage}"
      RetentionInDays: !Ref Retention
"""


def _template(tmp_path: Path, text: str = TEMPLATE) -> dict[str, object]:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return load_template(path)


def test_resources_in_dependency_order_with_resolved_names(tmp_path: Path) -> None:
    # given a template using short tags, conditions and cross-references
    template = _template(tmp_path)
    # when planned with defaults
    plan = plan_stack(template, stack_name="s")
    by_id = {r.logical_id: r for r in plan}
    # then the dead-letter queue comes before the queue that names its ARN
    ids = [r.logical_id for r in plan]
    assert ids.index("Dlq") < ids.index("Work")
    assert by_id["Work"].name == "work-dev"
    assert by_id["Work"].properties["RedrivePolicy"] == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:s-Dlq", "maxReceiveCount": 2}
    # and names come from Join/Sub or from the stack and logical id
    assert by_id["Table"].name == "s-table" and by_id["Dlq"].name == "s-Dlq"
    assert by_id["Group"].name == "/x/dev" and by_id["Group"].properties == {"RetentionInDays": "7"}
    # and a function without a declared log group brings its implicit one; the stream is conditional
    assert by_id["FnLogGroup"].name == "/aws/lambda/s-Fn"
    assert "Stream" not in by_id


def test_parameters_override_defaults_and_switch_conditions(tmp_path: Path) -> None:
    # given the Mode parameter set so the stream's condition holds
    plan = plan_stack(_template(tmp_path), stack_name="s", parameters={"Mode": "stream", "Stage": "prod"})
    by_id = {r.logical_id: r for r in plan}
    # then the stream is planned and the names follow the stage
    assert by_id["Stream"].properties == {"ShardCount": 1}
    assert by_id["Work"].name == "work-prod" and by_id["Group"].name == "/x/prod"


LISTS = """
Parameters:
  Names: {Type: CommaDelimitedList, Default: "a,b"}
Conditions:
  Named: !Or [!Condition HasTwo, !Equals [!Join [",", !Ref Names], none]]
  HasTwo: !Equals [!Join ["+", !Ref Names], "a+b"]
Resources:
  Second:
    Type: AWS::SQS::Queue
    Condition: Named
    Properties: {QueueName: !Select [1, !Ref Names]}
"""


def test_list_parameters_are_lists_and_conditions_may_come_in_any_order(tmp_path: Path) -> None:
    # given a list parameter joined and selected from, and a condition naming one declared after it
    plan = plan_stack(_template(tmp_path, LISTS), stack_name="s")
    # then Ref gives the list (not the string "a,b", whose second item was ",") and the
    # condition resolves (it was "not declared" before)
    assert [(r.logical_id, r.name) for r in plan] == [("Second", "b")]


def test_unknown_or_refused_parameters_are_errors(tmp_path: Path) -> None:
    # given an override the template does not declare (silently ignored before)
    with pytest.raises(StackError, match=r"parameter override\(s\) \['Nmaes'\]"):
        plan_stack(_template(tmp_path, LISTS), parameters={"Nmaes": "a,b"})
    # and a condition that names itself through another
    looped = LISTS.replace('HasTwo: !Equals [!Join ["+", !Ref Names], "a+b"]', "HasTwo: !Or [!Condition Named, !Equals [a, b]]")
    with pytest.raises(StackError, match="condition 'Named': refers to itself"):
        plan_stack(_template(tmp_path, looped))


def test_a_reference_to_nothing_is_an_error_naming_it(tmp_path: Path) -> None:
    # given a template referencing an undeclared parameter
    text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !Ref Missing}\n"
    # then planning fails naming it
    with pytest.raises(StackError, match="Missing"):
        plan_stack(_template(tmp_path, text))


def test_the_project_template_declares_the_scrape_resources() -> None:
    # given the project's own template.yaml
    plan = plan_stack(load_template(ROOT / "template.yaml"), stack_name="promwatch-local")
    kinds = {r.type for r in plan}
    # then the state table (with TTL), a queue with a dead-letter queue and log groups are planned
    assert {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Logs::LogGroup"} <= kinds
    tables = [r for r in plan if r.type == "AWS::DynamoDB::Table"]
    assert any(t.properties.get("TimeToLiveSpecification", {}).get("Enabled") for t in tables)
    assert any("RedrivePolicy" in r.properties for r in plan if r.type == "AWS::SQS::Queue")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Resources: " + "[" * 100_000, "line 1: nested deeper than 64 levels"),
        ("Resources:\n  Queue: {Type: 'AWS::SQS::Queue'}\n  Queue: {Type: 'AWS::SNS::Topic'}\n",
         "line 3: Resources: duplicate key 'Queue'"),
        ("Resources:\n  Queue:\n    Type: !Sub\n      - " + "[" * 2000 + "]" * 2000 + "\n", "nested deeper than 64 levels"),
    ],
    ids=["deep", "duplicate-resource", "deep-in-a-short-tag"],
)
def test_a_hostile_template_is_a_stack_error(tmp_path: Path, text: str, expected: str) -> None:
    # Given a template nested 100 000 deep (a RecursionError traceback before) or declaring a
    # resource twice (silently the last one before; CloudFormation refuses it), When loaded,
    # Then StackError names the file and where.
    path = tmp_path / "template.yaml"
    path.write_text(text)
    with pytest.raises(StackError) as raised:
        load_template(path)
    assert str(raised.value).startswith(f"{path}: ") and expected in str(raised.value)
