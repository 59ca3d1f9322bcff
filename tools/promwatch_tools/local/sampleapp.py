"""The sample app the demo scrapes: the seed's task-service, and traffic to drive it.

The task-service is an Express app instrumented with prometheus-api-metrics
(``tests/e2e/apps/task-service``); it runs under ``node`` on 127.0.0.1 and a free port.
:class:`TrafficPlanner` (seeded) decides which requests to make; :func:`drive` makes them
and counts what was made per (method, route template, status code), which is what the
app's ``http_request_duration_seconds`` histogram counts.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promwatch_tools.local.emulator import free_port, stop_process, wait_until_answers
from promwatch_tools.local.errors import EmulatorError, SampleAppError

APP_RELATIVE_DIR = Path("tests/e2e/apps/task-service")
STARTUP_TIMEOUT_S = 20.0


def find_app_dir(start: Path | None = None) -> Path:
    """The task-service directory: under the current directory or the source tree's root.

    Raises
    ------
    SampleAppError
        When neither holds ``tests/e2e/apps/task-service/server.js``.
    """
    candidates = [(start or Path.cwd()) / APP_RELATIVE_DIR, Path(__file__).resolve().parents[3] / APP_RELATIVE_DIR]
    for candidate in candidates:
        if (candidate / "server.js").is_file():
            return candidate
    raise SampleAppError(
        f"task-service not found; expected {APP_RELATIVE_DIR}/server.js under "
        f"{' or '.join(str(c.parents[3]) for c in candidates)}"
    )


def ensure_installed(app_dir: Path) -> None:
    """Install the app's npm packages when ``node_modules`` is missing (needs npm and the registry).

    Raises
    ------
    SampleAppError
        When node or npm is missing, or ``npm install`` fails.
    """
    if shutil.which("node") is None:
        raise SampleAppError("node is not on PATH; expected Node.js >= 18 (scripts/system-deps.sh installs it)")
    if (app_dir / "node_modules" / "prometheus-api-metrics").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SampleAppError(f"{app_dir}/node_modules is missing and npm is not on PATH; run scripts/system-deps.sh")
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent"],
        cwd=app_dir, capture_output=True, text=True, timeout=300, check=False,
    )
    if done.returncode != 0:
        raise SampleAppError(f"npm install in {app_dir} failed ({done.returncode}): {done.stderr[-1000:]}")


@dataclass(frozen=True, slots=True)
class RunningApp:
    """A started sample app."""

    url: str
    pid: int

    @property
    def target(self) -> str:
        """``host:port``, as a scrape config's static target."""
        return self.url.removeprefix("http://")


@contextmanager
def running_task_service(
    app_dir: Path | None = None, *, port: int | None = None, work_ms_scale: float = 1.0
) -> Iterator[RunningApp]:
    """Start the task-service under node on 127.0.0.1, wait until it answers, stop it on exit.

    Parameters
    ----------
    app_dir
        The app's directory (default: :func:`find_app_dir`).
    port
        Port to listen on (default: a free one).
    work_ms_scale
        Scales the app's simulated work per request (0: answer at once).
    """
    directory = app_dir or find_app_dir()
    ensure_installed(directory)
    port = port or free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "WORK_MS_SCALE": str(work_ms_scale)}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            ["node", "server.js"], cwd=directory, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            try:
                wait_until_answers(f"{url}/healthz", timeout_s=STARTUP_TIMEOUT_S, alive=lambda: process.poll() is None)
            except EmulatorError as error:
                log.seek(0)
                raise SampleAppError(
                    f"task-service did not start: {error}\n{log.read().decode(errors='replace')[-2000:]}"
                ) from error
            yield RunningApp(url, process.pid)
        finally:
            stop_process(process)


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """One request to make, with the route template the app reports it under."""

    method: str
    path: str
    route: str
    body: dict[str, Any] | None = None


class TrafficPlanner:
    """A realistic mix of requests to the task-service, deterministic given ``rng``.

    Mostly reads of ``/tasks/:id`` and listings of ``/tasks``, some creations and updates, a
    few deletions and lookups of missing tasks (404s), so every route and several status
    codes appear in the latency histogram. It tracks the ids the app holds (the app numbers
    tasks 1, 2, 3, ... and starts with three), so across calls its reads hit existing tasks.
    """

    def __init__(self, rng: random.Random, *, existing: int = 3) -> None:
        self._rng = rng
        self._ids = list(range(1, existing + 1))
        self._next_id = existing + 1

    def plan(self, count: int) -> list[PlannedRequest]:
        """The next ``count`` requests."""
        rng, ids = self._rng, self._ids
        plan: list[PlannedRequest] = []
        for _ in range(count):
            roll = rng.random()
            if roll < 0.40 and ids:
                plan.append(PlannedRequest("GET", f"/tasks/{rng.choice(ids)}", "/tasks/:id"))
            elif roll < 0.65:
                plan.append(PlannedRequest("GET", "/tasks", "/tasks"))
            elif roll < 0.80:
                plan.append(PlannedRequest("POST", "/tasks", "/tasks", {"title": f"task {self._next_id}"}))
                ids.append(self._next_id)
                self._next_id += 1
            elif roll < 0.90 and ids:
                plan.append(PlannedRequest("PUT", f"/tasks/{rng.choice(ids)}", "/tasks/:id", {"done": True}))
            elif roll < 0.95 and len(ids) > 1:
                victim = ids.pop(rng.randrange(len(ids)))
                plan.append(PlannedRequest("DELETE", f"/tasks/{victim}", "/tasks/:id"))
            else:
                plan.append(PlannedRequest("GET", f"/tasks/{self._next_id + 1000}", "/tasks/:id"))
        return plan


def drive(base_url: str, plan: Sequence[PlannedRequest], *, session: Any = None) -> Counter[tuple[str, str, str]]:
    """Make the planned requests one after another.

    Returns
    -------
    Counter
        Requests made per (method, route template, status code), as the app's histogram
        labels them.
    """
    if session is None:
        import requests

        session = requests.Session()
    made: Counter[tuple[str, str, str]] = Counter()
    for request in plan:
        response = session.request(request.method, base_url + request.path, json=request.body, timeout=10)
        made[(request.method, request.route, str(response.status_code))] += 1
    return made
