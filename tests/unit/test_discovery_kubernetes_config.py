"""kubernetes_sd_configs: the config keys and what is refused, list pages and their paths, the
EKS cluster answer and the IAM token (no network)."""
from __future__ import annotations

import base64
import datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.session import get_session
from promwatch.discovery import DiscoveryError, KubernetesSDConfig
from promwatch.discovery.kubernetes.api import PODS, Selector, page_path, read_page
from promwatch.discovery.kubernetes.eks import (
    cluster_from_description,
    presigned_identity_url,
    token_from_url,
)
from promwatch.scrape import ConfigError, parse_config

from tests.support.k8s_standin import EksIdentity, token_problem


def _sd(entry: str) -> KubernetesSDConfig:
    config = parse_config(f"scrape_configs: [{{job_name: k, kubernetes_sd_configs: [{entry}]}}]")
    (source, sd), = config.scrape_configs[0].sd_configs()
    assert source == "kubernetes_sd_configs[0]" and isinstance(sd, KubernetesSDConfig)
    return sd


def test_prometheus_keys_are_read() -> None:
    # Given an entry with Prometheus' keys, then they are read as Prometheus reads them.
    sd = _sd("""{role: endpointslice, api_server: 'https://k8s.internal:6443', namespaces: {names: [shop, default]},
                 selectors: [{role: pod, label: 'app.kubernetes.io/name in (web, api),!canary'},
                             {role: endpointslice, field: 'metadata.name!=kube-dns'}],
                 attach_metadata: {node: true, namespace: true},
                 authorization: {credentials_file: /var/run/token}, tls_config: {ca_file: /etc/ca.pem},
                 refresh_interval: 2m}""")
    assert (sd.role, sd.api_server, sd.namespaces.names, sd.refresh_interval) == (
        "endpointslice", "https://k8s.internal:6443", ["shop", "default"], 120.0)
    assert [s.role for s in sd.selectors] == ["pod", "endpointslice"]
    assert sd.attach_metadata.node and sd.attach_metadata.namespace and not sd.attach_metadata.deployment
    assert sd.tls_config.ca_file == "/etc/ca.pem"


@pytest.mark.parametrize(("entry", "message"), [
    ("{role: pods, eks_cluster: prod}", "unknown Kubernetes SD role 'pods'; expected one of: pod, service"),
    ("{eks_cluster: prod}", r"kubernetes_sd_configs\[0\]\.role: .*required"),
    ("{role: pod}", "expected api_server or eks_cluster"),
    ("{role: pod, api_server: 'https://a', kubeconfig_file: /k}", "kubeconfig_file is not supported"),
    ("{role: pod, eks_cluster: prod, api_server: 'https://a'}", "leave out api_server"),
    ("{role: pod, eks_cluster: prod, authorization: {credentials: t}}", "leave out authorization"),
    ("{role: pod, eks_cluster: prod, tls_config: {insecure_skip_verify: true}}", "leave out tls_config"),
    ("{role: pod, api_server: 'https://a', eks_region: eu-west-1}", "eks_region goes with eks_cluster"),
    ("{role: pod, eks_cluster: 'prod cluster'}", "is not an EKS cluster name"),
    ("{role: pod, eks_cluster: prod, eks_region: Ireland}", "'Ireland' is not an AWS region"),
    ("{role: pod, api_server: 'ftp://k8s'}", "is not an API server URL"),
    ("{role: pod, api_server: 'https://u:p@k8s'}", "is not an API server URL"),
    ("{role: pod, eks_cluster: prod, namespaces: {own_namespace: true}}", "own_namespace needs Prometheus"),
    ("{role: pod, eks_cluster: prod, namespaces: {names: [Shop]}}", "'Shop' is not a namespace name"),
    ("{role: service, eks_cluster: prod, selectors: [{role: pod}]}", "service role supports only service selectors"),
    ("{role: pod, eks_cluster: prod, selectors: [{role: pod}, {role: pod}]}", "duplicated selector role: pod"),
    ("{role: pod, eks_cluster: prod, selectors: [{role: pod, label: 'app web'}]}", "is not a label selector"),
    ("{role: pod, eks_cluster: prod, selectors: [{role: pod, field: 'nodeName'}]}", "is not a field selector"),
    ("{role: pod, api_server: 'https://a', bearer_token: t, bearer_token_file: /t}", "at most one of bearer_token"),
    ("{role: pod, eks_cluster: prod, watch: true}", "watch"),
])
def test_what_is_refused_names_the_key(entry: str, message: str) -> None:
    # Given an entry Prometheus or promwatch refuses, then loading names the key and why.
    with pytest.raises(ConfigError, match=message):
        _sd(entry)


