"""ECS and EC2 API answers shaped as the real APIs return them (DescribeTasks, DescribeTaskDefinition, ...)."""
from __future__ import annotations

from typing import Any

ACCOUNT = "123456789012"
REGION = "eu-west-1"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod"
CLUSTER = {"clusterArn": CLUSTER_ARN, "clusterName": "prod", "status": "ACTIVE",
           "tags": [{"key": "cost-center", "value": "42"}]}
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/api"
SERVICE = {"serviceArn": SERVICE_ARN, "serviceName": "api", "clusterArn": CLUSTER_ARN, "status": "ACTIVE",
           "tags": [{"key": "tier", "value": "web"}]}
API_DEFINITION_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/api:7"
WORKER_DEFINITION_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/worker:3"
CONTAINER_INSTANCE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/prod/0b1c"
FARGATE_TASK_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/prod/f00d"
BRIDGE_TASK_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/prod/b41d"

FARGATE_TASK: dict[str, Any] = {
    "taskArn": FARGATE_TASK_ARN, "clusterArn": CLUSTER_ARN, "taskDefinitionArn": API_DEFINITION_ARN,
    "group": "service:api", "launchType": "FARGATE", "availabilityZone": "eu-west-1b",
    "desiredStatus": "RUNNING", "lastStatus": "RUNNING", "healthStatus": "HEALTHY",
    "platformFamily": "Linux", "platformVersion": "1.4.0", "startedBy": "ecs-svc/123",
    "attachments": [{"id": "a1", "type": "ElasticNetworkInterface", "status": "ATTACHED", "details": [
        {"name": "subnetId", "value": "subnet-b"},
        {"name": "networkInterfaceId", "value": "eni-1"},
        {"name": "macAddress", "value": "0a:1b:2c:3d:4e:5f"},
        {"name": "privateDnsName", "value": "ip-10-0-2-7.eu-west-1.compute.internal"},
        {"name": "privateIPv4Address", "value": "10.0.2.7"},
    ]}],
    "containers": [{"name": "app", "lastStatus": "RUNNING", "networkInterfaces": [
        {"attachmentId": "a1", "privateIpv4Address": "10.0.2.7"}]},
        {"name": "envoy", "lastStatus": "RUNNING"}],
    "tags": [{"key": "release", "value": "2024.06"}],
}
BRIDGE_TASK: dict[str, Any] = {
    "taskArn": BRIDGE_TASK_ARN, "clusterArn": CLUSTER_ARN, "taskDefinitionArn": WORKER_DEFINITION_ARN,
    "group": "family:worker", "launchType": "EC2", "containerInstanceArn": CONTAINER_INSTANCE_ARN,
    "availabilityZone": "eu-west-1a", "desiredStatus": "RUNNING", "lastStatus": "RUNNING",
    "healthStatus": "UNKNOWN", "attachments": [],
    "containers": [
        {"name": "worker", "lastStatus": "RUNNING", "networkBindings": [
            {"bindIP": "0.0.0.0", "containerPort": 9404, "hostPort": 32768, "protocol": "tcp"},
            {"bindIP": "::", "containerPort": 9404, "hostPort": 32768, "protocol": "tcp"},
            {"bindIP": "0.0.0.0", "containerPort": 8080, "hostPort": 32769, "protocol": "tcp"}]},
        {"name": "log-router", "lastStatus": "RUNNING", "networkBindings": []},
    ],
}
HOST_INSTANCE: dict[str, Any] = {
    "InstanceId": "i-0host", "InstanceType": "c7g.xlarge", "PrivateIpAddress": "10.0.1.20",
    "PublicIpAddress": "198.51.100.20", "SubnetId": "subnet-a", "VpcId": "vpc-1",
    "Tags": [{"Key": "aws:autoscaling:groupName", "Value": "ecs-prod"}],
}
API_DEFINITION: dict[str, Any] = {
    "taskDefinitionArn": API_DEFINITION_ARN, "family": "api", "revision": 7, "networkMode": "awsvpc",
    "containerDefinitions": [
        {"name": "app", "image": "api:7", "portMappings": [
            {"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"},
            {"containerPort": 9404, "hostPort": 9404, "protocol": "tcp"}],
         "dockerLabels": {"ECS_PROMETHEUS_EXPORTER_PORT": "9404", "ECS_PROMETHEUS_JOB_NAME": "api",
                          "com.example.team": "payments"}},
        {"name": "envoy", "image": "envoy", "portMappings": [{"containerPort": 9901, "protocol": "tcp"}]},
    ],
}
WORKER_DEFINITION: dict[str, Any] = {
    "taskDefinitionArn": WORKER_DEFINITION_ARN, "family": "worker", "revision": 3, "networkMode": "bridge",
    "containerDefinitions": [
        {"name": "worker", "image": "worker:3", "portMappings": [
            {"containerPort": 9404, "hostPort": 0}, {"containerPort": 8080, "hostPort": 0}],
         "dockerLabels": {"ECS_PROMETHEUS_EXPORTER_PORT": "9404", "ECS_PROMETHEUS_METRICS_PATH": "/stats",
                          "job": "worker"}},
        {"name": "log-router", "image": "fluent-bit", "dockerLabels": {"ECS_PROMETHEUS_EXPORTER_PORT": "2020"}},
    ],
}
