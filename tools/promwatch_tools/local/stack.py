"""The stack's data resources, created in the emulator from what template.yaml declares.

:func:`plan_stack` (pure) reads the template's DynamoDB tables, SQS queues, log groups
(declared, and the implicit ``/aws/lambda/<function>`` ones) and Kinesis streams, resolving
the intrinsic functions they use against the parameters and the physical names of the
resources planned before them; :func:`create_stack` (edge) creates them with boto3.
Functions, layers, schedules and alarms are not created: the demo runs the handlers
in-process instead.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from promwatch.safeload import DocumentError, LimitedLoader, load_yaml, read_text

from promwatch_tools.local.emulator import DEFAULT_REGION, FAKE_ACCOUNT_ID
from promwatch_tools.local.errors import StackError
from promwatch_tools.local.intrinsics import IntrinsicResolver, pseudo_parameters
from promwatch_tools.local.parameters import parameter_refs, parameter_values

SUPPORTED_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::Logs::LogGroup",
    "AWS::Kinesis::Stream",
    "AWS::Logs::SubscriptionFilter",
)
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
"""Resource types that are Lambda functions (SAM's and plain CloudFormation's)."""


class _CloudFormationLoader(LimitedLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, !GetAtt, !If, ...), within safeload's limits."""


def _short_tag(loader: LimitedLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _short_tag)


def load_template(path: str | Path) -> dict[str, Any]:
    """Parse template.yaml (CloudFormation short tags become their long ``Fn::`` forms)."""
    try:
        template = load_yaml(read_text(path), loader=_CloudFormationLoader)
    except OSError as error:
        raise StackError(f"{path}: cannot be read ({error.strerror}); expected the SAM template") from error
    except DocumentError as error:
        raise StackError(f"{path}: {error}") from None
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise StackError(f"{path}: expected a template with a Resources mapping")
    return template


@dataclass(frozen=True, slots=True)
class PlannedResource:
    """One resource to create: its logical id, type, physical name and resolved properties."""

    logical_id: str
    type: str
    name: str
    properties: Mapping[str, Any]
    attributes: Mapping[str, str]


def physical_name(stack_name: str, logical_id: str, limit: int = 80) -> str:
    """The local name of a resource the template does not name: ``<stack>-<logical id>``."""
    # CloudFormation appends a random suffix; a stable name keeps demo runs comparable.
    return f"{stack_name}-{logical_id}"[:limit]


def resource_attributes(kind: str, name: str, region: str, account_id: str) -> dict[str, str]:
    """What ``Ref`` and ``Fn::GetAtt`` give for a resource of type ``kind`` named ``name``."""
    arn_prefix = f"arn:aws:{{}}:{region}:{account_id}:"
    if kind == "AWS::SQS::Queue":
        url = f"https://sqs.{region}.amazonaws.com/{account_id}/{name}"
        return {"Ref": url, "Arn": arn_prefix.format("sqs") + name, "QueueName": name, "QueueUrl": url}
    if kind == "AWS::DynamoDB::Table":
        arn = arn_prefix.format("dynamodb") + f"table/{name}"
        return {"Ref": name, "Arn": arn, "StreamArn": f"{arn}/stream/latest"}
    if kind == "AWS::Logs::LogGroup":
        return {"Ref": name, "Arn": arn_prefix.format("logs") + f"log-group:{name}:*"}
    if kind == "AWS::Kinesis::Stream":
        return {"Ref": name, "Arn": arn_prefix.format("kinesis") + f"stream/{name}"}
    if kind == "AWS::IAM::Role":
        return {"Ref": name, "Arn": f"arn:aws:iam::{account_id}:role/{name}", "RoleId": name}
    if kind == "AWS::EC2::SecurityGroup":
        return {"Ref": name, "GroupId": name}
    if kind in FUNCTION_TYPES:
        return {"Ref": name, "Arn": arn_prefix.format("lambda") + f"function:{name}"}
    # Anything else is only ever referenced by name or by a plausible ARN locally.
    service = kind.split("::")[1].lower() if kind.count("::") == 2 else "cloudformation"
    return {"Ref": name, "Arn": arn_prefix.format(service) + name}


