"""Write template.yaml with other parameter defaults, as JSON, for linting a variant of the stack.

`sam validate` takes no parameter values, and cfn-lint checks defaults (against AllowedValues,
AllowedPattern and the Rules) that `--parameters` does not: `make validate` lints the stack as
deployed into a VPC through a copy whose defaults are those values. Runs with the SAM CLI's
Python (its translator parses CloudFormation's short tags).

    python scripts/template_variant.py template.yaml OUT.json Key=Value [Key=Value ...]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from samtranslator.yaml_helper import yaml_parse


def variant(template_text: str, defaults: dict[str, str]) -> dict[str, object]:
    """The parsed template with ``defaults`` as its parameters' Default values."""
    template = yaml_parse(template_text)
    declared = template.get("Parameters") or {}
    unknown = sorted(set(defaults) - set(declared))
    if unknown:
        raise SystemExit(f"template_variant: unknown parameter(s) {unknown}; expected some of {sorted(declared)}")
    for name, value in defaults.items():
        declared[name]["Default"] = value
    return template


def main(argv: list[str]) -> int:
    """Write the variant of ``argv[0]`` with the ``Key=Value`` defaults to ``argv[1]``."""
    if len(argv) < 2 or not all("=" in pair for pair in argv[2:]):
        raise SystemExit(__doc__)
    source, target = Path(argv[0]), Path(argv[1])
    defaults = dict(pair.split("=", 1) for pair in argv[2:])
    template = variant(source.read_text(), defaults)
    # CodeUri and ContentUri stay relative: the copy is linted, never built.
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(template, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
