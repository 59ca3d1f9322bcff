"""A promwatch extension of ``aws_sd_configs`` with ``role: ecs``: one target per selected
container port, as the CloudWatch agent's ECS service discovery selects them.

``ecs_service_discovery`` takes the CloudWatch agent's own three selections, with its key names:

* ``docker_label``: a container whose docker label ``sd_port_label`` (default
  ``ECS_PROMETHEUS_EXPORTER_PORT``) names a container port; ``sd_metrics_path_label`` (default
  ``ECS_PROMETHEUS_METRICS_PATH``) sets ``__metrics_path__`` and ``sd_job_name_label`` (default
  ``job``) the ``job`` label, when the container has those labels;
* ``task_definition_list``: containers of tasks whose task definition ARN matches
  ``sd_task_definition_arn_pattern`` (and whose name matches ``sd_container_name_pattern``),
  on ``sd_metrics_ports``;
* ``service_name_list_for_tasks``: the same for tasks of services matching ``sd_service_name_pattern``.

Patterns are RE2 searched unanchored, as the agent (Go's ``MatchString``) does: write ``^...$``
to match a whole name. The container port is mapped to the port the task is reached on (the
task's network bindings in ``bridge`` mode, the port mappings in ``awsvpc``/``host`` mode); a
port that is not mapped gives no target. Targets are deduplicated by ``ip:port`` and metrics
path, the first selection winning (services, docker labels, task definitions, as the agent).
Each target has the task's ``__meta_ecs_*`` labels plus ``__meta_ecs_container_name``,
``__meta_ecs_container_port`` and ``__meta_ecs_container_label_<docker label>``.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from promwatch.discovery.ecstasks import PREFIX, ClusterState, service_name, task_labels
from promwatch.discovery.model import (
    ADDRESS,
    METRICS_PATH,
    DiscoveryConfigError,
    join_host_port,
    sanitize_label_name,
)
from promwatch.regex import Regex, search_regex

CONTAINER_NAME = PREFIX + "container_name"
CONTAINER_PORT = PREFIX + "container_port"
CONTAINER_LABEL = PREFIX + "container_label_"
JOB = "job"
_PORTS_TEXT = re.compile(r"\s*\d{1,5}\s*(;\s*\d{1,5}\s*)*")
_AGENT_ONLY_KEYS = {
    "sd_frequency": "refresh_interval",
    "sd_target_cluster": "clusters",
    "sd_cluster_region": "region",
    "sd_result_file": "nothing: targets go straight to the scrape",
}


def _ports(value: Any) -> Any:
    # The agent writes ports as "9404;9406"; a YAML list [9404, 9406] is read too.
    if isinstance(value, str):
        if not _PORTS_TEXT.fullmatch(value):
            raise DiscoveryConfigError(f"{value!r} is not a list of ports; expected e.g. '9404;9406' or [9404, 9406]")
        return [int(port) for port in value.split(";")]
    return value


def _pattern(value: Any) -> Any:
    if isinstance(value, str):
        search_regex(value)  # a RegexError is a ValueError: reported under the key path
    return value


Ports = Annotated[list[Annotated[int, Field(ge=1, le=65535)]], BeforeValidator(_ports), Field(min_length=1)]
Pattern = Annotated[str, BeforeValidator(_pattern)]


class _Selection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DockerLabelSelection(_Selection):
    """``docker_label``: containers that name their metrics port in a docker label."""

    sd_port_label: str = Field(default="ECS_PROMETHEUS_EXPORTER_PORT", min_length=1)
    sd_metrics_path_label: str = Field(default="ECS_PROMETHEUS_METRICS_PATH", min_length=1)
    sd_job_name_label: str = Field(default="job", min_length=1)


class _PortSelection(_Selection):
    sd_metrics_ports: Ports
    sd_container_name_pattern: Pattern | None = None
    sd_metrics_path: str | None = None
    sd_job_name: str | None = Field(default=None, min_length=1)

    @field_validator("sd_metrics_path")
    @classmethod
    def _absolute_path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise DiscoveryConfigError(f"{value!r} is not an absolute path; expected it to start with '/'")
        return value

    def container_matches(self, container: Mapping[str, Any]) -> bool:
        """Whether the container's name matches ``sd_container_name_pattern`` (or there is none)."""
        pattern = self.sd_container_name_pattern
        return pattern is None or search_regex(pattern).matches(container.get("name", ""))


class TaskDefinitionSelection(_PortSelection):
    """A ``task_definition_list`` entry: containers of tasks by task definition ARN."""

    sd_task_definition_arn_pattern: Pattern

    @property
    def task_definition(self) -> Regex:
        """The compiled ``sd_task_definition_arn_pattern``."""
        return search_regex(self.sd_task_definition_arn_pattern)


class ServiceSelection(_PortSelection):
    """A ``service_name_list_for_tasks`` entry: containers of tasks by service name."""

    sd_service_name_pattern: Pattern

    @property
    def service(self) -> Regex:
        """The compiled ``sd_service_name_pattern``."""
        return search_regex(self.sd_service_name_pattern)