def test_page_paths_carry_limit_selectors_and_continue_encoded() -> None:
    # Given a pod list in one namespace with selectors, then the path is the namespaced
    # collection with limit=500 and the selectors and token percent-encoded.
    path = page_path(PODS, "shop", Selector("app in (a,b)", "spec.nodeName=n1"), "eyJ2Ijo+/=")
    assert path == ("/api/v1/namespaces/shop/pods?limit=500&labelSelector=app%20in%20%28a%2Cb%29"
                    "&fieldSelector=spec.nodeName%3Dn1&continue=eyJ2Ijo%2B%2F%3D")
    assert page_path(PODS, None, Selector(), None) == "/api/v1/pods?limit=500"


def test_a_page_gives_its_items_without_managed_fields_and_its_token() -> None:
    # Given a PodList page with a continue token,
    page = {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "9", "continue": "abc",
                                                                 "remainingItemCount": 3},
            "items": [{"metadata": {"name": "a", "managedFields": [{"manager": "kubelet"}]}}, "junk"]}
    items, token = read_page(json.dumps(page), "here")
    # then the objects come without managedFields (most of their size), and the token.
    assert items == [{"metadata": {"name": "a"}}] and token == "abc"
    assert read_page('{"kind": "PodList", "metadata": {}, "items": null}', "here") == ([], "")


@pytest.mark.parametrize(("body", "message"), [
    ("{not json", "here: line 1"),
    ('[{"items": []}]', "expected a list object with 'items', got list"),
    ('{"kind": "Status", "items": "x"}', "got a 'Status' whose items are str"),
])
def test_a_page_that_is_not_a_list_is_a_discovery_error(body: str, message: str) -> None:
    # given an API page that is not JSON or not a list with items, when read, then the discovery error says what it got
    with pytest.raises(DiscoveryError, match=message):
        read_page(body, "here")


def _described(endpoint: object, data: object, status: str = "ACTIVE") -> dict[str, object]:
    return {"cluster": {"name": "prod", "status": status, "endpoint": endpoint,
                        "certificateAuthority": {"data": data}}}


def test_describe_cluster_gives_endpoint_and_pem() -> None:
    # Given DescribeCluster's answer, then the endpoint and the decoded PEM CA are read.
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    cluster = cluster_from_description("prod", _described("https://ABC.gr7.eu-west-1.eks.amazonaws.com/",
                                                           base64.b64encode(pem.encode()).decode()))
    assert (cluster.endpoint, cluster.ca_pem) == ("https://ABC.gr7.eu-west-1.eks.amazonaws.com", pem)
    assert "BEGIN" not in repr(cluster)


@pytest.mark.parametrize(("answer", "message"), [
    (_described(None, None, "CREATING"), "has no https endpoint yet \\(status 'CREATING'\\)"),
    (_described("https://a", ""), "no certificate authority data"),
    (_described("https://a", "***"), "not base64 PEM"),
    (_described("https://a", base64.b64encode(b"hello").decode()), "holds no PEM certificate"),
    ({}, "has no https endpoint"),
])
def test_a_cluster_without_endpoint_or_ca_is_a_discovery_error(answer: dict[str, object], message: str) -> None:
    # given an EKS cluster description without an endpoint or usable CA, when read, then the discovery error names the problem
    with pytest.raises(DiscoveryError, match=message):
        cluster_from_description("prod", answer)


