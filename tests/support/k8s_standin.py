"""A stand-in Kubernetes API server: HTTPS on 127.0.0.1, for discovery tests (no real cluster can
run here).

It serves list requests as the API server does for the resources promwatch lists
(``/api/v1/pods``, ``/api/v1/namespaces/<ns>/pods``, ``/apis/discovery.k8s.io/v1/endpointslices``...):
``PodList``-style objects with ``metadata.resourceVersion``, items in key order, pages of at most
``limit`` items (fewer with ``page_cap``, which the API allows) with a ``continue`` token and
``remainingItemCount``, simple ``labelSelector`` / ``fieldSelector`` filtering, gzip for large
answers, and ``Status`` objects for errors. It authenticates as EKS does: the bearer token must
be ``k8s-aws-v1.`` + unpadded base64url of an STS ``GetCallerIdentity`` URL that
aws-iam-authenticator's checks accept (host, path, allowed parameters, action, signed
``x-k8s-aws-id``, ``X-Amz-Expires`` 0-900, ``X-Amz-Date`` within 15 minutes), and whose SigV4
signature -- recomputed here with the test credentials' secret, as STS would -- covers the
expected cluster name. Or, for ``api_server`` configs, a fixed bearer token.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import gzip
import hashlib
import hmac
import http.server
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ALLOWED_PARAMETERS = frozenset({"action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date",
                                "x-amz-expires", "x-amz-security-token", "x-amz-signature", "x-amz-signedheaders"})
"""aws-iam-authenticator's allow-list of presigned URL parameters."""
TOKEN_LIFETIME = datetime.timedelta(minutes=15)
GZIP_FROM_BYTES = 128 * 1024
"""The API server compresses answers from this size on (APIResponseCompression)."""
KINDS = {
    ("/api/v1", "pods"): "PodList", ("/api/v1", "services"): "ServiceList",
    ("/api/v1", "endpoints"): "EndpointsList", ("/api/v1", "nodes"): "NodeList",
    ("/api/v1", "namespaces"): "NamespaceList",
    ("/apis/discovery.k8s.io/v1", "endpointslices"): "EndpointSliceList",
    ("/apis/networking.k8s.io/v1", "ingresses"): "IngressList",
    ("/apis/apps/v1", "replicasets"): "ReplicaSetList", ("/apis/batch/v1", "jobs"): "JobList",
}
CLUSTER_SCOPED = frozenset({"nodes", "namespaces"})


@dataclass(frozen=True)
class Certificates:
    """A test CA and a server certificate it signed, as files and PEM."""

    ca_pem: str
    ca_file: Path
    cert_file: Path
    key_file: Path


