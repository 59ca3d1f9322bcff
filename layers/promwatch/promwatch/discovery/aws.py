"""``aws_sd_configs``: Prometheus' one AWS discovery (3.8 and later), its ``role`` choosing what is
discovered. promwatch discovers ``ec2`` (the same targets and labels as ``ec2_sd_configs``) and
``ecs``; Prometheus' other roles (``elasticache``, ``lightsail``, ``msk``, ``rds``) are refused
by name.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from promwatch.discovery.awsapi import AwsApiSettings
from promwatch.discovery.base import DiscoveryEnv
from promwatch.discovery.ec2 import Ec2Filter, Ec2SDConfig
from promwatch.discovery.ecs import EcsSDConfig
from promwatch.discovery.ecscontainers import EcsServiceDiscovery
from promwatch.discovery.model import DiscoveryConfigError, TargetGroup

_OTHER_PROMETHEUS_ROLES = ("elasticache", "lightsail", "msk", "rds")
_ROLE_KEYS = {"filters": "ec2", "clusters": "ecs", "ecs_service_discovery": "ecs"}


class AwsSDConfig(AwsApiSettings):
    """An ``aws_sd_configs`` entry."""

    role: Literal["ec2", "ecs"]
    filters: list[Ec2Filter] = Field(default_factory=list)
    """``role: ec2``: ``DescribeInstances`` filters."""
    clusters: list[str] = Field(default_factory=list)
    """``role: ecs``: cluster names or ARNs (none: every cluster of the region)."""
    ecs_service_discovery: EcsServiceDiscovery | None = None
    """``role: ecs``: a promwatch extension, one target per selected container port."""

    @model_validator(mode="before")
    @classmethod
    def _known_role(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("role") in _OTHER_PROMETHEUS_ROLES:
            raise DiscoveryConfigError(f"role {data['role']!r} is a Prometheus role promwatch does not discover; "
                             "expected 'ec2' or 'ecs'")
        return data

    @model_validator(mode="after")
    def _keys_of_the_role(self) -> AwsSDConfig:
        for key, role in _ROLE_KEYS.items():
            if key in self.model_fields_set and getattr(self, key) and role != self.role:
                raise DiscoveryConfigError(f"{key} is a key of role {role}, not of role {self.role}")
        if self.ecs_service_discovery is not None and "port" in self.model_fields_set:
            raise DiscoveryConfigError("port is not used with ecs_service_discovery: the selections name the ports")
        return self

    def mechanism(self) -> Ec2SDConfig | EcsSDConfig:
        """The role's own discovery, with these settings."""
        common = self.model_dump(include=set(AwsApiSettings.model_fields))
        if self.role == "ec2":
            return Ec2SDConfig(**common, filters=self.filters)
        return EcsSDConfig(**common, clusters=self.clusters, ecs_service_discovery=self.ecs_service_discovery)

    def discover(self, env: DiscoveryEnv) -> list[TargetGroup]:
        """The role's targets (see :class:`Ec2SDConfig`, :class:`EcsSDConfig`).

        Raises
        ------
        DiscoveryError
            When the role's API calls fail.
        """
        return self.mechanism().discover(env)
