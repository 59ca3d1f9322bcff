"""A Prometheus target on 127.0.0.1 whose page the test computes: ``render(n)`` answers its n-th GET."""
from __future__ import annotations

import http.server
import threading
from collections.abc import Callable
from types import TracebackType


class PageServer:
    """Serves ``render(n)`` (text or bytes) to the n-th GET, from 1; ``gets`` counts them.

    Use as a context manager (the server thread stops on exit); ``target`` is its ``host:port``.
    """

    def __init__(self, render: Callable[[int], str | bytes], content_type: str = "text/plain; version=0.0.4") -> None:
        self.gets = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                owner.gets += 1
                body = render(owner.gets)
                data = body.encode() if isinstance(body, str) else body
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self.target = f"127.0.0.1:{self.port}"

    def __enter__(self) -> PageServer:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
