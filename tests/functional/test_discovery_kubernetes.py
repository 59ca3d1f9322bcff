"""kubernetes_sd_configs against a stand-in API server (tests/support/k8s_standin.py): no Kubernetes
API server can be installed here, so an HTTPS server on 127.0.0.1 serves API objects shaped as the
API reference gives them, pages them with ``continue``, and checks the EKS IAM token as EKS
would. ``eks:DescribeCluster`` is answered by botocore's Stubber (moto's EKS hands out a random
CA, which no TLS check could pass). Pod IPs are 127.0.0.x addresses where local exporters answer,
so discovered targets are scraped for real.
"""
from __future__ import annotations

import base64
import datetime
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.session import get_session
from botocore.stub import Stubber
from promwatch.discovery import DiscoveryCache, DiscoveryEnv, DiscoveryError
from promwatch.discovery.kubernetes import EKS_ACCESS, HTTP_FETCH, SECRETS, EksAccess
from promwatch.httpclient import ConnectionPool, FetchPolicy, FetchRequest, FetchResponse, fetch
from promwatch.httpclient.secrets import SecretResolver
from promwatch.scrape import build_targets, parse_config
from promwatch.scrape.process import parse_page
from promwatch.scrape.request import fetch_request

from tests.support import k8s_objects as k8s
from tests.support.k8s_standin import Certificates, EksIdentity, StandinCluster, make_certificates, serving

REGION = "eu-west-1"
EKS_HOST = "b7f3c2a41e9d8f60c5a2.gr7.eu-west-1.eks.amazonaws.com"
KEYS = {"aws_access_key_id": "ASIA4EXAMPLEKEYID", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "aws_session_token": "IQoJb3JpZ2luX2VjEXAMPLE"}
IDENTITY = EksIdentity("prod", REGION, KEYS["aws_access_key_id"], KEYS["aws_secret_access_key"])
ANNOTATION_PATTERN = """
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        action: keep
        regex: true
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
        action: replace
        target_label: __metrics_path__
        regex: (.+)
      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        action: replace
        regex: ([^:]+)(?::\\d+)?;(\\d+)
        replacement: $1:$2
        target_label: __address__
      - action: labelmap
        regex: __meta_kubernetes_pod_label_(.+)
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
"""