def make_certificates(directory: Path, names: list[str]) -> Certificates:
    """A CA and a certificate for ``names`` (DNS names, or IP addresses) signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    alternative: list[x509.GeneralName] = []
    for name in names:
        try:
            alternative.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternative.append(x509.DNSName(name))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode("ascii")
    paths = Certificates(ca_pem, directory / "ca.crt", directory / "apiserver.crt", directory / "apiserver.key")
    paths.ca_file.write_text(ca_pem)
    paths.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    return paths


@dataclass(frozen=True)
class EksIdentity:
    """What the stand-in accepts as EKS does: tokens for ``cluster`` signed with this key pair in ``region``."""

    cluster: str
    region: str
    access_key: str
    secret_key: str


def token_problem(authorization: str | None, identity: EksIdentity, now: datetime.datetime) -> str | None:
    """Why the ``Authorization`` header is not a token EKS would accept, or None."""
    prefix = "Bearer k8s-aws-v1."
    if not authorization or not authorization.startswith(prefix):
        return "no 'Bearer k8s-aws-v1.' token"
    encoded = authorization[len(prefix):]
    if len(encoded) > 4096 or "=" in encoded:
        return "token too large or padded"
    try:
        url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "token is not base64url"
    return presigned_url_problem(url, identity, now)


def presigned_url_problem(url: str, identity: EksIdentity, now: datetime.datetime) -> str | None:
    """Why ``url`` is not an STS GetCallerIdentity URL signed for the cluster, or None."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.netloc != f"sts.{identity.region}.amazonaws.com" or parts.path != "/":
        return f"unexpected STS URL {parts.scheme}://{parts.netloc}{parts.path}"
    pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    params = {key: value for key, value in pairs}
    lower = {key.lower() for key in params}
    if len(params) != len(pairs) or len(lower) != len(params) or not lower <= ALLOWED_PARAMETERS:
        return f"unexpected or repeated parameters {sorted(params)}"
    if params.get("Action") != "GetCallerIdentity" or params.get("Version") != "2011-06-15":
        return "not GetCallerIdentity"
    signed = params.get("X-Amz-SignedHeaders", "").split(";")
    if "x-k8s-aws-id" not in signed:
        return "x-k8s-aws-id is not signed"
    if not params.get("X-Amz-Expires", "").isdigit() or not 0 <= int(params["X-Amz-Expires"]) <= 900:
        return "X-Amz-Expires out of range"
    try:
        date = datetime.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except (KeyError, ValueError):
        return "no X-Amz-Date"
    if now > date + TOKEN_LIFETIME:
        return "token expired"
    day = params["X-Amz-Date"][:8]
    scope = f"{day}/{identity.region}/sts/aws4_request"
    if params.get("X-Amz-Credential") != f"{identity.access_key}/{scope}" or \
            params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        return "unexpected credential scope or algorithm"
    values = {"host": parts.netloc, "x-k8s-aws-id": identity.cluster}
    if any(name not in values for name in signed):
        return f"signed headers {signed} are not host and x-k8s-aws-id"
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                     for k, v in sorted(pairs) if k != "X-Amz-Signature")
    canonical = "\n".join(["GET", "/", query, "".join(f"{name}:{values[name]}\n" for name in signed),
                           ";".join(signed), hashlib.sha256(b"").hexdigest()])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + identity.secret_key).encode()
    for part in (day, identity.region, "sts", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, params.get("X-Amz-Signature", "")):
        return "signature does not match (another cluster name, or not these credentials)"
    return None


@dataclass
class Seen:
    """One request the stand-in answered."""

    path: str
    query: dict[str, str]
    status: int
    problem: str | None = None


