"""The embedded AWS emulator: a moto server on 127.0.0.1, reached by boto3 via AWS_ENDPOINT_URL.

boto3 honours ``AWS_ENDPOINT_URL``, so the library's own code (sinks, state, reconcile) talks
to the emulator exactly as it talks to AWS; nothing in the library knows it is local.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promwatch_tools.local.environ import patched_environment
from promwatch_tools.local.errors import EmulatorError

if TYPE_CHECKING:
    from promwatch_tools.local.otlpreceiver import OtlpReceiver

DEFAULT_REGION = "us-east-1"
"""The region the emulator answers for (any region works; one keeps resources together)."""
FAKE_ACCOUNT_ID = "123456789012"
"""The account id moto reports by default."""
STARTUP_TIMEOUT_S = 30.0
AWS_PROFILE_VARIABLES = ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
"""Variables that could send boto3 to a real account; unset while the emulator is in use."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until_answers(url: str, *, timeout_s: float, alive: Callable[[], bool] | None = None) -> None:
    """Poll ``url`` until it answers with any HTTP status.

    Parameters
    ----------
    url
        What to GET.
    timeout_s
        How long to wait.
    alive
        Optional callable returning False once the server process has exited (stop early).

    Raises
    ------
    EmulatorError
        When nothing answered in time, or the process died first.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError as error:
            if alive is not None and not alive():
                raise EmulatorError(f"{url}: the server exited before answering") from error
            if time.monotonic() > deadline:
                raise EmulatorError(f"{url} did not answer within {timeout_s:.0f}s ({error})") from error
            time.sleep(0.1)


@dataclass(frozen=True, slots=True)
class Emulator:
    """A running emulator: where it listens and the environment that points boto3 at it."""

    endpoint: str
    region: str = DEFAULT_REGION

    def environment(self) -> dict[str, str]:
        """Environment variables that send boto3 (and the AWS CLI, SAM) to the emulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def otlp_receiver(self, *, port: int = 0) -> AbstractContextManager[OtlpReceiver]:
        """A local OTLP metrics endpoint that accepts what the emulator's credentials sign for
        its region (:mod:`promwatch_tools.local.otlpreceiver`): send to its ``url``, read
        what arrived with its ``points()``."""
        from promwatch_tools.local.otlpreceiver import running_otlp_receiver

        return running_otlp_receiver(port=port, region=self.region)

    def client(self, service: str) -> Any:
        """A boto3 client of ``service`` bound to the emulator (whatever the environment says)."""
        import boto3

        make: Any = boto3.client  # typed per service literal; the name here is a plain str
        return make(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            aws_session_token="testing",
        )


def _moto_server() -> str:
    beside = Path(sys.executable).with_name("moto_server")
    if beside.exists():
        return str(beside)
    found = shutil.which("moto_server")
    if found is None:
        raise EmulatorError(
            "moto_server not found next to the Python interpreter or on PATH; "
            "expected the dev dependencies installed (pip install -e '.[dev]')"
        )
    return found


@contextmanager
def running_emulator(
    *, host: str = "127.0.0.1", port: int | None = None, region: str = DEFAULT_REGION
) -> Iterator[Emulator]:
    """Start a moto server, wait until it answers, and stop it on exit (errors and Ctrl-C too).

    Parameters
    ----------
    host, port
        Where it listens; ``port=None`` picks a free port.
    region
        The region clients use.

    Yields
    ------
    Emulator
    """
    port = port or free_port(host)
    endpoint = f"http://{host}:{port}"
    emulator = Emulator(endpoint, region)
    # moto itself runs botocore: a user's AWS_PROFILE (absent from its view) would fail its requests.
    env = {k: v for k, v in os.environ.items() if k not in (*AWS_PROFILE_VARIABLES, "AWS_ENDPOINT_URL")}
    env.update({k: v for k, v in emulator.environment().items() if k != "AWS_ENDPOINT_URL"})
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [_moto_server(), "-H", host, "-p", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            try:
                wait_until_answers(
                    f"{endpoint}/moto-api/", timeout_s=STARTUP_TIMEOUT_S, alive=lambda: process.poll() is None
                )
            except EmulatorError as error:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise EmulatorError(f"moto server on {endpoint} failed to start: {error}\n{tail}") from error
            yield emulator
        finally:
            stop_process(process)


def stop_process(process: subprocess.Popen[Any], timeout_s: float = 5.0) -> None:
    """Terminate ``process`` (then kill it if it lingers) and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout_s)


@contextmanager
def emulated_aws(*, port: int | None = None, region: str = DEFAULT_REGION) -> Iterator[Emulator]:
    """:func:`running_emulator` with the process environment pointed at it for the block."""
    with running_emulator(port=port, region=region) as emulator, patched_environment(
        emulator.environment(), remove=AWS_PROFILE_VARIABLES
    ):
        yield emulator