class _Exporter(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if self.path not in self.server.paths:  # type: ignore[attr-defined]
            self.send_error(404)
            return
        body = f"# TYPE pod_up gauge\npod_up{{exporter=\"{self.server.server_address[0]}\"}} 1\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@dataclass
class Exporter:
    ip: str
    port: int
    path: str


@pytest.fixture(scope="module")
def exporters() -> Iterator[dict[str, Exporter]]:
    """Exporters on 127.0.0.2-5 (pod IPs of the stand-in cluster), by pod name."""
    wanted = {"web-7d4b9c-x2kqp": ("127.0.0.2", "/custom/metrics"), "web-7d4b9c-q8w2n": ("127.0.0.3", "/metrics"),
              "cart-5f6d8-k9d2l": ("127.0.0.4", "/metrics"), "aws-node-4xk8p": ("127.0.0.5", "/metrics")}
    servers, found = [], {}
    for pod_name, (ip, path) in wanted.items():
        httpd = http.server.ThreadingHTTPServer((ip, 0), _Exporter)
        httpd.paths = {path}  # type: ignore[attr-defined]
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        found[pod_name] = Exporter(ip, httpd.server_address[1], path)
    yield found
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def cluster_objects(exporters: dict[str, Exporter]) -> dict[str, list[dict[str, Any]]]:
    """An EKS cluster: four annotated pods with an IP (their exporters answer), one annotated pod
    still pending, and pods without the annotation or with prometheus.io/scrape "false"."""
    def scraped(name: str, **annotations: str) -> dict[str, str]:
        return {"prometheus.io/scrape": "true", "prometheus.io/port": str(exporters[name].port), **annotations}
    web, web2, cart, aws_node = (exporters[n] for n in exporters)
    pods = [
        k8s.pod("web-7d4b9c-x2kqp", "shop", web.ip, node="ip-10-0-1-17.eu-west-1.compute.internal",
                containers=[k8s.container("app", "shop/web:1.4.2", [("http", 8080, "TCP"), ("metrics", web.port, "TCP")])],
                labels={"app": "web"}, owner=("ReplicaSet", "web-7d4b9c"),
                annotations=scraped("web-7d4b9c-x2kqp", **{"prometheus.io/path": "/custom/metrics"})),
        k8s.pod("web-7d4b9c-q8w2n", "shop", web2.ip, node="ip-10-0-2-40.eu-west-1.compute.internal",
                containers=[k8s.container("app", "shop/web:1.4.2")], labels={"app": "web"},
                owner=("ReplicaSet", "web-7d4b9c"), annotations=scraped("web-7d4b9c-q8w2n")),
        k8s.pod("cart-5f6d8-k9d2l", "shop", cart.ip, node="ip-10-0-2-40.eu-west-1.compute.internal",
                containers=[k8s.container("cart", "shop/cart:3.0", [("metrics", cart.port, "TCP")]),
                            k8s.container("envoy", "envoyproxy/envoy:v1.32", [("admin", 9901, "TCP")])],
                init_containers=[k8s.container("wait-db", "busybox:1.37")],
                labels={"app": "cart"}, owner=("ReplicaSet", "cart-5f6d8"), annotations=scraped("cart-5f6d8-k9d2l")),
        k8s.pod("aws-node-4xk8p", "kube-system", aws_node.ip, node="ip-10-0-1-17.eu-west-1.compute.internal",
                containers=[k8s.container("aws-node", "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.19.2",
                                          [("metrics", aws_node.port, "TCP")])],
                labels={"k8s-app": "aws-node"}, owner=("DaemonSet", "aws-node"), annotations=scraped("aws-node-4xk8p")),
        k8s.pod("report-28934-7hx2c", "shop", "", node="ip-10-0-2-40.eu-west-1.compute.internal",
                containers=[k8s.container("report", "shop/report:2", [("metrics", 9100, "TCP")])], phase="Pending",
                owner=("Job", "report-28934"), annotations={"prometheus.io/scrape": "true"}),
        k8s.pod("postgres-0", "shop", "127.0.0.9", node="ip-10-0-1-17.eu-west-1.compute.internal",
                containers=[k8s.container("postgres", "postgres:17", [("pg", 5432, "TCP")])],
                labels={"app": "postgres"}, owner=("StatefulSet", "postgres")),
        k8s.pod("worker-6c9f7-p2m4z", "shop", "127.0.0.10", node="ip-10-0-2-40.eu-west-1.compute.internal",
                containers=[k8s.container("worker", "shop/worker:1.0", [("metrics", 9100, "TCP")])],
                owner=("ReplicaSet", "worker-6c9f7"), annotations={"prometheus.io/scrape": "false"}),
        k8s.pod("coredns-6b9575c64c-8vj5f", "kube-system", "127.0.0.11", node="ip-10-0-1-17.eu-west-1.compute.internal",
                containers=[k8s.container("coredns", "coredns:v1.11.4", [("dns", 53, "UDP"), ("metrics", 9153, "TCP")])],
                labels={"k8s-app": "kube-dns"}, owner=("ReplicaSet", "coredns-6b9575c64c")),
    ]
    return {"pods": pods}


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("k8s-tls"), [EKS_HOST, "127.0.0.1"])