@dataclass
class StandinCluster:
    """The cluster's objects by plural (``pods``, ``endpointslices``...) and how it authenticates."""

    objects: dict[str, list[dict[str, Any]]]
    eks: EksIdentity | None = None
    bearer_token: str | None = None
    page_cap: int | None = None
    resource_version: str = "52841"
    requests: list[Seen] = field(default_factory=list)
    gzipped: int = 0
    """Answers sent gzip-compressed."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, raw_query: str, authorization: str | None) -> tuple[int, dict[str, Any]]:
        """(status, body) for one GET."""
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        problem = self._auth_problem(authorization)
        if problem is not None:
            return self._seen(path, query, 401, _status(401, "Unauthorized", "Unauthorized"), problem)
        route = _route(path)
        if route is None:
            return self._seen(path, query, 404, _status(404, "NotFound", "the server could not find the requested resource"))
        api, namespace, plural = route
        items = [item for item in self.objects.get(plural, [])
                 if namespace is None or item["metadata"].get("namespace") == namespace]
        try:
            items = [item for item in items if _labels_match(item, query.get("labelSelector", ""))
                     and _fields_match(item, query.get("fieldSelector", ""))]
        except ValueError as exc:
            return self._seen(path, query, 400, _status(400, "BadRequest", str(exc)))
        items.sort(key=lambda item: (item["metadata"].get("namespace", ""), item["metadata"]["name"]))
        start = 0
        if query.get("continue"):
            decoded = json.loads(base64.b64decode(query["continue"]))
            if decoded["rv"] != int(self.resource_version):
                return self._seen(path, query, 410, _status(410, "Expired", "the provided continue parameter is too old"))
            keys = [f"{i['metadata'].get('namespace', '')}/{i['metadata']['name']}" for i in items]
            start = next((n for n, key in enumerate(keys) if key >= decoded["start"]), len(items))
        size = int(query.get("limit") or len(items) or 1)
        size = min(size, self.page_cap or size)
        page, rest = items[start:start + size], items[start + size:]
        metadata: dict[str, Any] = {"resourceVersion": self.resource_version}
        if rest:
            first = rest[0]["metadata"]
            metadata["continue"] = base64.b64encode(json.dumps({
                "v": "meta.k8s.io/v1", "rv": int(self.resource_version),
                "start": f"{first.get('namespace', '')}/{first['name']}"}).encode()).decode()
            metadata["remainingItemCount"] = len(rest)
        version = "v1" if api == "/api/v1" else api[len("/apis/"):]
        body = {"kind": KINDS[(api, plural)], "apiVersion": version, "metadata": metadata, "items": page}
        return self._seen(path, query, 200, body)

    def _auth_problem(self, authorization: str | None) -> str | None:
        if self.eks is not None:
            return token_problem(authorization, self.eks, datetime.datetime.now(datetime.UTC))
        if self.bearer_token is not None and authorization != f"Bearer {self.bearer_token}":
            return "not the expected bearer token"
        return None

    def _seen(self, path: str, query: dict[str, str], status: int, body: dict[str, Any],
              problem: str | None = None) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(Seen(path, query, status, problem))
        return status, body


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def _route(path: str) -> tuple[str, str | None, str] | None:
    """(API prefix, namespace or None, plural) of a collection path."""
    for (api, plural) in KINDS:
        if path == f"{api}/{plural}":
            return api, None, plural
        prefix = f"{api}/namespaces/"
        if path.startswith(prefix) and path.endswith(f"/{plural}") and plural not in CLUSTER_SCOPED:
            namespace = path[len(prefix):-len(plural) - 1]
            if namespace and "/" not in namespace:
                return api, namespace, plural
    return None


def _labels_match(item: Mapping[str, Any], selector: str) -> bool:
    labels = item["metadata"].get("labels", {})
    for requirement in filter(None, (part.strip() for part in selector.split(","))):
        if "!=" in requirement:
            key, value = (s.strip() for s in requirement.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in requirement:
            key, value = (s.strip() for s in requirement.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif requirement.startswith("!"):
            if requirement[1:].strip() in labels:
                return False
        elif " " in requirement or "(" in requirement:
            raise ValueError(f"unable to parse requirement: {requirement!r} (the stand-in knows =, != and exists)")
        elif requirement not in labels:
            return False
    return True


_FIELDS = {"metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace"),
           "spec.nodeName": ("spec", "nodeName"), "status.phase": ("status", "phase")}


def _fields_match(item: Mapping[str, Any], selector: str) -> bool:
    for requirement in filter(None, (part.strip() for part in selector.split(","))):
        negate = "!=" in requirement
        key, value = requirement.replace("!=", "=").replace("==", "=").split("=", 1)
        if key not in _FIELDS:
            raise ValueError(f"field label not supported: {key}")
        outer, inner = _FIELDS[key]
        if (item.get(outer, {}).get(inner, "") == value) == negate:
            return False
    return True


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        cluster: StandinCluster = self.server.cluster  # type: ignore[attr-defined]
        status, body = cluster.answer(path, query, self.headers.get("Authorization"))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Audit-Id", "1b4a3e9c-9f1e-4b7e-8f5e-2f0c1d2e3f40")
        if len(data) >= GZIP_FROM_BYTES and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            data = gzip.compress(data)
            self.send_header("Content-Encoding", "gzip")
            with cluster.lock:
                cluster.gzipped += 1
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serving(cluster: StandinCluster, certificates: Certificates) -> Iterator[int]:
    """Serve ``cluster`` over HTTPS on 127.0.0.1; yields the port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.cert_file, certificates.key_file)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.cluster = cluster  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
