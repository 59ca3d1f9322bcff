"""Saved pages served to the scraper's own HTTP client, for ``promwatch cost --pages DIR``.

A page is looked up, for a target of job ``JOB`` whose ``instance`` is ``INSTANCE``, as the
first of these files that exists:

1. ``DIR/JOB/INSTANCE.prom`` (or ``.txt``; ``.om`` is served as OpenMetrics), where ``JOB``
   may contain ``/`` (``prod/task-service`` is the directory ``DIR/prod/task-service``);
2. ``DIR/JOB.prom`` (or ``.txt`` / ``.om``): one page for every target of the job (a fleet of
   alike nodes from one saved page).

:meth:`SavedPages.connect` is a :data:`promwatch.httpclient.connection.Connector`: each
connection is one end of a ``socketpair`` whose other end a thread serves, answering the
target's GET with its page. So the fetch, the body limits, parsing, relabelling and
translation all run as in a real scrape; only the network is replaced. Host names resolve to
127.0.0.1 (never looked up).
"""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from promwatch.httpclient.url import IPAddress, parse_url
from promwatch.scrape import Target

from promwatch_tools.cost.errors import CostError

TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
_SUFFIXES = {".prom": TEXT_TYPE, ".txt": TEXT_TYPE, ".om": OPENMETRICS_TYPE}


def page_candidates(directory: Path, job_name: str, instance: str) -> list[Path]:
    """The files tried for a target, in order (see the module docstring)."""
    safe_instance = instance.replace("/", "_")
    return ([directory / job_name / f"{safe_instance}{suffix}" for suffix in _SUFFIXES]
            + [directory / f"{job_name}{suffix}" for suffix in _SUFFIXES])


class SavedPages:
    """The pages of ``targets`` read from ``directory``, by the Host header and path they are fetched with.

    Raises
    ------
    CostError
        When a target has no page (every file tried is named).
    """

    def __init__(self, directory: Path, targets: Sequence[Target]) -> None:
        self._pages: dict[tuple[str, str], tuple[bytes, str]] = {}
        for target in targets:
            candidates = page_candidates(directory, target.job_name, target.instance)
            found = next((path for path in candidates if path.is_file()), None)
            if found is None:
                raise CostError(f"no saved page for job {target.job_name!r} target {target.instance!r}; "
                                f"expected one of {', '.join(str(p) for p in candidates)}")
            url = parse_url(target.url)
            self._pages[(url.host_header, url.target)] = (found.read_bytes(), _SUFFIXES[found.suffix])

    @staticmethod
    def resolve(host: str) -> list[str]:
        """Every host is this process (a :data:`promwatch.httpclient.guard.Resolver`)."""
        return ["127.0.0.1"]

    def connect(self, address: IPAddress, port: int, timeout: float) -> socket.socket:
        """A connection answered from the saved pages."""
        ours, theirs = socket.socketpair()
        threading.Thread(target=self._serve, args=(theirs,), daemon=True, name="promwatch-cost-page").start()
        return ours

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            for host, path in http_requests(sock):
                page = self._pages.get((host, path))
                if page is None:
                    sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    continue
                body, content_type = page
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type.encode()
                             + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def http_requests(sock: socket.socket) -> Iterator[tuple[str, str]]:
    """``(Host header, path)`` of each HTTP/1.1 request (no body: GETs) read from ``sock``, until
    the client closes it."""
    with sock.makefile("rb") as reader:
        while True:
            request_line = reader.readline()
            if not request_line:
                return
            host = ""
            for line in iter(reader.readline, b"\r\n"):
                if not line:
                    return
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "host":
                    host = value.strip()
            parts = request_line.split()
            yield host, parts[1].decode("latin-1") if len(parts) > 1 else ""