def _describe(port: int, ca_pem: str) -> dict[str, Any]:
    created = datetime.datetime(2025, 3, 14, 9, 1, tzinfo=datetime.UTC)
    return {"cluster": {
        "name": "prod", "arn": f"arn:aws:eks:{REGION}:123456789012:cluster/prod", "createdAt": created,
        "version": "1.31", "endpoint": f"https://{EKS_HOST}:{port}",
        "roleArn": "arn:aws:iam::123456789012:role/eks-cluster-prod",
        "resourcesVpcConfig": {"subnetIds": ["subnet-0a1b2c3d4e5f60718"], "securityGroupIds": [],
                               "clusterSecurityGroupId": "sg-0c1d2e3f4a5b6c7d8", "vpcId": "vpc-0123456789abcdef0",
                               "endpointPublicAccess": False, "endpointPrivateAccess": True},
        "kubernetesNetworkConfig": {"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4"},
        "identity": {"oidc": {"issuer": f"https://oidc.eks.{REGION}.amazonaws.com/id/B7F3C2A41E9D8F60C5A2"}},
        "status": "ACTIVE", "platformVersion": "eks.19",
        "certificateAuthority": {"data": base64.b64encode(ca_pem.encode()).decode()},
        "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
    }}


class Eks:
    """The environment of an EKS discovery: a stubbed EKS client, a real STS client (presigning
    is local) with the test credentials, and a resolver that sends the endpoint to 127.0.0.1."""

    def __init__(self, *, policy: FetchPolicy | None = None) -> None:
        self.eks = get_session().create_client("eks", region_name=REGION, **KEYS)
        self.stubber = Stubber(self.eks)
        self.stubber.activate()
        self.sts = get_session().create_client("sts", region_name=REGION, **KEYS)
        pool, policy = ConnectionPool(), policy or FetchPolicy()

        def guarded(request: FetchRequest) -> FetchResponse:
            return fetch(request, pool=pool, policy=policy,
                         resolver=lambda host: ["127.0.0.1"] if host == EKS_HOST else [])

        self.env = DiscoveryEnv(aws_client=lambda service, region: {"eks": self.eks, "sts": self.sts}[service],
                                extras={HTTP_FETCH: guarded, EKS_ACCESS: EksAccess()})

    def expect_describe(self, port: int, ca_pem: str) -> None:
        self.stubber.add_response("describe_cluster", _describe(port, ca_pem), {"name": "prod"})


@pytest.fixture(autouse=True)
def _no_endpoint_override(monkeypatch: pytest.MonkeyPatch) -> None:
    # The token must name the real regional STS host, as EKS checks it.
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_EKS"):
        monkeypatch.delenv(name, raising=False)


def _job(sd: str, relabel: str = ANNOTATION_PATTERN):  # type: ignore[no-untyped-def]
    return parse_config(f"scrape_configs:\n  - job_name: kubernetes-pods\n    kubernetes_sd_configs: [{sd}]\n{relabel}"
                        ).scrape_configs[0]


def test_the_scrape_annotation_selects_exactly_the_annotated_pods(
        exporters: dict[str, Exporter], certificates: Certificates) -> None:
    # Given an EKS cluster (stand-in API server, pages of two objects) with annotated and
    # other pods, and a job with Prometheus' prometheus.io/scrape relabel pattern,
    standin = StandinCluster(cluster_objects(exporters), eks=IDENTITY, page_cap=2)
    eks = Eks()
    job = _job(f"{{role: pod, eks_cluster: prod, eks_region: {REGION}}}")
    with serving(standin, certificates) as port:
        eks.expect_describe(port, certificates.ca_pem)
        # when the job's targets are discovered and built,
        groups, failures = DiscoveryCache().groups(job.job_name, job.sd_configs(), eks.env)
    targets, _ = build_targets(job, discovered=groups)
    # then they are exactly the annotated pods that have an IP, at the annotated port and path,
    assert failures == []
    expected = {f"http://{e.ip}:{e.port}{e.path}" for e in exporters.values()}
    assert {t.url for t in targets} == expected and len(targets) == len(expected)
    web = next(t for t in targets if t.address.startswith("127.0.0.2:"))
    assert dict(web.labels) == {"job": "kubernetes-pods", "instance": web.address, "app": "web",
                                "namespace": "shop", "pod": "web-7d4b9c-x2kqp"}
    # every one answers when scraped with the scraper's own request,
    for target in targets:
        response = fetch(fetch_request(job, target, SecretResolver()), pool=ConnectionPool())
        result = parse_page(response.text, response.content_type)
        assert [s.labels["exporter"] for f in result.families for s in f.samples] == [target.address.split(":")[0]]
    # and the pods were LISTed page by page (limit=500, continue), each request with an accepted token.
    assert [(r.path, r.status) for r in standin.requests] == [("/api/v1/pods", 200)] * 4
    assert all(r.query["limit"] == "500" for r in standin.requests)
    assert [("continue" in r.query) for r in standin.requests] == [False, True, True, True]
    eks.stubber.assert_no_pending_responses()


