"""Canned HTTP pages behind real sockets, for fetches without a network.

``CannedPages.connect`` is a :data:`promwatch.httpclient.connection.Connector`: each connection is
one end of a ``socketpair`` whose other end a thread serves, answering each GET from the
pages registered for its ``Host`` header and path (anything else: the connection is closed
without an answer, as a target that is down). The scraper's own HTTP client, pooling and
deadline code run unchanged.
"""
from __future__ import annotations

import socket
import threading

from promwatch.httpclient.url import IPAddress
from promwatch_tools.cost.pages import http_requests


class CannedPages:
    """Pages by ``(host header, path)``; the addresses connected to are recorded."""

    def __init__(self, content_type: str = "text/plain; version=0.0.4") -> None:
        self.pages: dict[tuple[str, str], bytes] = {}
        self.connected: list[tuple[str, int]] = []
        self.content_type = content_type

    def connect(self, address: IPAddress, port: int, timeout: float) -> socket.socket:
        self.connected.append((str(address), port))
        ours, theirs = socket.socketpair()
        threading.Thread(target=self._serve, args=(theirs,), daemon=True).start()
        return ours

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            for host, path in http_requests(sock):
                body = self.pages.get((host, path))
                if body is None:
                    return  # as a target that is down: the connection closes without an answer
                sock.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: " + self.content_type.encode()
                    + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
