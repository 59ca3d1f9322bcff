"""``kubernetes_sd_configs``: Prometheus' keys, and ``eks_cluster`` (a promwatch extension).

promwatch runs outside the cluster, so Prometheus' in-cluster default (the pod's service
account) and ``kubeconfig_file`` (whose EKS users run a command) do not apply: an entry names
its API server with ``api_server`` (and ``<http_config>`` keys: ``authorization``,
``tls_config``...) or with ``eks_cluster`` (the endpoint and CA from ``eks:DescribeCluster``, a
token signed with the function's role). Lambda keeps no watch open: the role's objects are
LISTed again after ``refresh_interval``.
"""
from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator

from promwatch.discovery.awsapi import AwsRegion
from promwatch.discovery.base import DiscoveryEnv, SDConfig
from promwatch.discovery.kubernetes.cluster import discover_groups
from promwatch.discovery.kubernetes.eks import CLUSTER_NAME
from promwatch.discovery.model import DiscoveryConfigError, TargetGroup
from promwatch.httpclient.config import ConfigSection, HttpClientConfig, TlsConfig, configured_auth
from promwatch.text import CONTROL_CHARACTER

ROLES = ("pod", "service", "endpoints", "endpointslice", "node", "ingress")
SELECTOR_ROLES = {
    "pod": ("pod", "node"),
    "service": ("service",),
    "endpointslice": ("pod", "service", "endpointslice"),
    "endpoints": ("pod", "service", "endpoints"),
    "node": ("node",),
    "ingress": ("ingress",),
}
"""Which objects' selectors each role takes, as Prometheus allows them."""

_NAMESPACE = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$")
_NAME = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_KEY = rf"(?:[a-z0-9](?:[-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_NAME}"
_VALUE = rf"(?:{_NAME})?"
_REQUIREMENT = (rf"\s*(?:!\s*{_KEY}|{_KEY}(?:\s*(?:==|=|!=)\s*{_VALUE}"
                rf"|\s+(?:in|notin)\s*\(\s*{_VALUE}(?:\s*,\s*{_VALUE})*\s*\)|\s*[<>]\s*-?[0-9]+)?)\s*")
LABEL_SELECTOR = re.compile(rf"{_REQUIREMENT}(?:,{_REQUIREMENT})*")
_FIELD_REQUIREMENT = r"\s*[A-Za-z0-9_.-]+\s*(?:==|=|!=)(?:[^,\\]|\\.)*"
FIELD_SELECTOR = re.compile(rf"{_FIELD_REQUIREMENT}(?:,{_FIELD_REQUIREMENT})*")


def _role(value: str) -> str:
    if value not in ROLES:
        raise DiscoveryConfigError(f"unknown Kubernetes SD role {value!r}; expected one of: {', '.join(ROLES)}")
    return value


def _selector(pattern: re.Pattern[str], what: str, examples: str) -> AfterValidator:
    """Validates a ``what`` selector: empty (none), or requirements ``pattern`` matches."""

    def check(value: str) -> str:
        if value and (CONTROL_CHARACTER.search(value) or not pattern.fullmatch(value)):
            raise DiscoveryConfigError(f"{value!r} is not a {what}; expected requirements separated by commas, such as {examples}")
        return value

    return AfterValidator(check)


Role = Annotated[str, AfterValidator(_role)]
"""A Kubernetes SD role, one of :data:`ROLES`."""


class NamespaceDiscovery(ConfigSection):
    """``namespaces``: the namespaces to list (none: all)."""

    own_namespace: bool = False
    names: list[str] = Field(default_factory=list)

    @field_validator("names")
    @classmethod
    def _namespace_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not _NAMESPACE.fullmatch(name):
                raise DiscoveryConfigError(f"{name!r} is not a namespace name; expected a DNS label (lower case, digits, '-')")
        return names


