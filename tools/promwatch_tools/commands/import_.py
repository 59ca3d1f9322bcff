"""``promwatch import adot|prometheus FILE`` and ``promwatch import rules FILE...``: carry an
existing setup over.

The promwatch scrape config (``adot``, ``prometheus``) or dashboards/alarms spec (``rules``)
goes to stdout (YAML); stderr gets one line per setting or rule that was changed or could not
be carried over, ``key.path: what and why``. Exit status: 0 imported (the output loads with the
scrape config or spec loader), 1 a file cannot be imported (for rules: ``promtool check rules``
would refuse it) or the result does not load (the loader's errors on stderr), 2 usage.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

SOURCES = {
    "adot": "an ADOT / OpenTelemetry Collector config (prometheus receiver + awsemf exporter)",
    "prometheus": "a prometheus.yml (global, scrape_configs)",
    "rules": "Prometheus alerting rule files, as a dashboards/alarms spec",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the subcommand's options."""
    sub = parser.add_subparsers(dest="source", metavar="SOURCE", required=True)
    for name, summary in SOURCES.items():
        source = sub.add_parser(name, help=summary, description=f"import {summary}")
        if name == "rules":
            from promwatch_tools.commands.import_rules import add_rules_arguments

            add_rules_arguments(source)
            continue
        source.add_argument("file", metavar="FILE", help="the file to import")
        source.add_argument("--eks-cluster", metavar="NAME",
                            help="the EKS cluster that in-cluster kubernetes_sd_configs (no api_server) discovered in")
    adot = sub.choices["adot"]
    from promwatch_tools.importers.awsemf import OTEL_SCOPE_NAME

    adot.add_argument("--otel-scope-name", default=OTEL_SCOPE_NAME, metavar="NAME",
                      help="awsemf's OTelLib dimension value: the prometheus receiver's scope name (older "
                           "collectors: otelcol/prometheusreceiver)")


def run(args: argparse.Namespace) -> int:
    """Import; see the module docstring for the exit status."""
    import yaml
    from promwatch.safeload import DocumentError, load_yaml, read_text
    from promwatch.scrape import ConfigError, parse_config

    from promwatch_tools.importers import ImportInputError, ImportResult, import_adot, import_prometheus

    if args.source == "rules":
        from promwatch_tools.commands.import_rules import run_rules

        return run_rules(args)
    try:
        data: Any = load_yaml(read_text(args.file))
    except OSError as exc:
        print(f"promwatch import: cannot read {args.file!r}: {exc.strerror}", file=sys.stderr)
        return 1
    except DocumentError as exc:
        print(f"promwatch import: {args.file}: {exc}", file=sys.stderr)
        return 1
    try:
        result: ImportResult = (
            import_adot(data, os.environ, otel_scope_name=args.otel_scope_name, eks_cluster=args.eks_cluster)
            if args.source == "adot" else import_prometheus(data, eks_cluster=args.eks_cluster))
    except ImportInputError as exc:
        print(f"promwatch import: {args.file}: {exc}", file=sys.stderr)
        return 1
    text = yaml.safe_dump(result.config, sort_keys=False, allow_unicode=True)
    for finding in result.findings:
        print(finding.line(), file=sys.stderr)
    try:
        parse_config(text, origin=f"<imported from {args.file}>")
    except ConfigError as exc:
        print(f"promwatch import: the imported config does not load: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(f"# promwatch scrape config imported from {args.file} ({args.source})\n{text}")
    return 0
