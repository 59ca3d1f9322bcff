"""Run a function's handler in-process, as Lambda would: a Docker-free ``sam local invoke``.

:class:`LocalFunction` loads ``functions/<name>/app.py`` once (its module scope is the INIT
phase, so later invocations are warm, as in Lambda) with the layer's code importable and the
environment template.yaml gives the function; each :meth:`LocalFunction.invoke` passes an
event and a :class:`LambdaContext` whose remaining time counts down from the template's
Timeout. Paths under ``/opt`` in that environment point at the local copy of the config
layer (``config/``), where Lambda would mount it.

:func:`probe_import` measures the other half of a cold start, the INIT phase: it imports a
handler module (or any module, e.g. ``boto3`` for comparison) in a fresh interpreter and
reports how long that took and which modules it loaded.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from promwatch_tools.local.emulator import DEFAULT_REGION, FAKE_ACCOUNT_ID
from promwatch_tools.local.environ import patched_environment
from promwatch_tools.local.errors import LocalError
from promwatch_tools.local.stack import load_template
from promwatch_tools.local.template import LAYER_MOUNT, FunctionSpec, function_spec


class InvokeError(LocalError):
    """The handler could not be found or loaded."""


@dataclass(slots=True)
class LambdaContext:
    """The context object Lambda passes to a Python handler.

    ``get_remaining_time_in_millis`` counts down from the timeout on ``clock`` (monotonic
    seconds), from the moment the context is made.
    """

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    log_group_name: str
    log_stream_name: str
    timeout_s: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    identity: Any = None
    client_context: Any = None
    clock: Callable[[], float] = time.monotonic
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = self.clock() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the timeout (never negative)."""
        return max(0, int((self._deadline - self.clock()) * 1000))


@dataclass(frozen=True, slots=True)
class InvokeResult:
    """What one invocation returned, or the error it raised (in Lambda's error shape)."""

    payload: Any
    error: Mapping[str, Any] | None
    request_id: str
    duration_ms: float

    @property
    def ok(self) -> bool:
        """True when the handler returned."""
        return self.error is None


def localize(environment: Mapping[str, str], data_layers: tuple[Path, ...]) -> dict[str, str]:
    """The environment with paths under ``/opt`` moved to the local data layer directory.

    Lambda mounts every layer at ``/opt``; locally, the first data layer (the config layer,
    ``config/``) stands in for it. Values naming ``/opt`` itself or a path below it change.
    """
    if not data_layers:
        return dict(environment)
    mount = str(data_layers[0])
    out: dict[str, str] = {}
    for key, value in environment.items():
        if value == LAYER_MOUNT or value.startswith(LAYER_MOUNT + "/"):
            value = mount + value[len(LAYER_MOUNT):]
        out[key] = value
    return out


