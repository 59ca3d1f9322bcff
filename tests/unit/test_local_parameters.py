"""promwatch_tools.local.parameters: parameter values checked as CloudFormation checks them, Rules included."""
from __future__ import annotations

from typing import Any

import pytest
from promwatch_tools.local.errors import StackError
from promwatch_tools.local.parameters import check_rules, parameter_refs, parameter_values

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Mode": {"Type": "String", "Default": "plain", "AllowedValues": ["plain", "fancy"]},
        "Name": {"Type": "String", "Default": "abc", "AllowedPattern": "^[a-z]+$", "MinLength": 2, "MaxLength": 5,
                 "ConstraintDescription": "lower-case letters"},
        "Count": {"Type": "Number", "Default": 3, "MinValue": 1, "MaxValue": 10},
        "Zones": {"Type": "CommaDelimitedList", "Default": "", "AllowedPattern": "^(zone-[0-9])?$"},
        "Kinds": {"Type": "CommaDelimitedList", "Default": "", "AllowedValues": ["", "x", "y"]},
    },
    "Rules": {
        "FancyNeedsZones": {
            "RuleCondition": {"Fn::Equals": [{"Ref": "Mode"}, "fancy"]},
            "Assertions": [{"Assert": {"Fn::Not": [{"Fn::EachMemberEquals": [{"Ref": "Zones"}, ""]}]},
                            "AssertDescription": "Mode=fancy needs Zones"}],
        },
        "KindsAreKnown": {
            "Assertions": [{"Assert": {"Fn::Or": [
                {"Fn::EachMemberIn": [{"Ref": "Kinds"}, ["x", "y"]]},
                {"Fn::Contains": [["plain"], {"Ref": "Mode"}]},
            ]}}],
        },
    },
}


def test_defaults_and_overrides_give_the_values_and_refs() -> None:
    # given overrides for a string and a list parameter
    values = parameter_values(TEMPLATE, {"Mode": "fancy", "Zones": "zone-1, zone-2", "Kinds": "x"})
    # then the others take their defaults, and Ref gives list parameters as lists
    assert values == {"Mode": "fancy", "Name": "abc", "Count": "3", "Zones": "zone-1, zone-2", "Kinds": "x"}
    refs = parameter_refs(TEMPLATE, values)
    assert (refs["Zones"], refs["Kinds"], refs["Name"]) == (["zone-1", "zone-2"], ["x"], "abc")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Name": "ABC"}, r"parameter Name='ABC': expected lower-case letters"),
        ({"Name": "a"}, r"parameter Name='a': expected at least 2 characters"),
        ({"Name": "abcdef"}, r"parameter Name='abcdef': expected at most 5 characters"),
        ({"Count": "0"}, r"parameter Count='0': expected at least 1"),
        ({"Count": "11"}, r"parameter Count='11': expected at most 10"),
        ({"Count": "many"}, r"parameter Count='many': expected a number"),
        ({"Zones": "zone-1,zone-x"}, r"parameter Zones member 'zone-x': expected a value matching"),
        ({"Kinds": "x,z"}, r"parameter Kinds member 'z': expected one of \['', 'x', 'y'\]"),
        ({"Other": "1"}, r"parameter override\(s\) \['Other'\]"),
    ],
    ids=["pattern", "min-length", "max-length", "min-value", "max-value", "not-a-number", "list-pattern",
         "list-allowed", "unknown"],
)
def test_a_value_outside_its_constraints_is_refused_by_name(overrides: dict[str, str], message: str) -> None:
    # when a value breaks a constraint CloudFormation enforces, then it is refused, naming it
    with pytest.raises(StackError, match=message):
        parameter_values(TEMPLATE, overrides)


def test_a_rule_whose_condition_holds_must_have_its_assertions_hold() -> None:
    # given Mode=fancy, whose rule asks for zones
    with pytest.raises(StackError, match="rule FancyNeedsZones: Mode=fancy needs Zones"):
        parameter_values(TEMPLATE, {"Mode": "fancy"})
    # then with zones it passes, and without the rule's condition nothing is asked
    assert parameter_values(TEMPLATE, {"Mode": "fancy", "Zones": "zone-1"})["Mode"] == "fancy"
    # and an assertion without a description is named by its rule
    with pytest.raises(StackError, match="rule KindsAreKnown: its assertion does not hold"):
        check_rules(TEMPLATE, {"Mode": "fancy", "Zones": ["zone-1"], "Kinds": ["z"]})


def test_rule_functions_that_need_an_account_are_named() -> None:
    # given a rule looking up an EC2 attribute of a parameter (needs AWS)
    template = {"Rules": {"Lookup": {"Assertions": [{"Assert": {"Fn::ValueOf": ["Vpc", "Tags"]}}]}}}
    # then it is refused by name rather than guessed
    with pytest.raises(StackError, match="rule Lookup: Fn::ValueOf is not evaluated locally"):
        check_rules(template, {})
