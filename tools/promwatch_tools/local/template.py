"""What template.yaml gives one function: code, handler, timeout, memory, layers, environment.

Pure: the template (parsed by :func:`promwatch_tools.local.stack.load_template`, which understands
the CloudFormation short tags) goes in, a :class:`FunctionSpec` comes out. Parameters take
their defaults unless overridden; resources resolve to the local names
:func:`promwatch_tools.local.stack.plan_stack` gives them, so the environment names exactly the
tables and queues the demo creates in the emulator. SAM's Globals merge as SAM merges them:
maps key by key, lists (Layers) global first, scalars overridden by the function.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promwatch_tools.local.emulator import DEFAULT_REGION, FAKE_ACCOUNT_ID
from promwatch_tools.local.errors import StackError
from promwatch_tools.local.intrinsics import IntrinsicResolver, pseudo_parameters
from promwatch_tools.local.parameters import parameter_refs, parameter_values
from promwatch_tools.local.stack import FUNCTION_TYPES, physical_name, plan_stack, resource_attributes

LAYER_MOUNT = "/opt"
"""Where Lambda mounts layer contents; the config layer's files appear under it."""
DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One function as the template declares it, with every value resolved.

    Attributes
    ----------
    logical_id, name
        Logical id in the template, and the local physical name (``<stack>-<logical id>``).
    code_dir
        The CodeUri directory (Lambda's ``/var/task``).
    handler
        ``module.function``, e.g. ``app.lambda_handler``.
    timeout_s, memory_mb
        Timeout and MemorySize (function, else Globals, else Lambda's defaults).
    environment
        Globals variables updated by the function's, as strings.
    python_layers
        ContentUri of Python layers (their code is importable): built with a python
        BuildMethod, or with their own Makefile next to a requirements.txt.
    data_layers
        ContentUri of the other layers (their files appear under :data:`LAYER_MOUNT`).
    log_group
        The function's log group name.
    """

    logical_id: str
    name: str
    code_dir: Path
    handler: str
    timeout_s: int
    memory_mb: int
    environment: Mapping[str, str]
    python_layers: tuple[Path, ...]
    data_layers: tuple[Path, ...]
    log_group: str


def find_function(template: Mapping[str, Any], function: str) -> str:
    """The logical id of a function named by logical id or by its code directory name.

    ``ScrapeFunction``, ``scrape`` and ``functions/scrape`` all name the scrape function.

    Raises
    ------
    StackError
        When no function (or more than one) matches.
    """
    functions = {
        lid: body for lid, body in template["Resources"].items() if body.get("Type") in FUNCTION_TYPES
    }
    if function in functions:
        return function
    wanted = function.strip("/").split("/")[-1].lower()
    matches = [
        lid for lid, body in functions.items()
        if str((body.get("Properties") or {}).get("CodeUri", "")).strip("/").split("/")[-1].lower() == wanted
        or lid.lower() in (wanted, f"{wanted}function")
    ]
    if len(matches) != 1:
        raise StackError(
            f"function {function!r}: expected one of {sorted(functions)} or their code directory names"
        )
    return matches[0]


def _stringify(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise StackError(f"environment variable {name}: resolved to {value!r}; expected a string or number")


def function_spec(
    template: Mapping[str, Any],
    function: str,
    *,
    root: Path,
    parameters: Mapping[str, str] | None = None,
    stack_name: str = "promwatch-local",
    region: str = DEFAULT_REGION,
    account_id: str = FAKE_ACCOUNT_ID,
) -> FunctionSpec:
    """Everything template.yaml says about one function, resolved for a local run.

    Parameters
    ----------
    template
        The parsed template.
    function
        Logical id (``ScrapeFunction``) or code directory name (``scrape``).
    root
        The directory of template.yaml (CodeUri and ContentUri are relative to it).
    parameters
        Parameter overrides (``--parameter-overrides``); the others take their Default.
    stack_name, region, account_id
        Stand in for the pseudo parameters.

    Raises
    ------
    StackError
        Unknown function or parameter, a value outside the parameter's constraints or one a
        rule of the template refuses, or an intrinsic function that cannot be evaluated locally.
    """
    logical_id = find_function(template, function)
    values = parameter_values(template, parameters)
    planned = plan_stack(template, stack_name=stack_name, parameters=values, region=region,
                         account_id=account_id)
    refs: dict[str, Any] = {**pseudo_parameters(stack_name, region, account_id),
                            **parameter_refs(template, values)}
    attributes: dict[str, Mapping[str, str]] = {}
    for resource in planned:
        refs[resource.logical_id] = resource.attributes["Ref"]
        attributes[resource.logical_id] = resource.attributes
    for lid, body in template["Resources"].items():
        if body.get("Type") in FUNCTION_TYPES and lid not in refs:
            refs[lid] = physical_name(stack_name, lid)
            attributes[lid] = resource_attributes(body["Type"], refs[lid], region, account_id)
    resolver = IntrinsicResolver(template, refs, attributes)

    globals_ = (template.get("Globals") or {}).get("Function") or {}
    props = template["Resources"][logical_id].get("Properties") or {}

    def setting(key: str, default: Any) -> Any:
        return resolver.resolve(props.get(key, globals_.get(key, default)))

    variables: dict[str, Any] = {}
    for source in (globals_, props):
        variables.update(resolver.resolve(((source.get("Environment") or {}).get("Variables")) or {}))

    python_layers: list[Path] = []
    data_layers: list[Path] = []
    for layer in [*(globals_.get("Layers") or []), *(props.get("Layers") or [])]:
        layer_id = layer.get("Ref") if isinstance(layer, dict) else None
        body = template["Resources"].get(layer_id or "", {})
        if body.get("Type") != "AWS::Serverless::LayerVersion":
            continue  # a published layer ARN: nothing local to mount
        content = root / str(body["Properties"]["ContentUri"])
        build = str((body.get("Metadata") or {}).get("BuildMethod", ""))
        python = build.startswith("python") or (build == "makefile" and (content / "requirements.txt").is_file())
        (python_layers if python else data_layers).append(content)

    name = refs[logical_id]
    log_group = (props.get("LoggingConfig") or {}).get("LogGroup")
    return FunctionSpec(
        logical_id=logical_id,
        name=name,
        code_dir=root / str(props.get("CodeUri", globals_.get("CodeUri", "."))),
        handler=str(setting("Handler", "app.lambda_handler")),
        timeout_s=int(setting("Timeout", DEFAULT_TIMEOUT_S)),
        memory_mb=int(setting("MemorySize", DEFAULT_MEMORY_MB)),
        environment={k: _stringify(k, v) for k, v in variables.items()},
        python_layers=tuple(python_layers),
        data_layers=tuple(data_layers),
        log_group=str(resolver.resolve(log_group)) if log_group else f"/aws/lambda/{name}",
    )