def _enabled(value: Any) -> Any:
    return {} if value is None else value  # ``docker_label:`` with no value: on, with the defaults


class EcsServiceDiscovery(_Selection):
    """``ecs_service_discovery``: which container ports of the tasks are targets."""

    docker_label: Annotated[DockerLabelSelection | None, BeforeValidator(_enabled)] = None
    task_definition_list: list[TaskDefinitionSelection] = Field(default_factory=list)
    service_name_list_for_tasks: list[ServiceSelection] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _prometheus_keys_instead(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for key, instead in _AGENT_ONLY_KEYS.items():
                if key in data:
                    raise DiscoveryConfigError(f"{key}: a CloudWatch agent key; in promwatch use {instead}")
        return data

    @model_validator(mode="after")
    def _selects_something(self) -> EcsServiceDiscovery:
        if self.docker_label is None and not self.task_definition_list and not self.service_name_list_for_tasks:
            raise DiscoveryConfigError("selects no container: set docker_label, task_definition_list "
                             "or service_name_list_for_tasks")
        return self


def container_targets(
    states: Sequence[ClusterState],
    definitions: Mapping[str, Mapping[str, Any]],
    selection: EcsServiceDiscovery,
    *,
    region: str,
) -> list[dict[str, str]]:
    """One target per selected container port of every reachable task (pure).

    Parameters
    ----------
    states
        The clusters' tasks and what they run on.
    definitions
        ``DescribeTaskDefinition`` answers (``taskDefinition``) by ARN; a task whose definition
        is missing has no container targets.
    selection
        Which containers and ports.
    region
        The ``__meta_ecs_region`` label.
    """
    targets: dict[tuple[str, str], dict[str, str]] = {}
    for state in states:
        for task in state.tasks:
            placed = task_labels(state, task, region)
            definition = definitions.get(task.get("taskDefinitionArn", ""))
            if placed is None or definition is None or definition.get("networkMode") == "none":
                continue
            ip, labels = placed
            for container in definition.get("containerDefinitions", []):
                for port, path, job in _selected(selection, task, definition, container):
                    host_port = _host_port(definition.get("networkMode"), task, container, port)
                    if host_port is None:
                        continue
                    address = join_host_port(ip, host_port)
                    key = (address, path or "")
                    if key not in targets:
                        targets[key] = _container_labels(labels, address, container, port, path, job)
    return list(targets.values())


def _selected(
    selection: EcsServiceDiscovery, task: Mapping[str, Any], definition: Mapping[str, Any],
    container: Mapping[str, Any],
) -> Iterator[tuple[int, str | None, str | None]]:
    """(container port, metrics path, job) of each selection choosing this container."""
    service = service_name(task)
    for by_service in selection.service_name_list_for_tasks:
        if service is not None and by_service.service.matches(service) and by_service.container_matches(container):
            for port in by_service.sd_metrics_ports:
                yield port, by_service.sd_metrics_path, by_service.sd_job_name
    docker = selection.docker_label
    if docker is not None:
        docker_labels = container.get("dockerLabels") or {}
        port_text = docker_labels.get(docker.sd_port_label, "")
        if re.fullmatch(r"\d{1,5}", port_text) and 0 < int(port_text) <= 65535:
            yield (int(port_text), docker_labels.get(docker.sd_metrics_path_label) or None,
                   docker_labels.get(docker.sd_job_name_label) or None)
    arn = definition.get("taskDefinitionArn", "")
    for by_definition in selection.task_definition_list:
        if by_definition.task_definition.matches(arn) and by_definition.container_matches(container):
            for port in by_definition.sd_metrics_ports:
                yield port, by_definition.sd_metrics_path, by_definition.sd_job_name


def _host_port(network_mode: str | None, task: Mapping[str, Any], container: Mapping[str, Any],
               port: int) -> int | None:
    """The port the container's ``port`` is reached on from outside the task; None when unmapped."""
    if network_mode in ("awsvpc", "host"):
        for mapping in container.get("portMappings", []):
            if mapping.get("containerPort") == port:
                return int(mapping.get("hostPort") or port)  # the same port in these modes
        return None
    # bridge (the default on EC2; Windows' "default" alike): the host port Docker chose
    for running in task.get("containers", []):
        if running.get("name") == container.get("name"):
            for binding in running.get("networkBindings", []):
                if binding.get("containerPort") == port and binding.get("hostPort"):
                    return int(binding["hostPort"])
    return None


def _container_labels(
    task: Mapping[str, str], address: str, container: Mapping[str, Any], port: int, path: str | None,
    job: str | None,
) -> dict[str, str]:
    labels = {**task, ADDRESS: address, CONTAINER_NAME: container.get("name", ""), CONTAINER_PORT: str(port)}
    for name, value in (container.get("dockerLabels") or {}).items():
        labels[CONTAINER_LABEL + sanitize_label_name(name)] = value
    if path:
        labels[METRICS_PATH] = path
    if job:
        labels[JOB] = job
    return labels
