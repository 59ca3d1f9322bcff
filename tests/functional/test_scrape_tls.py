"""TLS: verified by default, a private CA with ca_file, server_name for SNI and the hostname
check, insecure_skip_verify; against a local HTTPS server with a certificate made by openssl."""
from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from promwatch.exposition import ACCEPT_HEADER
from promwatch.httpclient import ConnectionPool, FetchError, FetchRequest, fetch

from tests.support.system_deps import require_binary

PAGE = b"# TYPE up gauge\nup 1\n"


class Page(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run([require_binary("openssl"), *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on 127.0.0.1 whose certificate names only promwatch.test, and its CA file."""
    work = tmp_path_factory.mktemp("tls")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "1", "-subj", "/CN=promwatch test CA", cwd=work)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=promwatch.test", cwd=work)
    (work / "san.ext").write_text("subjectAltName=DNS:promwatch.test\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "1", "-extfile", "san.ext", cwd=work)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(work / "server.crt", work / "server.key")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}/metrics", work / "ca.crt"
    httpd.shutdown()


def _request(url: str, **kwargs: object) -> FetchRequest:
    return FetchRequest(url=url, timeout=5, accept=ACCEPT_HEADER, **kwargs)  # type: ignore[arg-type]


def test_certificates_are_verified_by_default(tls_server: tuple[str, Path]) -> None:
    # Given a server with a certificate from a private CA, then the default fetch refuses it.
    url, _ = tls_server
    with pytest.raises(FetchError, match="certificate verify failed"):
        fetch(_request(url), pool=ConnectionPool())


def test_ca_file_and_server_name(tls_server: tuple[str, Path]) -> None:
    # Given the CA file, the certificate is trusted but names promwatch.test, not 127.0.0.1;
    url, ca_file = tls_server
    pool = ConnectionPool()
    with pytest.raises(FetchError, match=r"certificate verify failed: .*mismatch"):
        fetch(_request(url, verify=str(ca_file)), pool=pool)
    # with server_name promwatch.test, SNI and the hostname check use that name and it passes.
    response = fetch(_request(url, verify=str(ca_file), server_name="promwatch.test"),
                     pool=pool)
    assert response.text == PAGE.decode()


def test_insecure_skip_verify(tls_server: tuple[str, Path]) -> None:
    # Given insecure_skip_verify (verify=False), then the page is fetched without checks.
    url, _ = tls_server
    assert fetch(_request(url, verify=False), pool=ConnectionPool()).status == 200
