"""The contract of a discovery mechanism and the environment it runs in.

Every ``*_sd_configs`` entry is a pydantic model with Prometheus' keys and a
``refresh_interval``; its :meth:`SDConfig.discover` lists the target groups now, through a
:class:`DiscoveryEnv` that holds the edges (AWS clients, the guarded HTTP fetch, DNS, files),
so each mechanism is a pure function of what those return.
"""
from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict

from promwatch.discovery.awsclients import AwsClients, AwsClientSpec
from promwatch.discovery.model import TargetGroup
from promwatch.units import PositiveDuration

if TYPE_CHECKING:
    from promwatch.httpclient.connection import ConnectionPool

_Kept = TypeVar("_Kept")

# The keys of DiscoveryEnv.extras, one home for every mechanism's.
SECRETS = "secrets"
"""A :class:`~promwatch.httpclient.secrets.SecretResolver` (http_sd, kubernetes_sd; default: one made
on first use and kept in the environment's extras, so its cache outlives a refresh)."""
FETCH_POLICY = "fetch_policy"
"""A :class:`~promwatch.httpclient.fetch.FetchPolicy` for http_sd (default: this process's)."""
HTTP_FETCH = "http_fetch"
"""kubernetes_sd's guarded fetch (default: the scraper's, through the environment's :data:`HTTP_POOL`)."""
HTTP_POOL = "http_pool"
"""The :class:`~promwatch.httpclient.ConnectionPool` the discoveries that speak HTTP fetch through
(default: one made on first use, kept as long as the environment: :func:`http_pool`)."""
EKS_ACCESS = "eks_access"
"""kubernetes_sd's :class:`~promwatch.discovery.kubernetes.eks.EksAccess` (default: one made on first
use and kept in the environment's extras)."""
TASK_DEFINITIONS = "ecs_task_definitions"
"""ecs_sd's :class:`~promwatch.discovery.ecs.TaskDefinitions` cache (kept in the extras)."""
DNS_LOOKUP = "dns_lookup"
"""dns_sd's ``(name, query type) -> answer`` (default: resolv.conf's nameservers)."""
RESOLV_CONF_PATH = "resolv_conf"
"""dns_sd's resolv.conf path (default ``/etc/resolv.conf``; tests point it elsewhere)."""


@dataclass(slots=True)
class DiscoveryEnv:
    """The edges discovery reaches through (all injectable for tests).

    Attributes
    ----------
    aws_client
        ``(service, region or None) -> client`` (botocore clients honour AWS_ENDPOINT_URL).
    clock
        Wall-clock seconds.
    aws_client_for
        A client for a custom endpoint or an assumed role (:class:`AwsClientSpec`); by default
        :class:`AwsClients`, which keeps a role's credentials until shortly before they expire.
    extras
        Mechanism-specific edges and what a mechanism keeps across refreshes (a secret
        resolver, a DNS lookup, caches), under the keys named in this module.
    """

    aws_client: Callable[[str, str | None], Any]
    clock: Callable[[], float] = time.time
    aws_client_for: Callable[[AwsClientSpec], Any] = field(default_factory=AwsClients)
    extras: dict[str, Any] = field(default_factory=dict)

    def kept(self, key: str, make: Callable[[], _Kept]) -> _Kept:
        """``extras[key]``, made by ``make`` and kept there when absent: lives as long as the environment."""
        value: _Kept | None = self.extras.get(key)
        if value is None:
            value = self.extras[key] = make()
        return value


def default_env() -> DiscoveryEnv:
    """The environment of a deployed function or the CLI: real AWS clients, made once each."""
    clients: dict[tuple[str, str | None], Any] = {}

    def aws_client(service: str, region: str | None) -> Any:
        key = (service, region)
        if key not in clients:
            from promwatch.coldstart import aws_client as make

            clients[key] = make(service, region_name=region)
        return clients[key]

    return DiscoveryEnv(aws_client=aws_client)


def http_pool(env: DiscoveryEnv) -> ConnectionPool:
    """The environment's HTTP connection pool: ``env.extras[HTTP_POOL]``, made there on first use
    (its owner is the environment, which the scrape runtime keeps for the execution environment)."""
    from promwatch.httpclient.connection import ConnectionPool

    return env.kept(HTTP_POOL, ConnectionPool)


class SDConfig(BaseModel):
    """Base of every ``*_sd_configs`` entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    refresh_interval: PositiveDuration = 60.0
    """Seconds a warm environment reuses the last list (a Prometheus duration: ``30s``, ``5m``)."""

    @abstractmethod
    def discover(self, env: DiscoveryEnv) -> list[TargetGroup]:
        """The target groups now.

        Raises
        ------
        DiscoveryError
            When the targets cannot be listed (the caller keeps the last list).
        """
