"""A stand-in task-service in Python, for machines without Node.js (dev dependency: prometheus_client).

Same routes and the same ``http_request_duration_seconds{method,route,code}`` histogram
(prometheus-api-metrics' buckets) as the Express app, plus prometheus_client's process and
Python collectors instead of Node's. It runs in a thread of this process.
"""
from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from promwatch_tools.local.sampleapp import RunningApp

DURATION_BUCKETS = (0.001, 0.005, 0.015, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
"""prometheus-api-metrics' default latency buckets, seconds."""
MEAN_WORK_S = {"GET /tasks": 0.012, "GET /tasks/:id": 0.004, "POST /tasks": 0.035,
               "PUT /tasks/:id": 0.025, "DELETE /tasks/:id": 0.008}
_ID_PATH = re.compile(r"^/tasks/(\d+)$")


class _TaskStore:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tasks: dict[int, dict[str, Any]] = {}
        self.next_id = 1
        for title in ("write the scrape config", "deploy with sam", "check the dashboard"):
            self.add(title)

    def add(self, title: str) -> dict[str, Any]:
        task = {"id": self.next_id, "title": title, "done": False}
        self.tasks[self.next_id] = task
        self.next_id += 1
        return task


def _handler(store: _TaskStore, registry: Any, histogram: Any, scale: float) -> type[BaseHTTPRequestHandler]:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet, like the Express app
            return

        def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            started = time.perf_counter()
            path = self.path.split("?", 1)[0]
            if path == "/metrics" and method == "GET":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                return
            if path == "/healthz":
                self._send(200, {"status": "ok"})
                return
            match = _ID_PATH.match(path)
            route = "/tasks/:id" if match else path if path == "/tasks" else "N/A"
            mean = MEAN_WORK_S.get(f"{method} {route}", 0.0) * scale
            time.sleep(min(random.expovariate(1 / mean), 20 * mean) if mean > 0 else 0)
            code, body = self._answer(method, route, match)
            # Observed before answering, so a scrape after the response always sees it.
            histogram.labels(method, route, str(code)).observe(time.perf_counter() - started)
            self._send(code, body)

        def _answer(self, method: str, route: str, match: re.Match[str] | None) -> tuple[int, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length) or b"{}") if length else {}
            with store.lock:
                if route == "/tasks" and method == "GET":
                    return 200, list(store.tasks.values())
                if route == "/tasks" and method == "POST":
                    title = payload.get("title")
                    return (201, store.add(title)) if isinstance(title, str) and title else (400, {"error": "title"})
                if match is None:
                    return 404, {"error": "no such route"}
                task = store.tasks.get(int(match[1]))
                if task is None:
                    return 404, {"error": f"no task {match[1]}"}
                if method == "DELETE":
                    del store.tasks[task["id"]]
                    return 204, b""
                if method == "PUT" and isinstance(payload.get("done"), bool):
                    task["done"] = payload["done"]
                return 200, task

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PUT(self) -> None:
            self._route("PUT")

        def do_DELETE(self) -> None:
            self._route("DELETE")

    return Handler


@contextmanager
def running_python_task_service(*, work_ms_scale: float = 1.0) -> Iterator[RunningApp]:
    """Serve the stand-in task-service on 127.0.0.1 (a free port) in a thread; stop it on exit."""
    from prometheus_client import CollectorRegistry, Histogram, PlatformCollector, ProcessCollector

    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    histogram = Histogram("http_request_duration_seconds", "Duration of HTTP requests in seconds",
                          ["method", "route", "code"], buckets=DURATION_BUCKETS, registry=registry)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(_TaskStore(), registry, histogram, work_ms_scale))
    thread = threading.Thread(target=server.serve_forever, name="python-task-service", daemon=True)
    thread.start()
    try:
        yield RunningApp(f"http://127.0.0.1:{server.server_address[1]}", 0)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