def test_the_token_is_a_presigned_get_caller_identity_url_for_the_cluster() -> None:
    # Given an STS client with the function's credentials (no network: presigning is local),
    sts = get_session().create_client("sts", region_name="eu-west-1", aws_access_key_id="ASIAEXAMPLE",
                                      aws_secret_access_key="s3cret", aws_session_token="session")
    # when the token for cluster prod is made,
    token = token_from_url(presigned_identity_url(sts, "prod"))
    # then it is k8s-aws-v1. + unpadded base64url of the regional STS URL with the cluster
    # header signed in and X-Amz-Expires=60,
    assert token.startswith("k8s-aws-v1.") and "=" not in token
    encoded = token[len("k8s-aws-v1."):]
    url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert urlsplit(url).netloc == "sts.eu-west-1.amazonaws.com"
    assert (query["Action"], query["X-Amz-Expires"], query["X-Amz-SignedHeaders"]) == (
        "GetCallerIdentity", "60", "host;x-k8s-aws-id")
    # and its signature verifies, as STS would check it (at the time it was signed, not on the
    # wall clock: a slow run is no expired token), for prod with these credentials only.
    now = datetime.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    assert token_problem(f"Bearer {token}", EksIdentity("prod", "eu-west-1", "ASIAEXAMPLE", "s3cret"), now) is None
    assert "signature" in (token_problem(f"Bearer {token}", EksIdentity("dev", "eu-west-1", "ASIAEXAMPLE", "s3cret"),
                                         now) or "")
    # A second token of the same client is signed for its own cluster name.
    other = token_from_url(presigned_identity_url(sts, "dev"))
    assert token_problem(f"Bearer {other}", EksIdentity("dev", "eu-west-1", "ASIAEXAMPLE", "s3cret"), now) is None


class _CountingSts:
    """An STS client's presigning edge: each call signs a URL of its own."""

    def __init__(self) -> None:
        self.signed = 0
        self.meta = type("Meta", (), {"events": type("Events", (), {"register": staticmethod(lambda *a, **k: None)})()})()

    def generate_presigned_url(self, operation: str, Params: dict[str, str], ExpiresIn: int, HttpMethod: str) -> str:
        self.signed += 1
        return f"https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&n={self.signed}"


class _CountingEks:
    def __init__(self) -> None:
        self.described = 0

    def describe_cluster(self, name: str) -> dict[str, object]:
        self.described += 1
        pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        return _described(f"https://{self.described}.gr7.eu-west-1.eks.amazonaws.com", base64.b64encode(pem.encode()).decode())


def test_tokens_are_reused_ten_minutes_and_clusters_an_hour_until_forgotten() -> None:
    # Given an EKS access cache and a wall clock,
    from promwatch.discovery import DiscoveryEnv
    from promwatch.discovery.kubernetes import EksAccess

    now = [1_000.0]
    sts, eks = _CountingSts(), _CountingEks()
    env = DiscoveryEnv(aws_client=lambda service, region: {"sts": sts, "eks": eks}[service], clock=lambda: now[0])
    access = EksAccess()
    first = access.token("prod", None, env), access.cluster("prod", None, env)
    # when asked again within ten minutes, then nothing is signed or described anew;
    now[0] += 599
    assert (access.token("prod", None, env), access.cluster("prod", None, env)) == first
    # after ten minutes a new token is signed (EKS accepts one for fifteen), the cluster kept;
    now[0] += 2
    assert access.token("prod", None, env) != first[0] and (sts.signed, eks.described) == (2, 1)
    # after an hour the cluster is described again, and after forget() both are made anew.
    now[0] += 3600
    access.cluster("prod", None, env)
    access.forget("prod", None)
    access.cluster("prod", None, env)
    access.token("prod", None, env)
    assert (sts.signed, eks.described) == (3, 3)


def test_ca_data_ssl_cannot_load_is_a_fetch_error_naming_it() -> None:
    # Given CA data that looks like PEM but is not a certificate, then the fetch fails before
    # any byte is sent, saying what it could not load.
    import socket

    from promwatch.httpclient import ConnectionPool, FetchError, FetchRequest, fetch

    def connect(address: object, port: int, timeout: float) -> socket.socket:
        ours, theirs = socket.socketpair()
        theirs.close()
        return ours

    bad = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
    with pytest.raises(FetchError, match="cannot load the CA certificates given as data"):
        fetch(FetchRequest(url="https://127.0.0.1:6443/api/v1/pods", timeout=5, accept="application/json",
                           ca_data=bad), pool=ConnectionPool(connect=connect))
