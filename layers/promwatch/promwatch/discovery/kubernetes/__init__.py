"""``kubernetes_sd_configs``: pods, services, endpoints, endpoint slices, nodes and ingresses
from the Kubernetes API, with Prometheus' ``__meta_kubernetes_*`` labels.

The API server is named by ``api_server`` or found with ``eks_cluster`` (a promwatch extension:
``eks:DescribeCluster`` and an IAM token signed with the function's role). Each refresh LISTs
the role's objects page by page through the scraper's guarded fetch (:mod:`.api`); translation
to target groups is pure, one module per role (:mod:`.pod`, :mod:`.endpoints`,
:mod:`.service`, :mod:`.node`).
"""
from __future__ import annotations

from promwatch.discovery.base import EKS_ACCESS, HTTP_FETCH, SECRETS
from promwatch.discovery.kubernetes.config import (
    AttachMetadataConfig,
    KubernetesSDConfig,
    NamespaceDiscovery,
    SelectorConfig,
)
from promwatch.discovery.kubernetes.eks import EksAccess

__all__ = [
    "EKS_ACCESS",
    "HTTP_FETCH",
    "SECRETS",
    "AttachMetadataConfig",
    "EksAccess",
    "KubernetesSDConfig",
    "NamespaceDiscovery",
    "SelectorConfig",
]
