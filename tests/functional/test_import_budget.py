"""Import budgets, each checked in a fresh interpreter: a handler module's INIT loads nothing
that only the tests or the demo use; AWS clients come without boto3; ``promwatch parse`` comes
without boto3, pydantic or the other domains.

Each handler module is imported in a fresh interpreter with the environment template.yaml
gives its function and tracing on, as Lambda's INIT does (``probe_import``). The timing half
of the issue's criterion (handler import <= 2.5x ``import boto3``) is measured by
benchmarks/bench_coldstart.py, not asserted here: timed assertions are flaky by nature.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from promwatch_tools.local.invoke import LocalFunction, probe_import
from promwatch_tools.local.stack import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

FORBIDDEN_PACKAGES = frozenset({
    # the CLI, the demo, the emulator: never deployed (the layer ships promwatch alone)
    "promwatch_tools",
    # test-only
    "moto", "pytest", "_pytest", "hypothesis", "responses", "werkzeug", "flask",
    # peers the benchmarks compare against
    "prometheus_client", "aws_embedded_metrics",
    # plotting / demo / tooling
    "matplotlib", "numpy", "pandas", "PIL", "jinja2", "ruamel", "cfnlint", "samcli", "mypy_boto3_builder",
    # the CLI's state file: the functions keep baselines in DynamoDB
    "sqlite3",
})
"""Top-level packages that must never load on a handler path."""
UNUSED_BY_FUNCTION = {
    # Only the scrape function speaks HTTP through requests (X-Ray patches just what is used)
    # and translates scrapes (the EMF writer comes without the translation).
    "InsightsFunction": frozenset({"requests", "promwatch.scrape", "promwatch.emf.translate", "promwatch.exposition"}),
    # The PromQL checker (and RE2 with it) loads when a spec first holds PromQL, not at INIT.
    "ReconcileFunction": frozenset({"requests", "promwatch.scrape", "promwatch.emf.translate", "promwatch.exposition",
                                    "promwatch.reconcile.promql", "re2"}),
}
"""Modules a function never uses, so its INIT must not load them."""


def _functions() -> list[str]:
    resources = load_template(TEMPLATE)["Resources"]
    return sorted(lid for lid, body in resources.items() if body["Type"] == "AWS::Serverless::Function")


def test_the_probe_sees_what_an_import_loads() -> None:
    # given a module that pulls in pytest's internals
    probe = probe_import("pytest")
    # then the probe reports it, so an empty finding below means something
    assert "_pytest" in {name.split(".")[0] for name in probe.modules}


@pytest.mark.parametrize("function", _functions())
def test_handler_import_loads_no_test_demo_or_peer_module(function: str) -> None:
    # given the function's handler module, its sys.path and its template environment
    local = LocalFunction(function, template=TEMPLATE)
    # when it is imported in a fresh interpreter, as Lambda's INIT does
    loaded = probe_import(local).modules
    # then nothing of the tools, the tests or the benchmark peers was loaded
    packages = {name.split(".")[0] for name in loaded}
    assert not packages & FORBIDDEN_PACKAGES, sorted(packages & FORBIDDEN_PACKAGES)
    # and the handler did load the library, from the layer
    assert "promwatch" in packages


@pytest.mark.parametrize("function", sorted(UNUSED_BY_FUNCTION))
def test_handler_import_loads_nothing_its_function_never_uses(function: str) -> None:
    # given a function that never scrapes
    local = LocalFunction(function, template=TEMPLATE)
    # when its handler module is imported as Lambda's INIT does
    loaded = probe_import(local).modules
    # then none of the modules only other functions use were loaded
    assert not UNUSED_BY_FUNCTION[function] & loaded, sorted(UNUSED_BY_FUNCTION[function] & loaded)


def test_aws_client_is_botocores_and_does_not_load_boto3() -> None:
    # given a fresh interpreter
    code = (
        "import sys\n"
        "from promwatch.coldstart import aws_client\n"
        "client = aws_client('dynamodb', region_name='eu-west-1')\n"
        "print(type(client).__module__, client.meta.region_name, 'boto3' in sys.modules)\n"
    )
    # when it makes a client
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # then it is botocore's client for the region, and boto3 was never imported
    assert done.stdout.split() == ["botocore.client", "eu-west-1", "False"]


def test_cli_import_stays_light() -> None:
    # The conformance suite spawns one process per case: `promwatch parse` must not pull in
    # boto3, pydantic or the other domains.
    # given a fresh interpreter, when the CLI and the parse command are imported
    code = (
        "import sys; from promwatch_tools.cli import main; import promwatch_tools.commands.parse;"
        "heavy = [m for m in ('boto3', 'botocore', 'pydantic', 'requests', 'yaml', 'promwatch.emf', 'promwatch.scrape')"
        " if m in sys.modules]; print(heavy)"
    )
    # then none of the heavy modules are loaded
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("function", _functions())
def test_handler_import_loads_no_protobuf_until_a_job_sends_otlp(function: str) -> None:
    # given the function's handler module (the scrape function reads configs that may send OTLP)
    local = LocalFunction(function, template=TEMPLATE)
    # when it is imported as Lambda's INIT does
    loaded = probe_import(local).modules
    # then neither the protobuf runtime nor the OTLP messages were loaded: they come with the
    # first OTLP job (promwatch.otlp's lazy names), not with the INIT
    packages = {name.split(".")[0] for name in loaded}
    assert "opentelemetry" not in packages
    assert not {name for name in loaded if name.startswith("google.protobuf")}
    assert not {"promwatch.otlp.mapping", "promwatch.otlp.sink", "promwatch.otlp.encode"} & loaded