_NAME_PROPERTY = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::SubscriptionFilter": "FilterName",
    "AWS::IAM::Role": "RoleName",
}


def _dependency_order(resources: Mapping[str, Any]) -> list[str]:
    """Logical ids, each after the resources its properties reference (Ref/GetAtt/Sub)."""
    text = {lid: json.dumps(body.get("Properties", {})) for lid, body in resources.items()}
    order: list[str] = []
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in order or logical_id in visiting:
            return
        visiting.add(logical_id)
        for other in resources:
            if other != logical_id and (f'"{other}"' in text[logical_id] or "${" + other in text[logical_id]):
                visit(other)
        visiting.discard(logical_id)
        order.append(logical_id)

    for logical_id in resources:
        visit(logical_id)
    return order


def plan_stack(
    template: Mapping[str, Any],
    *,
    stack_name: str = "promwatch-local",
    parameters: Mapping[str, str] | None = None,
    region: str = DEFAULT_REGION,
    account_id: str = FAKE_ACCOUNT_ID,
) -> list[PlannedResource]:
    """The data resources template.yaml declares, with names and properties resolved.

    Parameters
    ----------
    template
        The parsed template (:func:`load_template`).
    stack_name
        Stands in for ``AWS::StackName``.
    parameters
        Parameter overrides; other parameters take their ``Default``.
    region, account_id
        Stand in for ``AWS::Region`` and ``AWS::AccountId``.

    Returns
    -------
    list of PlannedResource
        Tables, queues, log groups and streams in creation order (a dead-letter queue before
        the queue that names it). A function without a declared ``LoggingConfig.LogGroup``
        contributes its implicit ``/aws/lambda/<name>`` log group. Resources whose
        ``Condition`` is false are left out.

    Raises
    ------
    StackError
        An unknown parameter, one without a value, a value its constraints or the template's
        Rules refuse, an unknown condition, or a reference to nothing.
    """
    values = parameter_values(template, parameters)
    refs: dict[str, Any] = {**pseudo_parameters(stack_name, region, account_id),
                            **parameter_refs(template, values)}
    attributes: dict[str, Mapping[str, str]] = {}
    resolver = IntrinsicResolver(template, refs, attributes)

    resources: Mapping[str, Any] = template["Resources"]
    planned: list[PlannedResource] = []
    for logical_id in _dependency_order(resources):
        body = resources[logical_id]
        kind = body.get("Type", "")
        if "Condition" in body and not resolver.condition(body["Condition"]):
            continue
        raw = body.get("Properties") or {}
        name_property = _NAME_PROPERTY.get(kind, "")
        name = (
            str(resolver.resolve(raw[name_property]))
            if name_property in raw
            else physical_name(stack_name, logical_id)
        )
        refs[logical_id] = name
        attributes[logical_id] = resource_attributes(kind, name, region, account_id)
        if kind not in (*SUPPORTED_TYPES, *FUNCTION_TYPES):
            continue
        if kind in FUNCTION_TYPES:
            if "LogGroup" not in (raw.get("LoggingConfig") or {}):
                group = f"/aws/lambda/{name}"
                planned.append(PlannedResource(f"{logical_id}LogGroup", "AWS::Logs::LogGroup", group, {},
                                               {"Ref": group}))
            continue
        properties = resolver.resolve({k: v for k, v in raw.items() if k != name_property})
        planned.append(PlannedResource(logical_id, kind, name, properties, attributes[logical_id]))
    return planned


@dataclass(frozen=True, slots=True)
class StackResources:
    """What :func:`create_stack` created: logical id -> physical id (what ``Ref`` gives)."""

    physical_ids: Mapping[str, str]
    created: tuple[PlannedResource, ...]
    skipped: tuple[tuple[PlannedResource, str], ...] = ()

    def of_type(self, kind: str) -> list[PlannedResource]:
        """The created resources of one CloudFormation type."""
        return [r for r in self.created if r.type == kind]