def lambda_environment(spec: FunctionSpec, region: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables Lambda sets for the function, then the template's, then ``extra``.

    ``AWS_SAM_LOCAL=true`` is set, as ``sam local invoke`` does, so Powertools' Tracer stays
    off (there is no X-Ray daemon) while Logger and Metrics behave as in Lambda.
    """
    runtime = {
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        "AWS_SAM_LOCAL": "true",
    }
    return {**runtime, **localize(spec.environment, spec.data_layers), **(extra or {})}


class LocalFunction:
    """One function of template.yaml, loaded in this process.

    Parameters
    ----------
    function
        Logical id (``ScrapeFunction``) or code directory name (``scrape``).
    template
        Path of template.yaml.
    parameters
        Parameter overrides; the others take their Default.
    env
        Variables set after the template's (``--env KEY=VALUE``).
    stack_name, region, account_id
        Stand in for the pseudo parameters and name the local resources.
    clock
        Monotonic seconds, for the contexts' countdown.
    """

    def __init__(
        self,
        function: str,
        *,
        template: str | Path = "template.yaml",
        parameters: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        stack_name: str = "promwatch-local",
        region: str = DEFAULT_REGION,
        account_id: str = FAKE_ACCOUNT_ID,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        path = Path(template).resolve()
        self.spec = function_spec(
            load_template(path), function, root=path.parent, parameters=parameters,
            stack_name=stack_name, region=region, account_id=account_id,
        )
        self.region = region
        self.account_id = account_id
        self.environment = lambda_environment(self.spec, region, env)
        self._clock = clock
        self._handler: Callable[[Any, Any], Any] | None = None

    def context(self) -> LambdaContext:
        """A fresh context for one invocation."""
        return LambdaContext(
            function_name=self.spec.name,
            memory_limit_in_mb=self.spec.memory_mb,
            invoked_function_arn=f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.spec.name}",
            log_group_name=self.spec.log_group,
            log_stream_name=self.environment["AWS_LAMBDA_LOG_STREAM_NAME"],
            timeout_s=self.spec.timeout_s,
            clock=self._clock,
        )

    def _load(self) -> Callable[[Any, Any], Any]:
        module_name, _, attribute = self.spec.handler.rpartition(".")
        source = self.spec.code_dir / f"{module_name.replace('.', '/')}.py"
        if not source.is_file():
            raise InvokeError(f"handler {self.spec.handler!r}: expected the file {source}")
        # Lambda's sys.path: the code directory first, then the layers' python directories.
        for directory in reversed((self.spec.code_dir, *self.spec.python_layers)):
            if str(directory) not in sys.path:
                sys.path.insert(0, str(directory))
        unique = f"_promwatch_local_{self.spec.logical_id}_{module_name.replace('.', '_')}"
        spec = importlib.util.spec_from_file_location(unique, source)
        if spec is None or spec.loader is None:
            raise InvokeError(f"handler {self.spec.handler!r}: {source} is not a loadable module")
        module: ModuleType = importlib.util.module_from_spec(spec)
        sys.modules[unique] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[unique]
            raise
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise InvokeError(f"handler {self.spec.handler!r}: {source} has no function {attribute!r}")
        return handler

    def invoke(self, event: Any) -> InvokeResult:
        """Run the handler on ``event`` (loading it first, on the first call).

        The process environment holds the function's variables for the duration of the
        call. An exception from the handler (or from its module's INIT) becomes the
        result's ``error``, shaped as Lambda reports it.

        Raises
        ------
        InvokeError
            When the handler file or function does not exist.
        """
        context = self.context()
        started = self._clock()
        with patched_environment(self.environment):
            try:
                if self._handler is None:
                    self._handler = self._load()
                payload = self._handler(event, context)
            except InvokeError:
                raise
            except Exception as exc:  # the handler's failure is the invocation's result
                error = {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "requestId": context.aws_request_id,
                    "stackTrace": traceback.format_exception(exc)[1:],
                }
                return InvokeResult(None, error, context.aws_request_id, (self._clock() - started) * 1000)
        return InvokeResult(payload, None, context.aws_request_id, (self._clock() - started) * 1000)


_PROBE = """
import importlib, importlib.util, json, sys, time
args = json.loads(sys.argv[1])
sys.path[:0] = args["path"]
started = time.perf_counter()
if args["file"]:
    spec = importlib.util.spec_from_file_location("lambda_function_module", args["file"])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
else:
    importlib.import_module(args["module"])
elapsed = time.perf_counter() - started
print("\\n" + json.dumps({"seconds": elapsed, "modules": sorted(sys.modules)}))
"""


@dataclass(frozen=True, slots=True)
class ImportProbe:
    """One import in a fresh interpreter: how long it took and what was loaded by then."""

    seconds: float
    modules: frozenset[str]


def probe_import(
    target: LocalFunction | str, *, python: str = sys.executable, timeout_s: float = 120.0
) -> ImportProbe:
    """Import a function's handler module (or a named module) in a fresh ``python -I``.

    Parameters
    ----------
    target
        A :class:`LocalFunction` (its handler module is imported with the function's sys.path
        and environment, tracing on, as Lambda's INIT would) or a module name such as
        ``"boto3"``.
    python
        The interpreter to run.
    timeout_s
        Give up after this long.

    Returns
    -------
    ImportProbe
        The import's wall time (interpreter start-up excluded) and every module in
        ``sys.modules`` afterwards.

    Raises
    ------
    InvokeError
        When the import fails.
    """
    if isinstance(target, LocalFunction):
        spec = target.spec
        module_name = spec.handler.rpartition(".")[0]
        args = {
            "file": str(spec.code_dir / f"{module_name.replace('.', '/')}.py"),
            "module": None,
            "path": [str(p) for p in (spec.code_dir, *spec.python_layers)],
        }
        # As deployed: without AWS_SAM_LOCAL, Powertools' Tracer is on and patches at INIT.
        env = {k: v for k, v in {**os.environ, **target.environment}.items() if k != "AWS_SAM_LOCAL"}
        label = spec.handler
    else:
        args, env, label = {"file": None, "module": target, "path": []}, dict(os.environ), target
    done = subprocess.run(
        [python, "-I", "-c", _PROBE, json.dumps(args)],
        env=env, capture_output=True, text=True, timeout=timeout_s, check=False,
    )
    if done.returncode != 0:
        raise InvokeError(f"importing {label!r} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return ImportProbe(float(result["seconds"]), frozenset(result["modules"]))
