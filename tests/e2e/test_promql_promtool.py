"""promwatch's PromQL checker agrees with Prometheus' parser (Debian's promtool) on a corpus.

Each query becomes the expression of a recording rule in a file of its own, which
``promtool check rules`` accepts or refuses; the checker must decide the same way.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from promwatch.reconcile import templates
from promwatch.reconcile.errors import PromQLError
from promwatch.reconcile.promql import result_type

from tests.support.promql_corpus import INVALID, VALID, mutants
from tests.support.system_deps import require_binary


def _promtool_accepts(promtool: str, query: str, directory: Path) -> bool:
    rules = directory / "rules.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "corpus", "rules": [
        {"record": "corpus:query", "expr": query}]}]}), encoding="utf-8")
    done = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
    return done.returncode == 0


def _checker_accepts(query: str) -> bool:
    try:
        result_type(query)
    except PromQLError:
        return False
    return True


@pytest.mark.parametrize("query", VALID)
def test_a_valid_query_is_accepted_by_both(query: str, tmp_path: Path) -> None:
    # given promtool, and a query Prometheus parses
    promtool = require_binary("promtool", package="prometheus")
    # when both judge it / then both accept it
    assert (_promtool_accepts(promtool, query, tmp_path), _checker_accepts(query)) == (True, True)


@pytest.mark.parametrize("query", INVALID)
def test_an_invalid_query_is_refused_by_both(query: str, tmp_path: Path) -> None:
    # given promtool, and a query Prometheus refuses
    promtool = require_binary("promtool", package="prometheus")
    # when both judge it / then both refuse it
    assert (_promtool_accepts(promtool, query, tmp_path), _checker_accepts(query)) == (False, False)


def _promtool_verdicts(promtool: str, queries: list[str], directory: Path) -> dict[str, bool]:
    """One promtool run over a rule file per query: query -> accepted."""
    paths = []
    for index, query in enumerate(queries):
        path = directory / f"{index}.yml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "corpus", "rules": [
            {"record": "corpus:query", "expr": query}]}]}), encoding="utf-8")
        paths.append(path)
    done = subprocess.run([promtool, "check", "rules", *map(str, paths)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    verdicts: dict[str, bool] = {}
    checking = None
    for line in done.stdout.splitlines():
        if line.startswith("Checking "):
            checking = line.removeprefix("Checking ").strip()
        elif checking is not None and line.strip().startswith(("SUCCESS", "FAILED")):
            verdicts[queries[int(Path(checking).stem)]] = line.strip().startswith("SUCCESS")
            checking = None
    return verdicts


def test_mutated_queries_are_judged_as_promtool_judges_them(tmp_path: Path) -> None:
    # given a thousand queries made from the corpus by random edits (a fixed seed: the same every run)
    promtool = require_binary("promtool", package="prometheus")
    queries = mutants(seed=12, count=1000)
    # when promtool and the checker judge each
    verdicts = _promtool_verdicts(promtool, queries, tmp_path)
    assert len(verdicts) == len(queries)
    disagreements = [(query, accepted) for query, accepted in verdicts.items() if accepted != _checker_accepts(query)]
    # then they agree on every one (and the edits made both kinds)
    assert disagreements == []
    assert 100 < sum(verdicts.values()) < len(queries) - 100


def test_the_promql_packs_queries_parse_in_prometheus(tmp_path: Path) -> None:
    # given every query the PromQL packs generate, with the quoted-name selectors CloudWatch
    # reads (Prometheus 3) spelled as Prometheus 2.42's promtool reads them: name{label="..."}
    promtool = require_binary("promtool", package="prometheus")
    families = [("requests", "counter"), ("latency_seconds", "histogram"), ("queue", "gauge")]
    widgets = [*templates.nodejs_dashboard("api", query_language="promql").widgets,
               *templates.node_exporter_dashboard("node", query_language="promql").widgets,
               *templates.dashboard_for_families("api", families, query_language="promql")[0].widgets]
    queries = [q.query for w in widgets for q in w.promql]
    up = templates.up_alarm("api", query_language="promql").promql
    assert up is not None
    queries.append(up.query)
    as_prometheus_2 = [_unquoted_names(q) for q in queries]
    # when promtool checks them / then it accepts every one
    refused = [q for q in as_prometheus_2 if not _promtool_accepts(promtool, q, tmp_path)]
    assert refused == []
    assert len(queries) > 20


def _unquoted_names(query: str) -> str:
    """``{"name", "@resource.service.name"="api"}`` -> ``name{service_name="api"}`` (Prometheus 2 syntax)."""
    query = query.replace('"@resource.service.name"=', "service_name=")
    query = query.replace('"@resource.service.namespace"=', "service_namespace=")
    return re.sub(r'\{"([A-Za-z_:][A-Za-z0-9_:]*)", ', r"\1{", query)
