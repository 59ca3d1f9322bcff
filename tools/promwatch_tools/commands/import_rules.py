"""``promwatch import rules FILE... [--target otlp|emf|both] [--namespace NS | --config FILE]
[--actions SEVERITY=ARN]... [--actions-file FILE]``: Prometheus alerting rules as a
dashboards/alarms spec on stdout, one stderr line per rule or setting changed or left out.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from promwatch.errors import PromwatchError

TARGET_HELP = ("otlp: a PromQL alarm per rule (jobs whose output is OTLP); emf: a metric alarm where one means the "
               "same (promwatch's default EMF output; the default); both")


def add_rules_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``import rules``' options."""
    from promwatch_tools.importers.rules import TARGETS

    parser.add_argument("files", metavar="FILE", nargs="+", help="a Prometheus rule file (groups: [...])")
    parser.add_argument("--target", choices=TARGETS, default="emf", help=TARGET_HELP)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--namespace", metavar="NS", help="the CloudWatch namespace of every rule's metrics (emf)")
    where.add_argument("--config", metavar="FILE",
                       help="the promwatch scrape config: a rule's job=\"...\" matcher picks the job's namespace and "
                            "dimension sets (a config of one job serves every rule)")
    parser.add_argument("--actions", metavar="SEVERITY=ARN", action="append", default=[],
                        help="the SNS topic notified when an alert with that severity label fires (repeatable)")
    parser.add_argument("--actions-file", metavar="FILE",
                        help="a YAML mapping of severity -> SNS topic ARN (or a list of them)")


def parse_actions(pairs: list[str], mapping: Any) -> dict[str, tuple[str, ...]]:
    """Severity -> ARNs from ``--actions`` pairs and an ``--actions-file`` document (pairs add to it).

    Raises
    ------
    ImportInputError
        When a pair is not ``SEVERITY=ARN`` or the document is not a mapping of strings or lists.
    """
    from promwatch_tools.importers import ImportInputError

    actions: dict[str, list[str]] = {}
    if mapping is not None:
        if not isinstance(mapping, Mapping):
            raise ImportInputError(f"the actions file holds {type(mapping).__name__}; expected a mapping of severity to "
                             "SNS topic ARN(s)")
        for severity, arns in mapping.items():
            listed = arns if isinstance(arns, list) else [arns]
            if not all(isinstance(a, str) for a in listed):
                raise ImportInputError(f"severity {severity!r}: expected an SNS topic ARN or a list of them, got {arns!r}")
            actions.setdefault(str(severity), []).extend(listed)
    for pair in pairs:
        severity, equals, arn = pair.partition("=")
        if not equals or not severity or not arn:
            raise ImportInputError(f"--actions {pair!r}: expected SEVERITY=ARN (critical=arn:aws:sns:...:oncall)")
        actions.setdefault(severity, []).append(arn)
    return {severity: tuple(arns) for severity, arns in actions.items()}


def spec_problems(text: str) -> str | None:
    """The spec loader's errors for a spec file's text (loaded as a directory of that one file), or None."""
    from promwatch.reconcile import load_spec

    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "imported.yaml").write_text(text, encoding="utf-8")
        try:
            load_spec(Path(directory))
        except PromwatchError as exc:
            return str(exc)
    return None


def dump_spec(spec: Mapping[str, Any]) -> str:
    """``spec`` as YAML, multi-line strings (queries, descriptions) as ``|`` blocks as they were written."""
    import yaml

    class BlockDumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:  # alarms sharing actions are written out in full
            return True

    def text(dumper: yaml.SafeDumper, value: str) -> Any:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    BlockDumper.add_representer(str, text)
    return str(yaml.dump(dict(spec), Dumper=BlockDumper, sort_keys=False, allow_unicode=True, width=120))


def _load(path: str) -> Any:
    """The YAML document of ``path``.

    Raises
    ------
    ImportInputError
        Naming the file, when it is not a YAML document within the loader's limits.
    OSError
        When it cannot be read.
    """
    from promwatch.safeload import DocumentError, load_yaml, read_text

    from promwatch_tools.importers import ImportInputError

    try:
        return load_yaml(read_text(path))
    except DocumentError as exc:
        raise ImportInputError(f"{path}: {exc}") from None


def run_rules(args: argparse.Namespace) -> int:
    """Import rules; exit status as ``promwatch import``."""
    from promwatch.safeload import read_text
    from promwatch.scrape import ConfigError, config_directory, parse_config

    from promwatch_tools.importers import ImportInputError
    from promwatch_tools.importers.rules import RulesOptions, import_rules

    try:
        documents = [(path, _load(path)) for path in args.files]
        mapping = _load(args.actions_file) if args.actions_file else None
        jobs = ({job.job_name: job.emf for job in parse_config(read_text(args.config), origin=args.config,
                                                               config_dir=config_directory(args.config)).scrape_configs}
                if args.config else {})
        actions = parse_actions(args.actions, mapping)
        result = import_rules(documents, RulesOptions(target=args.target, namespace=args.namespace, jobs=jobs,
                                                      actions=actions))
    except OSError as exc:
        print(f"promwatch import: cannot read {exc.filename!r}: {exc.strerror}", file=sys.stderr)
        return 1
    except (ConfigError, ImportInputError) as exc:
        print(f"promwatch import: {exc}", file=sys.stderr)
        return 1
    text = dump_spec(result.config)
    for finding in result.findings:
        print(finding.line(), file=sys.stderr)
    problems = spec_problems(text)
    if problems:
        print(f"promwatch import: the imported spec does not load: {problems}", file=sys.stderr)
        return 1
    sys.stdout.write(f"# promwatch dashboards/alarms spec imported from {', '.join(args.files)} "
                     f"(rules, target {args.target})\n{text}")
    return 0
