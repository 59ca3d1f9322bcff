"""``eks_cluster``: an EKS cluster's API server, CA and an IAM token, from the function's own role.

``eks:DescribeCluster`` gives the endpoint and the cluster CA (base64 PEM, trusted for this
cluster alone). The token is EKS' IAM scheme, as ``aws eks get-token`` and aws-iam-authenticator
make it: an ``sts:GetCallerIdentity`` URL presigned with the function's credentials, with the
``x-k8s-aws-id: <cluster name>`` header signed in, sent as ``Bearer k8s-aws-v1.<base64url>``.
The API server presents the URL to STS to learn who signed it and maps that role to Kubernetes
permissions through an EKS access entry. Presigning is local (no STS call, no STS permission).

EKS accepts such a token for 15 minutes after its ``X-Amz-Date`` (``X-Amz-Expires=60`` is the
value aws-iam-authenticator sets and checks, not the lifetime); one is reused for
:data:`TOKEN_REUSE_SECONDS`, leaving a list that starts late five minutes to finish.
"""
from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from promwatch.discovery.base import DiscoveryEnv
from promwatch.discovery.model import DiscoveryError

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
PRESIGN_EXPIRES_SECONDS = 60
TOKEN_REUSE_SECONDS = 600.0
CLUSTER_REUSE_SECONDS = 3600.0
"""How long DescribeCluster's answer is reused (endpoint and CA change only when rebuilt)."""
CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
"""EKS' rule for cluster names."""
_PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True, slots=True)
class EksCluster:
    """Where a cluster's API server is and the CA its certificate comes from."""

    name: str
    endpoint: str
    ca_pem: str = field(repr=False)


def cluster_from_description(name: str, answer: Mapping[str, Any]) -> EksCluster:
    """The endpoint and CA of a DescribeCluster answer (pure).

    Raises
    ------
    DiscoveryError
        When the cluster has no endpoint or CA yet (``CREATING``) or they are not what EKS gives.
    """
    cluster = answer.get("cluster")
    cluster = cluster if isinstance(cluster, Mapping) else {}
    status = cluster.get("status")
    endpoint = cluster.get("endpoint")
    authority = cluster.get("certificateAuthority")
    data = authority.get("data") if isinstance(authority, Mapping) else None
    where = f"kubernetes_sd: EKS cluster {name!r}"
    if not isinstance(endpoint, str) or not endpoint.startswith("https://"):
        raise DiscoveryError(f"{where} has no https endpoint yet (status {status!r}); expected an ACTIVE cluster")
    if not isinstance(data, str) or not data:
        raise DiscoveryError(f"{where} has no certificate authority data yet (status {status!r})")
    try:
        pem = base64.b64decode(data, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise DiscoveryError(f"{where}: certificateAuthority.data is not base64 PEM") from None
    if _PEM_CERTIFICATE not in pem:
        raise DiscoveryError(f"{where}: certificateAuthority.data holds no PEM certificate")
    return EksCluster(name, endpoint.rstrip("/"), pem)


def token_from_url(presigned_url: str) -> str:
    """``k8s-aws-v1.`` and the URL in unpadded base64url (pure)."""
    return TOKEN_PREFIX + base64.urlsafe_b64encode(presigned_url.encode("utf-8")).decode("ascii").rstrip("=")


def presigned_identity_url(sts_client: Any, cluster_name: str) -> str:
    """``sts:GetCallerIdentity`` presigned with ``sts_client``'s credentials and region, with the
    ``x-k8s-aws-id`` header signed in.

    botocore adds the header through two of its events: the cluster name rides in the request
    context from the parameters to the signer (GetCallerIdentity has no parameter of that name).
    """
    events = sts_client.meta.events
    events.register("provide-client-params.sts.GetCallerIdentity", _cluster_into_context,
                    unique_id="promwatch-k8s-aws-id-params")
    events.register("before-sign.sts.GetCallerIdentity", _cluster_into_header,
                    unique_id="promwatch-k8s-aws-id-header")
    url: str = sts_client.generate_presigned_url(
        "get_caller_identity", Params={CLUSTER_ID_HEADER: cluster_name},
        ExpiresIn=PRESIGN_EXPIRES_SECONDS, HttpMethod="GET",
    )
    return url


def _cluster_into_context(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if CLUSTER_ID_HEADER in params:
        context[CLUSTER_ID_HEADER] = params.pop(CLUSTER_ID_HEADER)


def _cluster_into_header(request: Any, **_: Any) -> None:
    name = request.context.get(CLUSTER_ID_HEADER)
    if name:
        request.headers[CLUSTER_ID_HEADER] = name


_Key = tuple[str, str | None]
"""A cluster's name and region."""
_V = TypeVar("_V")


class EksAccess:
    """Clusters described and tokens made, reused across refreshes in a warm environment."""

    def __init__(self) -> None:
        self._clusters: dict[_Key, tuple[float, EksCluster]] = {}
        self._tokens: dict[_Key, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def cluster(self, name: str, region: str | None, env: DiscoveryEnv) -> EksCluster:
        """The cluster's endpoint and CA (DescribeCluster at most once an hour).

        Raises
        ------
        DiscoveryError
            When DescribeCluster fails or answers without them.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        def describe() -> EksCluster:
            try:
                answer = env.aws_client("eks", region).describe_cluster(name=name)
            except (ClientError, BotoCoreError) as exc:
                raise DiscoveryError(f"kubernetes_sd: eks:DescribeCluster {name!r} failed: {exc}") from None
            return cluster_from_description(name, answer)

        return self._reused(self._clusters, (name, region), env.clock(), CLUSTER_REUSE_SECONDS, describe)

    def token(self, name: str, region: str | None, env: DiscoveryEnv) -> str:
        """A bearer token for the cluster, made anew every :data:`TOKEN_REUSE_SECONDS`.

        Raises
        ------
        DiscoveryError
            When there are no credentials to sign with.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        def sign() -> str:
            try:
                url = presigned_identity_url(env.aws_client("sts", region), name)
            except (ClientError, BotoCoreError) as exc:
                raise DiscoveryError(f"kubernetes_sd: cannot sign the EKS token for {name!r}: {exc}") from None
            return token_from_url(url)

        return self._reused(self._tokens, (name, region), env.clock(), TOKEN_REUSE_SECONDS, sign)

    def _reused(self, kept: dict[_Key, tuple[float, _V]], key: _Key, now: float, reuse_seconds: float,
                make: Callable[[], _V]) -> _V:
        """What ``kept`` holds for ``key`` when it was made less than ``reuse_seconds`` ago, else ``make()``, kept."""
        with self._lock:
            hit = kept.get(key)
        if hit is not None and now - hit[0] < reuse_seconds:
            return hit[1]
        value = make()
        with self._lock:
            kept[key] = (now, value)
        return value

    def forget(self, name: str, region: str | None) -> None:
        """Drop what is kept for a cluster (its token was refused, or its CA changed)."""
        with self._lock:
            self._clusters.pop((name, region), None)
            self._tokens.pop((name, region), None)
