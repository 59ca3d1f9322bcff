"""Fetching against a local HTTP server: headers, gzip, size cap, redirects, auth, guard."""
from __future__ import annotations

import gzip
import http.server
import socket
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest
from promwatch.exposition import ACCEPT_HEADER
from promwatch.httpclient import (
    BodyTooLargeError,
    ConnectionPool,
    FetchError,
    FetchRequest,
    HttpStatusError,
    TargetRefusedError,
    fetch,
)
from promwatch.scrape.backfill import PrometheusAPI, PrometheusBackfillError

PAGE = b"# TYPE x counter\nx_total 1\n" * 200


class Handler(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        Handler.seen.append(dict(self.headers))
        if self.path == "/metrics":
            body = gzip.compress(PAGE)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/bomb":
            body = gzip.compress(b"#" * 5_000_000)
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/escaped":
            # a target naming a codec that decodes \\ud800 to a lone surrogate
            body = b"# HELP up \\ud83d\\ude00 fine, \\ud800 alone\nup\\udca1 1\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=unicode_escape")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/" if "meta" in self.path else "/metrics")
            self.end_headers()
        elif self.path.startswith("/api/v1/query"):
            # Prometheus' answer to a bad selector: the reason is in the JSON body only
            body = b'{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:4: parse error"}'
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def pool() -> Iterator[ConnectionPool]:
    with ConnectionPool() as made:
        yield made


def request(url: str, **kwargs: object) -> FetchRequest:
    return FetchRequest(url=url, timeout=5, accept=ACCEPT_HEADER, **kwargs)  # type: ignore[arg-type]


def test_fetch_sends_prometheus_headers_and_inflates_gzip(server: str) -> None:
    # Given a target serving a gzip page, when fetched with credentials,
    Handler.seen.clear()
    response = fetch(request(f"{server}/metrics", headers={"Authorization": "Bearer t0k"}),
                     pool=ConnectionPool())
    # then the body is inflated and the request carried Prometheus' headers.
    assert response.text == PAGE.decode() and response.body_bytes == len(PAGE)
    assert response.content_type is not None and response.content_type.startswith("text/plain")
    headers = Handler.seen[-1]
    assert headers["Accept"] == ACCEPT_HEADER
    assert headers["Accept-Encoding"] == "gzip"
    assert headers["X-Prometheus-Scrape-Timeout-Seconds"] == "5"
    assert headers["User-Agent"].startswith("promwatch/")
    assert headers["Authorization"] == "Bearer t0k"


def test_body_size_limit_applies_to_the_inflated_body(server: str, pool: ConnectionPool) -> None:
    # Given a small compressed body that inflates to 5 MB and a 1 MiB cap, then the fetch stops at the cap.
    with pytest.raises(BodyTooLargeError, match="body_size_limit"):
        fetch(request(f"{server}/bomb", body_size_limit=1024 * 1024), pool=pool)
    # A limit above the page size lets it through.
    assert fetch(request(f"{server}/metrics", body_size_limit=len(PAGE)), pool=pool).body_bytes == len(PAGE)


def test_redirects_are_followed_and_guarded(server: str, pool: ConnectionPool) -> None:
    # Given a redirect to the page, then it is followed; a redirect to instance metadata is refused.
    assert fetch(request(f"{server}/redirect"), pool=pool).url == f"{server}/metrics"
    with pytest.raises(TargetRefusedError, match=r"169\.254\.169\.254"):
        fetch(request(f"{server}/redirect-meta"), pool=pool)
    with pytest.raises(FetchError, match="stopped after 10 redirects"):
        fetch(request(f"{server}/loop"), pool=pool)
    with pytest.raises(FetchError, match="HTTP status 302"):
        fetch(request(f"{server}/redirect", follow_redirects=False), pool=pool)


def test_errors_name_the_target(server: str, pool: ConnectionPool) -> None:
    # Given a 404 and a closed port, then FetchError names the URL and the problem.
    with pytest.raises(FetchError, match="/missing: server returned HTTP status 404"):
        fetch(request(f"{server}/missing"), pool=pool)
    with pytest.raises(FetchError, match=r"connecting to 127\.0\.0\.1:1 failed"):
        fetch(request("http://127.0.0.1:1/metrics"), pool=pool)


def test_guard_refuses_before_connecting() -> None:
    # Given a metadata URL, then it is refused without any connection being opened.
    def connect(*args: object) -> socket.socket:
        raise AssertionError("connected to a refused target")

    with pytest.raises(TargetRefusedError):
        fetch(request("http://169.254.169.254/latest/meta-data/"), pool=ConnectionPool(connect=connect))


def test_text_holds_no_lone_surrogates_whatever_the_charset(server: str, pool: ConnectionPool) -> None:
    # Given a target whose charset (unicode_escape) decodes escapes to lone surrogates (found by
    # fuzzing: they reached the EMF documents, which no UTF-8 log event can carry)
    text = fetch(request(f"{server}/escaped"), pool=pool).text
    # Then a surrogate pair becomes its character and a lone surrogate the replacement character
    assert text == "# HELP up \U0001f600 fine, \ufffd alone\nup\ufffd 1\n"
    assert text.encode("utf-8")


def test_an_error_answers_body_is_read_when_asked_for_and_bounded(server: str, pool: ConnectionPool) -> None:
    # Given a 400 whose body says what was wrong, When asked for at most 16 bytes of it
    with pytest.raises(HttpStatusError, match="HTTP status 400") as caught:
        fetch(request(f"{server}/api/v1/query?query=up%7B", error_body_limit=16), pool=pool)
    # Then the error carries the status and the body's start, no more
    assert (caught.value.status, caught.value.body) == (400, '{"status":"error')
    # And without asking, the body is not read
    with pytest.raises(HttpStatusError) as caught:
        fetch(request(f"{server}/api/v1/query?query=up%7B"), pool=pool)
    assert caught.value.body is None


def test_a_backfill_names_prometheus_reason_for_a_bad_selector(server: str) -> None:
    # Given a Prometheus answering 400 with its error JSON, When the backfill adapter queries it
    with pytest.raises(PrometheusBackfillError) as caught:
        PrometheusAPI(server).samples("up{", 1_795_179_600_000, 60_000)
    # Then the error says what Prometheus said, not only the status line
    assert str(caught.value) == ("query 'up{[60000ms]': the server answered HTTP 400: "
                                 'bad_data: invalid parameter "query": 1:4: parse error')
