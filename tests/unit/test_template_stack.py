"""template.yaml and samconfig.toml say what the issue asks: checked on the parsed files."""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

import pytest
from promwatch.reconcile import record_path
from promwatch_tools.local.stack import load_template
from promwatch_tools.local.template import function_spec

ROOT = Path(__file__).resolve().parents[2]
CLOUDWATCH_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def _resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {lid: body for lid, body in template["Resources"].items() if body["Type"] == kind}


def test_parameters_constrain_stage_retention_and_config_source(template: dict[str, Any]) -> None:
    # given the template's parameters
    params = template["Parameters"]
    # then the stage, retention and trigger choices are closed lists, the config source a pattern
    assert params["Stage"]["AllowedValues"] == ["dev", "prod"]
    assert params["RetentionInDays"]["AllowedValues"] == CLOUDWATCH_RETENTION_DAYS
    assert params["InsightsTrigger"]["AllowedValues"] == ["subscription", "kinesis"]
    assert {"LogLevel", "ScrapeConfigSource", "ScheduleExpression"} <= set(params)


def test_globals_give_runtime_tracing_and_powertools_settings(template: dict[str, Any]) -> None:
    # given the function globals
    function = template["Globals"]["Function"]
    # then every function runs python3.12 with tracing and the Powertools variables
    assert function["Runtime"] == "python3.12"
    assert function["Tracing"] == "Active"
    variables = function["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Promwatch"
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL"} <= set(variables)


def test_library_layer_is_built_by_its_makefile_for_python312(template: dict[str, Any]) -> None:
    # given the layers
    layers = _resources(template, "AWS::Serverless::LayerVersion")
    logical_id, library = next(
        (name, body) for name, body in layers.items() if body["Properties"]["ContentUri"] == "layers/promwatch"
    )
    # then the library layer is built by its Makefile (sam build runs the target named after it):
    # the requirements for python3.12 on arm64, and bytecode that is never checked against sources
    assert library["Metadata"]["BuildMethod"] == "makefile"
    assert library["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    makefile = (ROOT / "layers/promwatch/Makefile").read_text()
    assert f"build-{logical_id}:" in makefile
    assert "--python-version 3.12" in makefile and "manylinux2014_aarch64" in makefile
    assert "--invalidation-mode unchecked-hash" in makefile
    assert (ROOT / "layers/promwatch/requirements.txt").is_file()
    # and the config layer ships config/
    assert any(body["Properties"]["ContentUri"].rstrip("/") == "config" for body in layers.values())


def test_every_function_handler_exists(template: dict[str, Any]) -> None:
    # given every function of the template
    functions = _resources(template, "AWS::Serverless::Function")
    assert "ScrapeFunction" in functions
    for lid, body in functions.items():
        props = body["Properties"]
        module, _, name = props["Handler"].rpartition(".")
        source = ROOT / props["CodeUri"] / f"{module}.py"
        # then its handler module defines the handler function
        assert source.is_file(), f"{lid}: {source} missing"
        defined = {n.name for n in ast.parse(source.read_text()).body if isinstance(n, ast.FunctionDef)}
        assert name in defined, f"{lid}: {source} defines no {name}"


def test_every_function_logs_to_a_group_with_retention(template: dict[str, Any]) -> None:
    # given every function and the log groups
    groups = _resources(template, "AWS::Logs::LogGroup")
    for lid, body in _resources(template, "AWS::Serverless::Function").items():
        ref = body["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        # then its log group is declared with the stack's retention
        assert groups[ref]["Properties"]["RetentionInDays"] == {"Ref": "RetentionInDays"}, lid


def test_state_table_is_on_demand_with_ttl_encryption_and_recovery(template: dict[str, Any]) -> None:
    # given the counter-baselines table
    props = template["Resources"]["StateTable"]["Properties"]
    # then it is on-demand, keyed by pk, expires by TTL, encrypted, recoverable
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_fanout_queue_has_a_dlq_and_outlasts_six_function_timeouts(template: dict[str, Any]) -> None:
    # given the fan-out queue and the scrape function consuming it
    queue = template["Resources"]["FanoutQueue"]["Properties"]
    scrape = template["Resources"]["ScrapeFunction"]["Properties"]
    timeout = scrape.get("Timeout", template["Globals"]["Function"]["Timeout"])
    # then failed messages go to the DLQ and the visibility timeout is >= 6x the timeout
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["FanoutDeadLetterQueue", "Arn"]}
    assert queue["VisibilityTimeout"] >= 6 * timeout
    sqs_event = scrape["Events"]["FanOut"]
    assert sqs_event["Type"] == "SQS"
    assert sqs_event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert scrape["Events"]["Schedule"]["Properties"]["Schedule"] == {"Ref": "ScheduleExpression"}


def _statements(policies: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for policy in policies:
        if "Fn::If" in policy:
            out.extend(_statements([branch for branch in policy["Fn::If"][1:] if isinstance(branch, dict)
                                    and "Ref" not in branch]))
        elif "Statement" in policy:
            out.extend(policy["Statement"])
        elif "PolicyDocument" in policy:
            out.extend(policy["PolicyDocument"]["Statement"])
    return out


# Actions the Service Authorization Reference lists without a resource type: only "*" works.
UNSCOPABLE_ACTIONS = {
    "ssm:DescribeParameters", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeInstances",
    "ec2:DescribeAvailabilityZones", "ecs:ListClusters", "ecs:ListServices", "ecs:ListTasks",
    "ecs:DescribeTaskDefinition",
    # no resource type in the Service Authorization Reference: the OTLP metrics endpoint's
    "cloudwatch:PutMetricData",
}


def test_scrape_policies_are_scoped(template: dict[str, Any]) -> None:
    # given the scrape function's role (declared, so SAM adds nothing to it)
    function = template["Resources"]["ScrapeFunction"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["ScrapeFunctionRole", "Arn"]} and "Policies" not in function
    policies = template["Resources"]["ScrapeFunctionRole"]["Properties"]["Policies"]
    # then no broad template is used and every inline statement names its resource, but for
    # the actions that cannot be scoped
    assert not any("DynamoDBCrudPolicy" in p for p in policies)
    statements = _statements(policies)
    assert statements
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any(a.endswith(":*") or a == "*" for a in actions), statement
        if statement["Resource"] == "*":
            assert set(actions) <= UNSCOPABLE_ACTIONS, statement
    table = next(s for s in statements if s.get("Sid") == "CounterBaselines")
    assert sorted(table["Action"]) == ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"]
    assert table["Resource"] == {"Fn::GetAtt": ["StateTable", "Arn"]}


def test_otlp_permission_is_granted_only_when_otlp_metrics_are_enabled(template: dict[str, Any]) -> None:
    # given the scrape role's policies
    policies = template["Resources"]["ScrapeFunctionRole"]["Properties"]["Policies"]
    # then cloudwatch:PutMetricData comes in one policy, under the SendsOtlp condition alone
    granting = [p for p in policies if "cloudwatch:PutMetricData" in str(p)]
    assert len(granting) == 1 and granting[0]["Fn::If"][0] == "SendsOtlp"
    assert template["Conditions"]["SendsOtlp"] == {"Fn::Equals": [{"Ref": "OtlpMetrics"}, "enabled"]}
    assert template["Parameters"]["OtlpMetrics"]["Default"] == "disabled"


def test_reconcile_may_tag_and_record_only_its_own_dashboards(template: dict[str, Any]) -> None:
    # given the reconcile function's policy
    statements = {s["Sid"]: s for s in _statements(template["Resources"]["ReconcileFunction"]["Properties"]["Policies"])}
    # then dashboards are tagged and their tags read only under the stage's prefix
    dashboards = statements["ManageOwnDashboards"]
    assert {"cloudwatch:TagResource", "cloudwatch:ListTagsForResource"} <= set(dashboards["Action"])
    assert dashboards["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:cloudwatch::${AWS::AccountId}:dashboard/promwatch-${Stage}-*"}
    # and the ownership record is written and read only under the stage's path
    parameters = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter" + record_path("${Stage}")
    assert statements["RecordOwnDashboards"]["Action"] == ["ssm:PutParameter", "ssm:DeleteParameter"]
    assert statements["RecordOwnDashboards"]["Resource"] == {"Fn::Sub": parameters + "/*"}
    assert statements["ReadDashboardRecord"] == {"Sid": "ReadDashboardRecord", "Effect": "Allow",
                                                 "Action": "ssm:GetParametersByPath",
                                                 "Resource": {"Fn::Sub": parameters}}


def test_stack_alarms_watch_the_dlq_and_scrape_errors(template: dict[str, Any]) -> None:
    # given the stack's own alarms
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    watched = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms.values()}
    # then the DLQ depth and the scrape function's errors are watched
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in watched
    assert ("AWS/Lambda", "Errors") in watched


def test_scrape_environment_resolves_to_local_resources_and_parameters() -> None:
    # given the template resolved for a local stack
    spec = function_spec(load_template(ROOT / "template.yaml"), "scrape", root=ROOT, stack_name="pw")
    env = spec.environment
    # then every setting the scrape function reads is there, names resolved
    assert env["PROMWATCH_STATE_TABLE"] == "pw-StateTable"
    assert env["PROMWATCH_FANOUT_QUEUE_URL"].endswith("/123456789012/pw-FanoutQueue")
    assert env["PROMWATCH_SCRAPE_CONFIG"] == "/opt/scrape.yaml"
    assert env["PROMWATCH_OUTPUT"] == "stdout"
    assert env["PROMWATCH_STAGE"] == "dev"
    assert int(env["PROMWATCH_MAX_TARGETS_PER_INVOCATION"]) >= 1
    assert int(env["PROMWATCH_CONFIG_TTL_SECONDS"]) >= 0
    assert spec.data_layers == (ROOT / "config/",)


def test_output_logs_parameter_points_the_scrape_function_at_the_output_group() -> None:
    # given Output=logs for prod
    spec = function_spec(load_template(ROOT / "template.yaml"), "ScrapeFunction", root=ROOT,
                         parameters={"Output": "logs", "Stage": "prod"})
    # then the function writes EMF to the stage's output log group
    assert spec.environment["PROMWATCH_OUTPUT"] == "logs:/promwatch/metrics/prod"


def test_samconfig_has_build_defaults_and_dev_prod_deploys() -> None:
    # given samconfig.toml
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    # then build is cached and parallel, validate lints, and dev/prod deploy their stage
    assert config["version"] == 0.1
    assert config["default"]["build"]["parameters"] == {"cached": True, "parallel": True}
    assert config["default"]["validate"]["parameters"]["lint"] is True
    for stage in ("dev", "prod"):
        deploy = config[stage]["deploy"]["parameters"]
        assert deploy["capabilities"] == "CAPABILITY_IAM"
        assert deploy["resolve_s3"] is True
        assert f"Stage={stage}" in deploy["parameter_overrides"].split()
        assert deploy["stack_name"] == f"promwatch-{stage}"
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True


def test_function_roles_may_log_only_to_the_stacks_log_groups(template: dict[str, Any]) -> None:
    # given the boundary every function role gets, generated by SAM or declared
    assert template["Globals"]["Function"]["PermissionsBoundary"] == {"Ref": "FunctionPermissionsBoundary"}
    for lid, body in _resources(template, "AWS::Serverless::Function").items():
        role = body["Properties"].get("Role")
        if role is not None:
            declared = template["Resources"][role["Fn::GetAtt"][0]]["Properties"]
            assert declared["PermissionsBoundary"] == {"Ref": "FunctionPermissionsBoundary"}, lid
    statements = template["Resources"]["FunctionPermissionsBoundary"]["Properties"]["PolicyDocument"]["Statement"]
    deny = next(s for s in statements if s["Effect"] == "Deny")
    # then writing logs anywhere but the stack's function groups and the output group is denied
    assert set(deny["Action"]) == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
    allowed = [r["Fn::Sub"] for r in deny["NotResource"]]
    assert any("log-group:/aws/lambda/${AWS::StackName}-*" in r for r in allowed)
    # and every function's own log group falls under that pattern
    groups = _resources(template, "AWS::Logs::LogGroup")
    for lid, body in _resources(template, "AWS::Serverless::Function").items():
        name = groups[body["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]["LogGroupName"]
        assert name["Fn::Sub"].startswith("/aws/lambda/${AWS::StackName}-"), lid
