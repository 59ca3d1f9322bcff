"""What template.yaml gives one function: code, handler, timeout, memory, layers, environment.

Pure: the template (parsed by :func:`promwatch.local.stack.load_template`, which understands
the CloudFormation short tags) goes in, a :class:`FunctionSpec` comes out. Parameters take
their defaults unless overridden; resources resolve to the local names
:func:`promwatch.local.stack.plan_stack` gives them, so the environment names exactly the
tables and queues the demo creates in the emulator. SAM's Globals merge as SAM merges them:
maps key by key, lists (Layers) global first, scalars overridden by the function.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promwatch.local.emulator import DEFAULT_REGION, FAKE_ACCOUNT_ID
from promwatch.local.errors import StackError
from promwatch.local.stack import plan_stack

LAYER_MOUNT = "/opt"
"""Where Lambda mounts layer contents; the config layer's files appear under it."""
DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128
_FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
_NO_VALUE = object()


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
        ContentUri of layers built with a python BuildMethod (their code is importable).
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


class _Resolver:
    """Evaluates intrinsic functions against parameters, conditions and local resource names."""

    def __init__(self, template: Mapping[str, Any], refs: Mapping[str, Any],
                 attributes: Mapping[str, Mapping[str, str]]) -> None:
        self.template = template
        self.refs = dict(refs)
        self.attributes = attributes
        self.conditions: dict[str, bool] = {}
        for name, expression in (template.get("Conditions") or {}).items():
            self.conditions[name] = bool(self.resolve(expression))

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name not in self.refs:
            raise StackError(f"Ref {name!r}: expected a parameter, a pseudo parameter or a resource")
        return self.refs[name]

    def get_att(self, logical_id: str, attribute: str) -> str:
        try:
            return self.attributes[logical_id][attribute]
        except KeyError:
            raise StackError(
                f"GetAtt {logical_id}.{attribute}: expected a table, queue, log group, stream or function"
            ) from None

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise StackError(f"condition {name!r}: not declared under Conditions")
        return self.conditions[name]

    def sub(self, text: str, variables: Mapping[str, Any]) -> str:
        out: list[str] = []
        rest = text
        while "${" in rest:
            head, _, tail = rest.partition("${")
            name, closed, rest = tail.partition("}")
            if not closed:
                raise StackError(f"Sub {text!r}: unclosed '${{'")
            out.append(head)
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            elif name in variables:
                out.append(str(variables[name]))
            elif "." in name and not name.startswith("AWS::"):
                out.append(self.get_att(*name.split(".", 1)))
            else:
                out.append(str(self.ref(name)))
        out.append(rest)
        return "".join(out)

    def resolve(self, value: Any) -> Any:
        """``value`` with its intrinsic functions evaluated; ``AWS::NoValue`` members dropped."""
        if isinstance(value, list):
            return [v for v in map(self.resolve, value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            function = _INTRINSICS.get(key)
            if function is not None:
                return function(self, arg)
            if key.startswith("Fn::"):
                raise StackError(f"{key}: not supported locally; expected one of {', '.join(_INTRINSICS)}")
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}


def _fn_sub(resolver: _Resolver, arg: Any) -> str:
    if isinstance(arg, list):
        return resolver.sub(str(arg[0]), {k: resolver.resolve(v) for k, v in arg[1].items()})
    return resolver.sub(str(arg), {})


def _fn_if(resolver: _Resolver, arg: Any) -> Any:
    name, when_true, when_false = arg
    return resolver.resolve(when_true if resolver.condition(str(name)) else when_false)


def _fn_find_in_map(resolver: _Resolver, arg: Any) -> Any:
    name, top, second = (resolver.resolve(a) for a in arg)
    try:
        return resolver.template["Mappings"][name][top][second]
    except KeyError:
        raise StackError(f"FindInMap {[name, top, second]!r}: no such entry under Mappings") from None


_INTRINSICS: dict[str, Callable[[_Resolver, Any], Any]] = {
    "Ref": lambda r, arg: r.ref(str(arg)),
    "Fn::Sub": _fn_sub,
    "Fn::GetAtt": lambda r, arg: r.get_att(str(arg[0]), str(arg[1])),
    "Fn::If": _fn_if,
    "Fn::Select": lambda r, arg: r.resolve(arg[1])[int(r.resolve(arg[0]))],
    "Fn::Split": lambda r, arg: str(r.resolve(arg[1])).split(str(arg[0])),
    "Fn::Join": lambda r, arg: str(arg[0]).join(str(v) for v in r.resolve(arg[1])),
    "Fn::FindInMap": _fn_find_in_map,
    "Fn::Equals": lambda r, arg: r.resolve(arg[0]) == r.resolve(arg[1]),
    "Fn::Not": lambda r, arg: not r.resolve(arg[0]),
    "Fn::And": lambda r, arg: all(r.resolve(a) for a in arg),
    "Fn::Or": lambda r, arg: any(r.resolve(a) for a in arg),
    "Condition": lambda r, arg: r.condition(str(arg)),
}


def _parameter_values(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    declared = template.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise StackError(f"parameter override(s) {unknown}: expected one of {sorted(declared)}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in overrides:
            value = str(overrides[name])
            allowed = [str(v) for v in spec.get("AllowedValues", [])]
            if allowed and value not in allowed:
                raise StackError(f"parameter {name}={value!r}: expected one of {allowed}")
            values[name] = value
        elif "Default" in spec:
            values[name] = str(spec["Default"])
        else:
            raise StackError(f"parameter {name!r} has no Default; expected an override {name}=VALUE")
    return values


def find_function(template: Mapping[str, Any], function: str) -> str:
    """The logical id of a function named by logical id or by its code directory name.

    ``ScrapeFunction``, ``scrape`` and ``functions/scrape`` all name the scrape function.

    Raises
    ------
    StackError
        When no function (or more than one) matches.
    """
    functions = {
        lid: body for lid, body in template["Resources"].items() if body.get("Type") in _FUNCTION_TYPES
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
        Unknown function or parameter, a value outside AllowedValues, or an intrinsic
        function that cannot be evaluated locally.
    """
    logical_id = find_function(template, function)
    values = _parameter_values(template, parameters or {})
    planned = plan_stack(template, stack_name=stack_name, parameters=values, region=region,
                         account_id=account_id)
    refs: dict[str, Any] = {
        "AWS::StackName": stack_name,
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        **values,
    }
    for name, spec in (template.get("Parameters") or {}).items():
        kind = str(spec.get("Type", "String"))
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            refs[name] = [item.strip() for item in values[name].split(",")] if values[name] else []
    attributes: dict[str, Mapping[str, str]] = {}
    for resource in planned:
        refs[resource.logical_id] = resource.attributes["Ref"]
        attributes[resource.logical_id] = resource.attributes
    for lid, body in template["Resources"].items():
        if body.get("Type") in _FUNCTION_TYPES and lid not in refs:
            name = f"{stack_name}-{lid}"
            arn = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
            refs[lid] = name
            attributes[lid] = {"Ref": name, "Arn": arn}
    resolver = _Resolver(template, refs, attributes)

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
        (python_layers if build.startswith("python") else data_layers).append(content)

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
