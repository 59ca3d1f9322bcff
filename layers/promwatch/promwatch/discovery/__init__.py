"""Service discovery: ``*_sd_configs`` -> target groups with Prometheus' ``__meta_*`` labels.

Each mechanism is a config model (Prometheus' keys) whose ``discover(env)`` lists target
groups; :class:`DiscoveryCache` keeps each list for its ``refresh_interval`` in a warm
environment and keeps the last good list when a discovery fails. The scrape domain turns
groups into targets exactly as it does ``static_configs`` (:func:`promwatch.scrape.build_targets`),
so existing ``relabel_configs`` work unchanged.
"""
from __future__ import annotations

from promwatch.discovery.awsclients import AwsClients, AwsClientSpec
from promwatch.discovery.base import (
    DNS_LOOKUP,
    EKS_ACCESS,
    FETCH_POLICY,
    HTTP_FETCH,
    HTTP_POOL,
    RESOLV_CONF_PATH,
    SECRETS,
    TASK_DEFINITIONS,
    DiscoveryEnv,
    SDConfig,
    default_env,
    http_pool,
)
from promwatch.discovery.cache import DiscoveryCache, DiscoveryFailure
from promwatch.discovery.dns import DnsSDConfig
from promwatch.discovery.file import FileSDConfig
from promwatch.discovery.http import HttpSDConfig
from promwatch.discovery.kubernetes import KubernetesSDConfig
from promwatch.discovery.model import DiscoveryConfigError, DiscoveryError, TargetGroup

__all__ = [
    "DNS_LOOKUP",
    "EKS_ACCESS",
    "FETCH_POLICY",
    "HTTP_FETCH",
    "HTTP_POOL",
    "RESOLV_CONF_PATH",
    "SECRETS",
    "TASK_DEFINITIONS",
    "AwsClientSpec",
    "AwsClients",
    "DiscoveryCache",
    "DiscoveryConfigError",
    "DiscoveryEnv",
    "DiscoveryError",
    "DiscoveryFailure",
    "DnsSDConfig",
    "FileSDConfig",
    "HttpSDConfig",
    "KubernetesSDConfig",
    "SDConfig",
    "TargetGroup",
    "default_env",
    "http_pool",
]
