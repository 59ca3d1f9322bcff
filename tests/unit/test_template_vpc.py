"""template.yaml in and out of a VPC: what CloudFormation would deploy for each set of parameters.

The template is resolved as CloudFormation resolves it (parameters checked, Rules asserted,
conditions applied, intrinsics evaluated) by the local stack's own resolver.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from promwatch_tools.local.errors import StackError
from promwatch_tools.local.intrinsics import IntrinsicResolver, pseudo_parameters
from promwatch_tools.local.parameters import parameter_refs, parameter_values
from promwatch_tools.local.stack import load_template, physical_name, resource_attributes

ROOT = Path(__file__).resolve().parents[2]
STACK, REGION, ACCOUNT = "pw", "us-east-1", "123456789012"
VPC = {"SubnetIds": "subnet-0a1b2c3d, subnet-0e1f2a3b", "SecurityGroupIds": "sg-0123abcd"}
ENDPOINTS = {**VPC, "CreateVpcEndpoints": "true", "VpcId": "vpc-0123abcd", "RouteTableIds": "rtb-0123abcd,rtb-4567ef01"}
ENI_ACTIONS = {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
               "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}

# The role SAM generated for the scrape function before it was declared in the template
# (sam translate of the previous template.yaml, resolved for this stack): without the VPC and
# discovery parameters the declared role must stay exactly this.
ROLE_SAM_GENERATED = {
    "Type": "AWS::IAM::Role",
    "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}}]},
        "ManagedPolicyArns": [
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
        ],
        "PermissionsBoundary": "pw-FunctionPermissionsBoundary",
        "Policies": [
            {"PolicyName": "ScrapeFunctionRolePolicy0", "PolicyDocument": {"Statement": [
                {"Sid": "CounterBaselines", "Effect": "Allow",
                 "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
                 "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/pw-StateTable"}]}},
            {"PolicyName": "ScrapeFunctionRolePolicy1", "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": ["sqs:SendMessage*"],
                 "Resource": "arn:aws:sqs:us-east-1:123456789012:pw-FanoutQueue"}]}},
        ],
        "Tags": [{"Key": "lambda:createdBy", "Value": "SAM"}],
    },
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def _resolver(template: dict[str, Any], parameters: dict[str, str]) -> IntrinsicResolver:
    values = parameter_values(template, parameters)
    refs: dict[str, Any] = {**pseudo_parameters(STACK, REGION, ACCOUNT), **parameter_refs(template, values)}
    attributes: dict[str, Any] = {}
    for lid, body in template["Resources"].items():
        refs[lid] = physical_name(STACK, lid)
        attributes[lid] = resource_attributes(body["Type"], refs[lid], REGION, ACCOUNT)
    return IntrinsicResolver(template, refs, attributes)


def _deployed(template: dict[str, Any], **parameters: str) -> dict[str, Any]:
    """The resources CloudFormation would create for ``parameters``, resolved."""
    resolver = _resolver(template, parameters)
    return {
        lid: resolver.resolve({k: v for k, v in body.items() if k != "Condition"})
        for lid, body in template["Resources"].items()
        if "Condition" not in body or resolver.condition(body["Condition"])
    }


def _outputs(template: dict[str, Any], **parameters: str) -> set[str]:
    resolver = _resolver(template, parameters)
    return {name for name, body in template["Outputs"].items()
            if "Condition" not in body or resolver.condition(body["Condition"])}


def _statements(role: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{policy['PolicyName']}/{statement.get('Sid', index)}": statement
            for policy in role["Properties"]["Policies"]
            for index, statement in enumerate(policy["PolicyDocument"]["Statement"])}


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return set(action) if isinstance(action, list) else {action}


def _of_type(stack: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {lid: body for lid, body in stack.items() if body["Type"].startswith(prefix)}


def test_without_the_vpc_parameters_the_stack_is_as_before(template: dict[str, Any]) -> None:
    # given the default parameters
    stack = _deployed(template)
    # then the scrape function's role is the one SAM generated, and nothing of a VPC is there
    assert stack["ScrapeFunctionRole"] == ROLE_SAM_GENERATED
    for lid, body in _of_type(stack, "AWS::Serverless::Function").items():
        assert "VpcConfig" not in body["Properties"], lid
    assert _of_type(stack, "AWS::EC2::") == {}
    roles = [body for body in stack.values() if body["Type"] == "AWS::IAM::Role"]
    assert not any(action.startswith(("ec2:", "ecs:", "eks:"))
                   for role in roles for s in _statements(role).values() for action in _actions(s))
    assert _outputs(template) == {
        "ScrapeFunctionName", "ScrapeFunctionArn", "ScrapeLogGroupName", "StateTableName", "FanoutQueueUrl",
        "FanoutDeadLetterQueueUrl", "InsightsFunctionName", "PromwatchLayerArn", "PromwatchConfigLayerArn"}
    assert {"ScrapeFunctionRoleArn", "VpcEndpointSecurityGroupId"} <= _outputs(
        template, **ENDPOINTS, DiscoveryApis="eks")


def test_in_a_vpc_the_scrape_function_gets_its_subnets_and_lambda_only_eni_permissions(
    template: dict[str, Any],
) -> None:
    # given subnets and security groups
    stack = _deployed(template, **VPC)
    # then the scrape function (only it) runs in them
    scrape = stack["ScrapeFunction"]["Properties"]
    assert scrape["VpcConfig"] == {"SubnetIds": ["subnet-0a1b2c3d", "subnet-0e1f2a3b"],
                                   "SecurityGroupIds": ["sg-0123abcd"]}
    assert "VpcConfig" not in stack["InsightsFunction"]["Properties"]
    assert "VpcConfig" not in stack["ReconcileFunction"]["Properties"]
    # and its role may manage network interfaces, without AWSLambdaVPCAccessExecutionRole
    role = stack["ScrapeFunctionRole"]
    assert role["Properties"]["ManagedPolicyArns"] == ROLE_SAM_GENERATED["Properties"]["ManagedPolicyArns"]
    eni = {key: s for key, s in _statements(role).items() if key.startswith("ScrapeFunctionVpcNetworkInterfaces/")}
    assert set().union(*map(_actions, eni.values())) == ENI_ACTIONS
    for statement in eni.values():
        # only when Lambda calls (the function's own calls carry lambda:SourceFunctionArn)
        assert statement["Condition"] == {"Null": {"lambda:SourceFunctionArn": "true"}}
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert resources == ["*"] or all(r.startswith("arn:aws:ec2:us-east-1:") for r in resources)
        if "*" in resources:
            assert _actions(statement) <= {"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}
    manage = eni["ScrapeFunctionVpcNetworkInterfaces/LambdaManagesNetworkInterfaces"]
    assert manage["Resource"] == "arn:aws:ec2:us-east-1:123456789012:network-interface/*"
    # and no endpoint is created unless asked for
    assert _of_type(stack, "AWS::EC2::") == {}


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({}, {"DynamoDbEndpoint": "dynamodb", "SqsEndpoint": "sqs"}),
        ({"Output": "logs"}, {"DynamoDbEndpoint": "dynamodb", "SqsEndpoint": "sqs", "LogsEndpoint": "logs"}),
        ({"OtlpMetrics": "enabled"}, {"DynamoDbEndpoint": "dynamodb", "SqsEndpoint": "sqs",
                                      "MonitoringEndpoint": "monitoring"}),
        ({"ScrapeConfigSource": "ssm:/pw/scrape"}, {"DynamoDbEndpoint": "dynamodb", "SqsEndpoint": "sqs",
                                                    "SsmEndpoint": "ssm"}),
        ({"ScrapeConfigSource": "s3://bucket/scrape.yaml"}, {"DynamoDbEndpoint": "dynamodb", "SqsEndpoint": "sqs",
                                                             "S3Endpoint": "s3"}),
        ({"ScrapeSecretArns": "arn:aws:ssm:us-east-1:123456789012:parameter/token"},
         {"DynamoDbEndpoint": "dynamodb", "SqsEndpoint": "sqs", "SsmEndpoint": "ssm"}),
        ({"ScrapeSecretArns": "arn:aws:secretsmanager:us-east-1:123456789012:secret:token-AbCdEf"},
         {"DynamoDbEndpoint": "dynamodb", "SqsEndpoint": "sqs", "SecretsManagerEndpoint": "secretsmanager"}),
        ({"DiscoveryApis": "ec2, ecs,eks,sts"},
         {"DynamoDbEndpoint": "dynamodb", "SqsEndpoint": "sqs", "Ec2Endpoint": "ec2", "EcsEndpoint": "ecs",
          "EksEndpoint": "eks", "StsEndpoint": "sts"}),
    ],
    ids=["base", "output-logs", "otlp", "config-ssm", "config-s3", "secret-ssm", "secret-secretsmanager", "discovery"],
)
def test_endpoints_are_those_of_the_apis_the_function_calls(
    template: dict[str, Any], parameters: dict[str, str], expected: dict[str, str]
) -> None:
    # given the endpoints option and what the configuration makes the function call
    stack = _deployed(template, **ENDPOINTS, **parameters)
    endpoints = _of_type(stack, "AWS::EC2::VPCEndpoint")
    # then exactly those services get an endpoint in the VPC
    assert {lid: body["Properties"]["ServiceName"] for lid, body in endpoints.items()} == {
        lid: f"com.amazonaws.us-east-1.{service}" for lid, service in expected.items()}
    group = physical_name(STACK, "VpcEndpointSecurityGroup")
    for lid, body in endpoints.items():
        props = body["Properties"]
        gateway = expected[lid] in ("dynamodb", "s3")
        assert props["VpcId"] == "vpc-0123abcd", lid
        assert props["VpcEndpointType"] == ("Gateway" if gateway else "Interface"), lid
        if gateway:
            # gateway endpoints are routes in the subnets' route tables
            assert props["RouteTableIds"] == ["rtb-0123abcd", "rtb-4567ef01"], lid
        else:
            # interface endpoints sit in the function's subnets behind their security group,
            # answering the SDK's usual names
            assert props["SubnetIds"] == ["subnet-0a1b2c3d", "subnet-0e1f2a3b"], lid
            assert props["SecurityGroupIds"] == [group] and props["PrivateDnsEnabled"] is True, lid


def test_the_endpoints_admit_https_from_every_function_security_group(template: dict[str, Any]) -> None:
    # given the function in three security groups, with endpoints
    groups = ["sg-0000000a", "sg-0000000b", "sg-0000000c"]
    stack = _deployed(template, **{**ENDPOINTS, "SecurityGroupIds": ",".join(groups)})
    # then the endpoints' security group admits 443 from each of them, in the VPC
    security_group = stack["VpcEndpointSecurityGroup"]["Properties"]
    assert security_group["VpcId"] == "vpc-0123abcd"
    ingress = security_group["SecurityGroupIngress"]
    assert [rule["SourceSecurityGroupId"] for rule in ingress] == groups
    assert all((rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 443, 443) for rule in ingress)


def test_discovery_apis_grant_read_only_access_scoped_where_aws_allows(template: dict[str, Any]) -> None:
    # given every discovery API, without a VPC
    stack = _deployed(template, DiscoveryApis="ec2,ecs,eks,sts")
    statements = _statements(stack["ScrapeFunctionRole"])
    discovery = {key: s for key, s in statements.items() if key.startswith("ScrapeFunctionDiscovery")}
    # then only reads are granted (sts is an endpoint only: nothing is granted for it)
    actions = set().union(*map(_actions, discovery.values()))
    assert all(a.split(":")[1].startswith(("Describe", "List")) for a in actions), actions
    assert {a.split(":")[0] for a in actions} == {"ec2", "ecs", "eks"}
    # and EKS and the ECS resources that can be scoped are this account's and region's
    assert statements["ScrapeFunctionDiscoveryEks/DescribeEksClusters"]["Resource"] == (
        "arn:aws:eks:us-east-1:123456789012:cluster/*")
    assert all(r.startswith("arn:aws:ecs:us-east-1:123456789012:")
               for r in statements["ScrapeFunctionDiscoveryEcs/DescribeEcs"]["Resource"])
    # and without a VPC there is still no VPC configuration and no endpoint
    assert "VpcConfig" not in stack["ScrapeFunction"]["Properties"]
    assert _of_type(stack, "AWS::EC2::") == {}


def test_discovery_roles_may_be_assumed_exactly_as_listed(template: dict[str, Any]) -> None:
    # given two roles the discovery configs assume (role_arn), in this account and another,
    roles = "arn:aws:iam::123456789012:role/discovery,arn:aws:iam::210987654321:role/promwatch-discovery"
    statements = _statements(_deployed(template, DiscoveryRoleArns=roles)["ScrapeFunctionRole"])
    # then the function may assume exactly those, and without the parameter none.
    assume = statements["ScrapeFunctionDiscoveryRoles/AssumeDiscoveryRoles"]
    assert _actions(assume) == {"sts:AssumeRole"} and assume["Resource"] == roles.split(",")
    assert not any(key.startswith("ScrapeFunctionDiscoveryRoles")
                   for key in _statements(_deployed(template)["ScrapeFunctionRole"]))


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"SubnetIds": "subnet-0a1b2c3d"}, "rule SubnetsNeedSecurityGroups: SubnetIds and SecurityGroupIds"),
        ({"SecurityGroupIds": "sg-0123abcd"}, "rule SecurityGroupsNeedSubnets: SubnetIds and SecurityGroupIds"),
        ({"CreateVpcEndpoints": "true"}, "rule EndpointsNeedTheVpc: CreateVpcEndpoints=true needs SubnetIds"),
        ({**ENDPOINTS, "VpcId": ""}, "rule EndpointsNeedTheVpc: CreateVpcEndpoints=true needs VpcId"),
        ({**ENDPOINTS, "RouteTableIds": ""}, "rule EndpointsNeedTheVpc: CreateVpcEndpoints=true needs RouteTableIds"),
        ({"SubnetIds": "subnet-0a1b2c3d,oops", "SecurityGroupIds": "sg-0123abcd"},
         r"SubnetIds member 'oops': expected subnet IDs \(subnet-0123456789abcdef0\), or empty for no VPC"),
        ({"DiscoveryApis": "ec2,lambda"}, r"DiscoveryApis member 'lambda': expected one of \['', 'ec2'"),
    ],
    ids=["subnets-alone", "groups-alone", "endpoints-without-vpc", "no-vpc-id", "no-route-tables",
         "not-a-subnet", "unknown-api"],
)
def test_a_half_configured_vpc_is_refused_before_anything_deploys(
    template: dict[str, Any], parameters: dict[str, str], message: str
) -> None:
    # when the VPC parameters contradict each other or are malformed, then the rule or constraint says so
    with pytest.raises(StackError, match=message):
        _deployed(template, **parameters)