def _create_table(resource: PlannedResource, dynamodb: Any) -> str:
    props = resource.properties
    args: dict[str, Any] = {
        "TableName": resource.name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if args["BillingMode"] == "PROVISIONED":
        args["ProvisionedThroughput"] = props.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
        if key in props:
            args[key] = props[key]
    dynamodb.create_table(**args)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and str(ttl.get("Enabled")).lower() == "true":
        dynamodb.update_time_to_live(
            TableName=resource.name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    return resource.name


def _create_queue(resource: PlannedResource, sqs: Any) -> str:
    attributes: dict[str, str] = {}
    for key, value in resource.properties.items():
        if key == "RedrivePolicy":
            attributes[key] = json.dumps(value)
        elif key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
                     "MaximumMessageSize", "ReceiveMessageWaitTimeSeconds", "FifoQueue"):
            attributes[key] = str(value).lower() if isinstance(value, bool) else str(value)
    url: str = sqs.create_queue(QueueName=resource.name, Attributes=attributes)["QueueUrl"]
    return url


def _create_log_group(resource: PlannedResource, logs: Any) -> str:
    logs.create_log_group(logGroupName=resource.name)
    if "RetentionInDays" in resource.properties:
        logs.put_retention_policy(
            logGroupName=resource.name, retentionInDays=int(resource.properties["RetentionInDays"])
        )
    return resource.name


def _create_stream(resource: PlannedResource, kinesis: Any) -> str:
    props = resource.properties
    args: dict[str, Any] = {"StreamName": resource.name}
    mode = (props.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
    if mode == "ON_DEMAND":
        args["StreamModeDetails"] = {"StreamMode": "ON_DEMAND"}
    else:
        args["ShardCount"] = int(props.get("ShardCount", 1))
    kinesis.create_stream(**args)
    return resource.name


def _create_subscription_filter(resource: PlannedResource, logs: Any) -> str:
    props = resource.properties
    group = str(props["LogGroupName"])
    # The subscribed group is made by its producer (Container Insights), not by the stack;
    # locally nothing else makes it, so it is created here when missing.
    if not logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups"):
        logs.create_log_group(logGroupName=group)
    args: dict[str, Any] = {
        "logGroupName": group,
        "filterName": resource.name,
        "filterPattern": str(props.get("FilterPattern", "")),
        "destinationArn": str(props["DestinationArn"]),
    }
    if "RoleArn" in props:
        args["roleArn"] = str(props["RoleArn"])
    logs.put_subscription_filter(**args)
    return resource.name


_CREATORS: dict[str, tuple[str, Callable[[PlannedResource, Any], str]]] = {
    "AWS::DynamoDB::Table": ("dynamodb", _create_table),
    "AWS::SQS::Queue": ("sqs", _create_queue),
    "AWS::Logs::LogGroup": ("logs", _create_log_group),
    "AWS::Kinesis::Stream": ("kinesis", _create_stream),
    "AWS::Logs::SubscriptionFilter": ("logs", _create_subscription_filter),
}


def create_stack(plan: list[PlannedResource], *, client: Callable[[str], Any] | None = None) -> StackResources:
    """Create the planned resources (in order) in whatever AWS boto3 points at.

    Parameters
    ----------
    plan
        From :func:`plan_stack`.
    client
        ``service -> boto3 client`` (default ``boto3.client``), e.g. ``Emulator.client``.

    Returns
    -------
    StackResources
        Logical id -> physical id (queue URL for queues, name otherwise).
    """
    if client is None:
        import boto3

        make: Any = boto3.client
    else:
        make = client
    clients: dict[str, Any] = {}
    physical: dict[str, str] = {}
    created: list[PlannedResource] = []
    skipped: list[tuple[PlannedResource, str]] = []
    for resource in plan:
        reason = _not_creatable(resource)
        if reason:
            skipped.append((resource, reason))
            continue
        service, create = _CREATORS[resource.type]
        if service not in clients:
            clients[service] = make(service)
        physical[resource.logical_id] = create(resource, clients[service])
        created.append(resource)
    return StackResources(physical, tuple(created), tuple(skipped))


def _not_creatable(resource: PlannedResource) -> str | None:
    """Why a planned resource is left out locally (None when it can be created)."""
    if resource.type == "AWS::Logs::SubscriptionFilter" and ":lambda:" in str(resource.properties.get("DestinationArn")):
        # Functions are not deployed to the emulator (they run in-process), so nothing can
        # receive the subscription; the stream path is the one the emulator delivers.
        return "its destination is a function, which runs in-process rather than in the emulator"
    return None