class SelectorConfig(ConfigSection):
    """A ``selectors`` entry: a label and a field selector for one role's objects."""

    role: Role
    label: Annotated[str, _selector(LABEL_SELECTOR, "label selector", "app=web, tier!=db, env in (a,b), !canary")] = ""
    field: Annotated[
        str, _selector(FIELD_SELECTOR, "field selector", "spec.nodeName=ip-10-0-1-2.ec2.internal, status.phase!=Succeeded")
    ] = ""


class AttachMetadataConfig(ConfigSection):
    """``attach_metadata``: objects whose labels the targets get as well (each costs a LIST)."""

    node: bool = False
    namespace: bool = False
    deployment: bool = False
    job: bool = False
    cronjob: bool = False


class KubernetesSDConfig(SDConfig, HttpClientConfig):
    """A ``kubernetes_sd_configs`` entry."""

    role: Role
    api_server: str | None = None
    kubeconfig_file: str | None = None
    namespaces: NamespaceDiscovery = Field(default_factory=NamespaceDiscovery)
    selectors: list[SelectorConfig] = Field(default_factory=list)
    attach_metadata: AttachMetadataConfig = Field(default_factory=AttachMetadataConfig)
    eks_cluster: str | None = None
    """promwatch extension: the EKS cluster whose API server to list (DescribeCluster, IAM token)."""
    eks_region: AwsRegion | None = None
    """promwatch extension: the cluster's region (default: the function's)."""

    @field_validator("api_server")
    @classmethod
    def _api_server_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - reading it checks it
        except ValueError:
            parts = None
        if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None
                or parts.query or parts.fragment or CONTROL_CHARACTER.search(value) or " " in value):
            raise DiscoveryConfigError(f"{value!r} is not an API server URL; expected https://host[:port][/path]")
        return value

    @field_validator("eks_cluster")
    @classmethod
    def _cluster_name(cls, value: str | None) -> str | None:
        if value is not None and not CLUSTER_NAME.fullmatch(value):
            raise DiscoveryConfigError(f"{value!r} is not an EKS cluster name; expected letters, digits, '-' and '_' "
                             "(at most 100, starting with a letter or digit)")
        return value

    @model_validator(mode="after")
    def _one_way_to_the_cluster(self) -> KubernetesSDConfig:
        if self.kubeconfig_file is not None:
            raise DiscoveryConfigError("kubeconfig_file is not supported (promwatch runs outside the cluster and does not run "
                             "a kubeconfig's commands); use api_server with authorization and tls_config, or eks_cluster")
        if self.namespaces.own_namespace:
            raise DiscoveryConfigError("namespaces.own_namespace needs Prometheus to run in the cluster; list names instead")
        if self.eks_cluster is None and self.api_server is None:
            raise DiscoveryConfigError("expected api_server or eks_cluster: promwatch runs outside the cluster, so Prometheus' "
                             "in-cluster default (the pod's service account) does not apply")
        if self.eks_cluster is not None:
            needless = ["api_server"] if self.api_server is not None else []
            needless += configured_auth(self)
            if self.tls_config != TlsConfig():
                needless.append("tls_config")
            if needless:
                raise DiscoveryConfigError(f"eks_cluster finds the API server, its CA and a token itself; "
                                 f"leave out {', '.join(needless)}")
        elif self.eks_region is not None:
            raise DiscoveryConfigError("eks_region goes with eks_cluster")
        self._check_selectors()
        return self

    def _check_selectors(self) -> None:
        seen: set[str] = set()
        allowed = SELECTOR_ROLES[self.role]
        for selector in self.selectors:
            if selector.role in seen:
                raise DiscoveryConfigError(f"duplicated selector role: {selector.role}")
            seen.add(selector.role)
            if selector.role not in allowed:
                raise DiscoveryConfigError(f"{self.role} role supports only {', '.join(allowed)} selectors")

    def discover(self, env: DiscoveryEnv) -> list[TargetGroup]:
        """The role's target groups now (see :func:`promwatch.discovery.kubernetes.cluster.discover_groups`).

        Raises
        ------
        DiscoveryError
            Naming the cluster and the request that failed.
        """
        return discover_groups(self, env)
