"""CloudFormation intrinsic functions evaluated locally, against names the caller supplies.

One evaluator serves both :func:`promwatch_tools.local.stack.plan_stack` (which fills the resource
names in as it plans) and :func:`promwatch_tools.local.template.function_spec` (which knows them
all up front). Pure: parameters, conditions and resource names go in, values come out.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from promwatch_tools.local.errors import StackError

NO_VALUE = object()
"""What ``Ref: AWS::NoValue`` evaluates to; list members and map keys with it are dropped."""


def pseudo_parameters(stack_name: str, region: str, account_id: str) -> dict[str, str]:
    """The pseudo parameters a local stack stands in for (``AWS::StackName``, ...)."""
    return {
        "AWS::StackName": stack_name,
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }


class IntrinsicResolver:
    """Evaluates intrinsic functions against parameters, conditions and resource names.

    Parameters
    ----------
    template
        The parsed template; each of its ``Conditions`` is evaluated once, when first asked
        for (a condition may name one declared after it, as CloudFormation allows), and its
        ``Mappings`` serve ``Fn::FindInMap``.
    refs
        What ``Ref`` gives: pseudo parameters, parameters, resources' physical names. The
        resolver keeps this mapping (not a copy), so a caller may add resources as it goes.
    attributes
        What ``Fn::GetAtt`` gives: logical id -> attribute -> value (kept, like ``refs``).
    """

    def __init__(self, template: Mapping[str, Any], refs: dict[str, Any],
                 attributes: dict[str, Mapping[str, str]]) -> None:
        self.template = template
        self.refs = refs
        self.attributes = attributes
        self.conditions: dict[str, bool] = {}
        self._evaluating: list[str] = []
        for name in template.get("Conditions") or {}:
            self.condition(name)

    def ref(self, name: str) -> Any:
        """What ``Ref: name`` gives (:data:`NO_VALUE` for ``AWS::NoValue``)."""
        if name == "AWS::NoValue":
            return NO_VALUE
        if name not in self.refs:
            raise StackError(f"Ref {name!r}: expected a parameter, a pseudo parameter or a resource")
        return self.refs[name]

    def get_att(self, logical_id: str, attribute: str) -> str:
        """What ``Fn::GetAtt: [logical_id, attribute]`` gives."""
        try:
            return self.attributes[logical_id][attribute]
        except KeyError:
            raise StackError(
                f"GetAtt {logical_id}.{attribute}: expected a resource with that attribute"
            ) from None

    def condition(self, name: str) -> bool:
        """The value of a condition declared under ``Conditions``."""
        if name in self.conditions:
            return self.conditions[name]
        declared = self.template.get("Conditions") or {}
        if name not in declared:
            raise StackError(f"condition {name!r}: not declared under Conditions")
        if name in self._evaluating:
            cycle = " -> ".join([*self._evaluating[self._evaluating.index(name):], name])
            raise StackError(f"condition {name!r}: refers to itself ({cycle}); expected conditions without a cycle")
        self._evaluating.append(name)
        try:
            self.conditions[name] = bool(self.resolve(declared[name]))
        finally:
            self._evaluating.pop()
        return self.conditions[name]

    def sub(self, text: str, variables: Mapping[str, Any]) -> str:
        """``Fn::Sub``: ``${Name}``, ``${Res.Attr}`` and literal ``${!Text}`` in ``text``."""
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
        """``value`` with its intrinsic functions evaluated; ``AWS::NoValue`` members dropped.

        Raises
        ------
        StackError
            An unknown reference or condition, or an ``Fn::`` function not evaluated locally.
        """
        if isinstance(value, list):
            return [v for v in map(self.resolve, value) if v is not NO_VALUE]
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
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}


def _fn_sub(resolver: IntrinsicResolver, arg: Any) -> str:
    if isinstance(arg, list):
        return resolver.sub(str(arg[0]), {k: resolver.resolve(v) for k, v in arg[1].items()})
    return resolver.sub(str(arg), {})


def _fn_if(resolver: IntrinsicResolver, arg: Any) -> Any:
    name, when_true, when_false = arg
    return resolver.resolve(when_true if resolver.condition(str(name)) else when_false)


def _fn_find_in_map(resolver: IntrinsicResolver, arg: Any) -> Any:
    name, top, second = (resolver.resolve(a) for a in arg)
    try:
        return resolver.template["Mappings"][name][top][second]
    except KeyError:
        raise StackError(f"FindInMap {[name, top, second]!r}: no such entry under Mappings") from None


_INTRINSICS: dict[str, Callable[[IntrinsicResolver, Any], Any]] = {
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
