"""LISTing Kubernetes API objects, a page at a time, through the scraper's guarded fetch.

Lambda keeps no watch open between invocations: each refresh LISTs what its role needs, as an
informer's first list does (``limit=500`` and ``continue`` tokens until the last page; a token
that expired mid-list, HTTP 410, fails the refresh and the next one lists anew). Every
request goes through :func:`promwatch.httpclient.fetch.fetch` (the target guard, pinned addresses,
a deadline, a body cap); the answer is read with :func:`promwatch.safeload.load_json`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from promwatch.discovery.model import DiscoveryError
from promwatch.safeload import DocumentError, load_json

if TYPE_CHECKING:
    from promwatch.httpclient.fetch import FetchRequest, FetchResponse

PAGE_SIZE = 500
"""Objects asked for per page (client-go's informers list 500 at a time)."""
PAGE_BODY_LIMIT = 32 * 1024 * 1024
"""Bytes a page may have: 500 pods with their managed fields are 5-10 MB."""
REQUEST_TIMEOUT = 30.0
"""Seconds one page may take."""
MAX_PAGES = 1000
"""Pages one list may have (a server handing out ``continue`` tokens forever is stopped)."""
ACCEPT = "application/json"


@dataclass(frozen=True, slots=True)
class Resource:
    """A kind of object and where it is listed."""

    api: str
    """``/api/v1`` (core) or ``/apis/<group>/<version>``."""
    plural: str
    namespaced: bool = True

    def path(self, namespace: str | None) -> str:
        """The collection's path, in one namespace or across all (None)."""
        if namespace is not None and self.namespaced:
            return f"{self.api}/namespaces/{namespace}/{self.plural}"
        return f"{self.api}/{self.plural}"


PODS = Resource("/api/v1", "pods")
SERVICES = Resource("/api/v1", "services")
ENDPOINTS = Resource("/api/v1", "endpoints")
NODES = Resource("/api/v1", "nodes", namespaced=False)
NAMESPACES = Resource("/api/v1", "namespaces", namespaced=False)
ENDPOINTSLICES = Resource("/apis/discovery.k8s.io/v1", "endpointslices")
INGRESSES = Resource("/apis/networking.k8s.io/v1", "ingresses")
REPLICASETS = Resource("/apis/apps/v1", "replicasets")
JOBS = Resource("/apis/batch/v1", "jobs")


@dataclass(frozen=True, slots=True)
class Selector:
    """A label and a field selector (empty: none)."""

    label: str = ""
    field: str = ""


@dataclass(frozen=True, slots=True)
class ApiServer:
    """Where the API server is and how to speak to it.

    Attributes
    ----------
    url
        The base URL (``https://host[:port][/prefix]``), without a trailing ``/``.
    where
        Names the cluster in messages (``api_server https://...``, ``EKS cluster prod``).
    authorization
        The ``Authorization`` header value, or None.
    verify, ca_data, client_cert, server_name
        TLS, as :class:`promwatch.httpclient.fetch.FetchRequest` takes it.
    """

    url: str
    where: str
    authorization: str | None = field(default=None, repr=False)
    verify: bool | str = True
    ca_data: str | None = field(default=None, repr=False)
    client_cert: tuple[str, str] | None = None
    server_name: str | None = None
    follow_redirects: bool = True


Fetch = Callable[["FetchRequest"], "FetchResponse"]
"""The guarded fetch (tests pass one with their own resolver or pool)."""


def page_path(resource: Resource, namespace: str | None, selector: Selector, token: str | None) -> str:
    """The request target of one page (pure)."""
    query = [f"limit={PAGE_SIZE}"]
    if selector.label:
        query.append("labelSelector=" + quote(selector.label, safe=""))
    if selector.field:
        query.append("fieldSelector=" + quote(selector.field, safe=""))
    if token:
        query.append("continue=" + quote(token, safe=""))
    return resource.path(namespace) + "?" + "&".join(query)


def read_page(text: str, where: str) -> tuple[list[dict[str, Any]], str]:
    """The objects of one list page and its ``continue`` token (empty on the last page) (pure).

    ``metadata.managedFields`` is dropped from each object as it is read: it is most of an
    object's size and no label comes from it.

    Raises
    ------
    DiscoveryError
        When the page is not JSON or not a list (``{"items": [...], "metadata": {...}}``).
    """
    try:
        data = load_json(text)
    except DocumentError as exc:
        raise DiscoveryError(f"{where}: {exc}") from None
    if not isinstance(data, dict):
        raise DiscoveryError(f"{where}: expected a list object with 'items', got {type(data).__name__}")
    raw_items = data.get("items") or []
    if not isinstance(raw_items, list):
        raise DiscoveryError(f"{where}: expected a list object with 'items', got a {data.get('kind')!r} "
                             f"whose items are {type(raw_items).__name__}")
    items = [item for item in raw_items if isinstance(item, dict)]
    for item in items:
        metadata = item.get("metadata")
        if isinstance(metadata, dict):
            metadata.pop("managedFields", None)
    metadata = data.get("metadata")
    token = metadata.get("continue") if isinstance(metadata, Mapping) else None
    return items, token if isinstance(token, str) else ""


def list_objects(server: ApiServer, resource: Resource, namespace: str | None, selector: Selector,
                 fetch: Fetch) -> list[dict[str, Any]]:
    """Every object of ``resource`` (in ``namespace``, or all namespaces), page by page.

    Raises
    ------
    DiscoveryError
        Naming the cluster and the request when a page cannot be fetched or read.
    """
    from promwatch.httpclient.errors import HttpClientError
    from promwatch.httpclient.fetch import FetchRequest

    headers = {"Authorization": server.authorization} if server.authorization else None
    found: list[dict[str, Any]] = []
    token: str | None = None
    seen: set[str] = set()
    for _page in range(MAX_PAGES):
        path = page_path(resource, namespace, selector, token)
        request = FetchRequest(
            url=server.url + path, timeout=REQUEST_TIMEOUT, accept=ACCEPT, body_size_limit=PAGE_BODY_LIMIT,
            headers=headers, verify=server.verify, client_cert=server.client_cert,
            server_name=server.server_name, follow_redirects=server.follow_redirects, ca_data=server.ca_data,
        )
        try:
            response = fetch(request)
        except HttpClientError as exc:
            raise DiscoveryError(f"kubernetes_sd: {server.where}: {exc}{_hint(str(exc))}") from None
        items, token = read_page(response.text, f"kubernetes_sd: {server.where}: GET {path}")
        found.extend(items)
        if not token:
            return found
        if token in seen:
            raise DiscoveryError(f"kubernetes_sd: {server.where}: GET {path}: the server handed out a continue "
                                 "token it had already given; stopped")
        seen.add(token)
    raise DiscoveryError(f"kubernetes_sd: {server.where}: listing {resource.plural} took more than "
                         f"{MAX_PAGES} pages of {PAGE_SIZE}; stopped")


def _hint(message: str) -> str:
    if "HTTP status 401" in message:
        return "; the API server did not accept the credentials (for eks_cluster: does the role have an access entry?)"
    if "HTTP status 403" in message:
        return "; the identity may not list this resource (RBAC: see the README's access entry or ClusterRole)"
    return ""