def test_a_refused_token_keeps_the_last_list_and_says_why(
        exporters: dict[str, Exporter], certificates: Certificates) -> None:
    # Given a discovery that listed the cluster once,
    standin = StandinCluster(cluster_objects(exporters), eks=IDENTITY)
    eks = Eks()
    job = _job(f"{{role: pod, eks_cluster: prod, eks_region: {REGION}, refresh_interval: 1ms}}")
    clock = iter([0.0, 1.0, 2.0])
    cache = DiscoveryCache(monotonic=lambda: next(clock))
    with serving(standin, certificates) as port:
        eks.expect_describe(port, certificates.ca_pem)
        first, _ = cache.groups(job.job_name, job.sd_configs(), eks.env)
        # when the API server stops accepting the role (its access entry removed: here, the
        # stand-in expects tokens for another cluster),
        standin.eks = EksIdentity("staging", REGION, IDENTITY.access_key, IDENTITY.secret_key)
        second, failures = cache.groups(job.job_name, job.sd_configs(), eks.env)
        # then the last list is kept, and the failure names the cluster, the 401 and the access entry;
        assert second == first and len(failures) == 1 and failures[0].stale
        assert "EKS cluster 'prod'" in failures[0].error and "HTTP status 401" in failures[0].error
        assert "access entry" in failures[0].error
        assert standin.requests[-1].problem == "signature does not match (another cluster name, or not these credentials)"
        # and the next refresh describes the cluster and signs a token anew.
        eks.expect_describe(port, certificates.ca_pem)
        standin.eks = IDENTITY
        third, failures = cache.groups(job.job_name, job.sd_configs(), eks.env)
    assert failures == [] and third == first
    eks.stubber.assert_no_pending_responses()


def test_api_server_with_a_bearer_token_file_namespaces_and_selectors(
        exporters: dict[str, Exporter], certificates: Certificates, tmp_path: Path) -> None:
    # Given an API server named by URL, a token file, the CA file, role endpointslice limited to
    # one namespace with a pod label selector,
    objects = cluster_objects(exporters)
    web = objects["pods"][0]
    objects["services"] = [k8s.service("web", "shop", [("http", 80, 8080)], cluster_ip="172.20.14.3",
                                       labels={"app": "web"}, annotations={"prometheus.io/scrape": "true"})]
    objects["endpointslices"] = [k8s.endpoint_slice("web-abc12", "shop", "web", ports=[("http", 8080)], endpoints=[
        {"ip": web["status"]["podIP"], "pod": web["metadata"]["name"], "node": web["spec"]["nodeName"]}])]
    objects["namespaces"] = [k8s.namespace("shop", {"team": "checkout"}), k8s.namespace("kube-system")]
    standin = StandinCluster(objects, bearer_token="eyJhbGciOiJSUzI1NiIsImtpZCI6IjFhMmIzYyJ9.sa-token")
    token_file = tmp_path / "token"
    token_file.write_text("eyJhbGciOiJSUzI1NiIsImtpZCI6IjFhMmIzYyJ9.sa-token\n")
    with serving(standin, certificates) as port:
        job = _job(f"""{{role: endpointslice, api_server: 'https://127.0.0.1:{port}',
                        authorization: {{credentials_file: '{token_file}'}}, tls_config: {{ca_file: '{certificates.ca_file}'}},
                        namespaces: {{names: [shop]}}, selectors: [{{role: pod, label: app=web}}],
                        attach_metadata: {{namespace: true}}}}""", relabel="")
        env = DiscoveryEnv(aws_client=lambda service, region: pytest.fail(f"no AWS call expected: {service}"),
                           extras={SECRETS: SecretResolver()})
        groups, failures = DiscoveryCache().groups(job.job_name, job.sd_configs(), env)
    # then the namespaced collections were listed, pods with the selector, and the namespaces,
    assert failures == []
    assert sorted((r.path, r.query.get("labelSelector")) for r in standin.requests) == [
        ("/api/v1/namespaces", None), ("/api/v1/namespaces/shop/pods", "app=web"),
        ("/api/v1/namespaces/shop/services", None), ("/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices", None)]
    # and the endpoint's target carries the slice's, the service's, the pod's and the namespace's labels.
    (group,) = groups
    target = {**group.labels, **next(t for t in group.targets if "__meta_kubernetes_endpointslice_port" in t)}
    assert target["__address__"] == "127.0.0.2:8080"
    assert target["__meta_kubernetes_service_annotation_prometheus_io_scrape"] == "true"
    assert target["__meta_kubernetes_pod_name"] == "web-7d4b9c-x2kqp"
    assert target["__meta_kubernetes_endpointslice_endpoint_conditions_ready"] == "true"
    assert target["__meta_kubernetes_namespace_label_team"] == "checkout"


