"""A template's parameter values, checked as CloudFormation checks them before it deploys.

Pure: the parsed template and the overrides go in; the values come out only when every
constraint holds - the parameter's type, ``AllowedValues`` and ``AllowedPattern`` (for a
list parameter, each member), ``MinValue``/``MaxValue``, ``MinLength``/``MaxLength`` - and
every assertion of the template's ``Rules``, so the local stack refuses what a deploy would.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from promwatch_tools.local.errors import StackError

RULE_FUNCTIONS = ("Fn::And", "Fn::Or", "Fn::Not", "Fn::Equals", "Fn::Contains",
                  "Fn::EachMemberEquals", "Fn::EachMemberIn", "Ref")
"""The functions of a Rules section evaluated locally (the others look up the account)."""


def is_list_type(spec: Mapping[str, Any]) -> bool:
    """Whether a parameter declaration is a list (``CommaDelimitedList``, ``List<...>``)."""
    kind = str(spec.get("Type", "String"))
    return kind == "CommaDelimitedList" or kind.startswith("List<")


def _members(value: str) -> list[str]:
    # CloudFormation trims each member of a comma-delimited list.
    return [item.strip() for item in value.split(",")] if value else []


def _number(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise StackError(f"parameter {name}={value!r}: expected a number") from None


def _check(name: str, spec: Mapping[str, Any], value: str) -> None:
    kind = str(spec.get("Type", "String"))
    listed = is_list_type(spec)
    allowed = [str(v) for v in spec.get("AllowedValues", [])]
    pattern = spec.get("AllowedPattern")
    for member in _members(value) if listed else [value]:
        shown = f"parameter {name} member {member!r}" if listed else f"parameter {name}={member!r}"
        if allowed and member not in allowed:
            raise StackError(f"{shown}: expected one of {allowed}")
        if pattern is not None and not re.fullmatch(str(pattern), member):
            hint = spec.get("ConstraintDescription") or f"a value matching {pattern}"
            raise StackError(f"{shown}: expected {hint}")
        if "MinLength" in spec and len(member) < int(spec["MinLength"]):
            raise StackError(f"{shown}: expected at least {spec['MinLength']} characters")
        if "MaxLength" in spec and len(member) > int(spec["MaxLength"]):
            raise StackError(f"{shown}: expected at most {spec['MaxLength']} characters")
        if kind == "Number" or kind == "List<Number>":
            number = _number(name, member)
            if "MinValue" in spec and number < float(spec["MinValue"]):
                raise StackError(f"{shown}: expected at least {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                raise StackError(f"{shown}: expected at most {spec['MaxValue']}")


def parameter_refs(template: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """What ``Ref`` gives for each parameter: a list for list parameters, else the string."""
    declared = template.get("Parameters") or {}
    return {name: _members(value) if is_list_type(declared.get(name, {})) else value
            for name, value in values.items()}


def parameter_values(template: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every parameter's value - its override, else its Default - once all constraints hold.

    Parameters
    ----------
    template
        The parsed template.
    overrides
        ``--parameter-overrides``: parameter name -> value (lists comma-delimited).

    Raises
    ------
    StackError
        An unknown override, a parameter without a value, a value outside its constraints,
        or a rule whose assertion fails (named with its ``AssertDescription``).
    """
    declared: Mapping[str, Any] = template.get("Parameters") or {}
    given = dict(overrides or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise StackError(f"parameter override(s) {unknown}: expected one of {sorted(declared)}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in given:
            values[name] = str(given[name])
        elif "Default" in spec:
            values[name] = str(spec["Default"])
        else:
            raise StackError(f"parameter {name!r} has no Default; expected an override {name}=VALUE")
        _check(name, spec, values[name])
    check_rules(template, parameter_refs(template, values))
    return values


def check_rules(template: Mapping[str, Any], refs: Mapping[str, Any]) -> None:
    """Evaluate the template's ``Rules`` against the parameters' values (``refs``).

    Raises
    ------
    StackError
        The first rule (its condition holding) with an assertion that does not, or a rule
        using a function that cannot be evaluated locally.
    """
    for name, rule in (template.get("Rules") or {}).items():
        if "RuleCondition" in rule and not _rule_value(rule["RuleCondition"], refs, name):
            continue
        for assertion in rule.get("Assertions") or []:
            if not _rule_value(assertion["Assert"], refs, name):
                described = assertion.get("AssertDescription") or "its assertion does not hold"
                raise StackError(f"rule {name}: {described}")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _rule_value(expression: Any, refs: Mapping[str, Any], rule: str) -> Any:
    if isinstance(expression, list):
        return [_rule_value(item, refs, rule) for item in expression]
    if not isinstance(expression, dict) or len(expression) != 1:
        return expression
    ((key, argument),) = expression.items()
    if key == "Ref":
        if argument not in refs:
            raise StackError(f"rule {rule}: Ref {argument!r}; expected a parameter")
        return refs[argument]
    function = _RULE_FUNCTIONS.get(key)
    if function is None:
        raise StackError(f"rule {rule}: {key} is not evaluated locally; expected one of {', '.join(RULE_FUNCTIONS)}")
    return function([_rule_value(item, refs, rule) for item in _as_list(argument)])


# Each takes its evaluated arguments. A list parameter's empty value is [] here; CloudFormation
# gives [""]: either way every member of it equals "".
_RULE_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "Fn::And": all,
    "Fn::Or": any,
    "Fn::Not": lambda args: not args[0],
    "Fn::Equals": lambda args: args[0] == args[1],
    "Fn::Contains": lambda args: args[1] in _as_list(args[0]),
    "Fn::EachMemberEquals": lambda args: all(member == args[1] for member in _as_list(args[0])),
    "Fn::EachMemberIn": lambda args: all(member in _as_list(args[1]) for member in _as_list(args[0])),
}
