"""One refresh of a ``kubernetes_sd_configs`` entry: reach the API server, LIST what the role
needs, translate (the edges: AWS clients, the guarded fetch, credentials)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from promwatch.discovery.base import EKS_ACCESS, HTTP_FETCH, SECRETS, DiscoveryEnv, http_pool
from promwatch.discovery.kubernetes import api
from promwatch.discovery.kubernetes.api import ApiServer, Fetch, Resource, Selector
from promwatch.discovery.kubernetes.eks import EksAccess
from promwatch.discovery.kubernetes.endpoints import endpoints_groups, endpointslice_groups
from promwatch.discovery.kubernetes.node import node_groups
from promwatch.discovery.kubernetes.objects import Related, by_key, by_name
from promwatch.discovery.kubernetes.pod import pod_groups
from promwatch.discovery.kubernetes.service import ingress_groups, service_groups
from promwatch.discovery.model import DiscoveryError, TargetGroup

if TYPE_CHECKING:
    from promwatch.discovery.kubernetes.config import KubernetesSDConfig
    from promwatch.httpclient.secrets import SecretResolver


def discover_groups(config: KubernetesSDConfig, env: DiscoveryEnv) -> list[TargetGroup]:
    """The target groups of ``config``'s role now.

    Raises
    ------
    DiscoveryError
        When the API server cannot be reached, refuses, or answers what is not a list.
    """
    eks: EksAccess = env.kept(EKS_ACCESS, EksAccess)
    server = _server(config, env, eks)
    lister = _Lister(server, _fetch(env), config)
    try:
        return _translate(config, lister)
    except DiscoveryError:
        if config.eks_cluster is not None:
            eks.forget(config.eks_cluster, config.eks_region)  # describe and sign anew next time
        raise


class _Lister:
    """LISTs resources of the configured namespaces with the configured selectors."""

    def __init__(self, server: ApiServer, fetch: Fetch, config: KubernetesSDConfig) -> None:
        self._server = server
        self._fetch = fetch
        self._namespaces: Sequence[str | None] = config.namespaces.names or [None]
        self._selectors = {s.role: Selector(s.label, s.field) for s in config.selectors}

    def __call__(self, resource: Resource, selector_role: str | None = None) -> list[dict[str, Any]]:
        selector = self._selectors.get(selector_role or "", Selector())
        namespaces = self._namespaces if resource.namespaced else [None]
        found: list[dict[str, Any]] = []
        for namespace in namespaces:
            found.extend(api.list_objects(self._server, resource, namespace, selector, self._fetch))
        return found


def _translate(config: KubernetesSDConfig, lister: _Lister) -> list[TargetGroup]:
    role, attach = config.role, config.attach_metadata
    if role == "node":
        return node_groups(lister(api.NODES, "node"))
    related = Related(
        nodes=by_name(lister(api.NODES, "node")) if attach.node and role in _POD_ROLES else None,
        namespaces=by_name(lister(api.NAMESPACES)) if attach.namespace else None,
        replicasets=by_key(lister(api.REPLICASETS)) if attach.deployment and role in _POD_ROLES else None,
        jobs=by_key(lister(api.JOBS)) if attach.cronjob and role in _POD_ROLES else None,
        job_names=attach.job,
    )
    if role == "pod":
        return pod_groups(lister(api.PODS, "pod"), related)
    if role == "service":
        return service_groups(lister(api.SERVICES, "service"), related)
    if role == "ingress":
        return ingress_groups(lister(api.INGRESSES, "ingress"), related)
    services, pods = lister(api.SERVICES, "service"), lister(api.PODS, "pod")
    if role == "endpoints":
        return endpoints_groups(lister(api.ENDPOINTS, "endpoints"), services, pods, related)
    return endpointslice_groups(lister(api.ENDPOINTSLICES, "endpointslice"), services, pods, related)


_POD_ROLES = frozenset({"pod", "endpoints", "endpointslice"})


def _server(config: KubernetesSDConfig, env: DiscoveryEnv, eks: EksAccess) -> ApiServer:
    if config.eks_cluster is not None:
        cluster = eks.cluster(config.eks_cluster, config.eks_region, env)
        token = eks.token(config.eks_cluster, config.eks_region, env)
        return ApiServer(cluster.endpoint, f"EKS cluster {cluster.name!r}", f"Bearer {token}", ca_data=cluster.ca_pem)
    from promwatch.httpclient.errors import SecretError
    from promwatch.httpclient.request import client_authorization

    if config.api_server is None:
        raise DiscoveryError("kubernetes_sd: neither api_server nor eks_cluster is set")
    try:
        header = client_authorization(config, _secrets(env), "kubernetes_sd_configs")
    except SecretError as exc:
        raise DiscoveryError(str(exc)) from None
    tls = config.tls_config
    return ApiServer(
        url=config.api_server.rstrip("/"),
        where=f"api_server {config.api_server}",
        authorization=header,
        verify=False if tls.insecure_skip_verify else (tls.ca_file or True),
        client_cert=(tls.cert_file, tls.key_file) if tls.cert_file and tls.key_file else None,
        server_name=tls.server_name,
        follow_redirects=config.follow_redirects,
    )


def _fetch(env: DiscoveryEnv) -> Fetch:
    given: Fetch | None = env.extras.get(HTTP_FETCH)
    if given is not None:
        return given
    from promwatch.httpclient.fetch import FetchPolicy, FetchRequest, FetchResponse, fetch

    policy, pool = FetchPolicy.from_env(), http_pool(env)

    def guarded(request: FetchRequest) -> FetchResponse:
        return fetch(request, pool=pool, policy=policy)

    return guarded


def _secrets(env: DiscoveryEnv) -> SecretResolver:
    from promwatch.httpclient.secrets import SecretResolver

    resolver: SecretResolver = env.kept(SECRETS, SecretResolver)
    return resolver