def test_the_cluster_ca_is_the_only_trust_anchor(exporters: dict[str, Exporter], certificates: Certificates,
                                                 tmp_path: Path) -> None:
    # Given DescribeCluster handing out another CA than the one that signed the server's certificate,
    other = make_certificates(tmp_path, [EKS_HOST])
    standin = StandinCluster(cluster_objects(exporters), eks=IDENTITY)
    eks = Eks()
    job = _job(f"{{role: pod, eks_cluster: prod, eks_region: {REGION}}}")
    with serving(standin, certificates) as port:
        eks.expect_describe(port, other.ca_pem)
        # then discovery fails on the certificate check, before any request is sent.
        with pytest.raises(DiscoveryError, match="certificate verify failed"):
            job.sd_configs()[0][1].discover(eks.env)
    assert standin.requests == []


def test_the_target_guard_applies_to_the_api_server(exporters: dict[str, Exporter], certificates: Certificates) -> None:
    # Given a discovery running inside Lambda (loopback is the Runtime API's there),
    standin = StandinCluster(cluster_objects(exporters), eks=IDENTITY)
    eks = Eks(policy=FetchPolicy(in_lambda=True))
    job = _job(f"{{role: pod, eks_cluster: prod, eks_region: {REGION}}}")
    with serving(standin, certificates) as port:
        eks.expect_describe(port, certificates.ca_pem)
        # then an endpoint resolving to 127.0.0.1 is refused by the guard, not connected to.
        with pytest.raises(DiscoveryError, match=r"refused: host \S+ resolves to address 127\.0\.0\.1 is loopback inside Lambda"):
            job.sd_configs()[0][1].discover(eks.env)
    assert standin.requests == []


def test_a_large_cluster_is_listed_500_at_a_time(certificates: Certificates) -> None:
    # Given 1201 pods (the pages are gzip-compressed, as the API server sends large answers),
    pods = [k8s.pod(f"web-{n:04d}", "shop", f"10.1.{n // 250}.{n % 250 + 1}", node="n1",
                    containers=[k8s.container("app", "shop/web:1.4.2", [("http", 8080, "TCP")])]) for n in range(1201)]
    standin = StandinCluster({"pods": pods}, eks=IDENTITY)
    eks = Eks()
    job = _job(f"{{role: pod, eks_cluster: prod, eks_region: {REGION}}}", relabel="")
    with serving(standin, certificates) as port:
        eks.expect_describe(port, certificates.ca_pem)
        groups = job.sd_configs()[0][1].discover(eks.env)
    # then three pages were asked for and every pod is a group with its target.
    assert len(standin.requests) == 3 and standin.gzipped == 3 and len(groups) == 1201
    assert {g.targets[0]["__address__"] for g in groups} == {f"{p['status']['podIP']}:8080" for p in pods}
