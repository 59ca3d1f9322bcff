"""Roll-up aggregation: what CloudWatch computes from the EMF equals the statistics of the events.

The oracle below computes each rule's groups and values straight from the raw JSON lines,
independently of the library; CloudWatch's side is emulated from the EMF documents
(Values/Counts of every document for the same namespace, metric, dimensions and period are
pooled, as CloudWatch does).
"""
from __future__ import annotations

import gc
import json
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from promwatch.emf import problems, serialize, validate
from promwatch.insights import (
    MalformedEventError,
    Rollup,
    compile_rules,
    load_rules,
    parse_event,
    parse_rules,
    rollup_documents,
    rollup_output,
)
from promwatch.limits import EMF_MAX_VALUES_PER_METRIC

from tests.support.golden import Golden

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "insights"

Key = tuple[str, str, frozenset[tuple[str, str]], int]  # namespace, metric, dimensions, period start


def _lines(*names: str) -> list[str]:
    return [line for name in names for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


# --- the oracle: straight from the JSON, no library code ------------------------------------
_DERIVED: dict[str, Callable[[dict[str, Any]], float]] = {
    "cpu_request_utilization": lambda e: e["pod_cpu_usage_total"] / e["pod_cpu_request"] * 100,
    "memory_request_utilization": lambda e: e["pod_memory_working_set"] / e["pod_memory_request"] * 100,
}


def _workload(event: dict[str, Any]) -> str | None:
    owners = (event.get("kubernetes") or {}).get("pod_owners") or []
    if not owners:
        return None
    kind, name = owners[0]["owner_kind"], owners[0]["owner_name"]
    labels = event["kubernetes"].get("labels") or {}
    if kind == "ReplicaSet" and "pod-template-hash" in labels:
        return "Deployment/" + name.removesuffix("-" + labels["pod-template-hash"])
    if kind == "Job" and name.rsplit("-", 1)[-1].isdigit():
        return "CronJob/" + name.rsplit("-", 1)[0]
    return f"{kind}/{name}"


def _dimension(event: dict[str, Any], entry: str) -> str | None:
    if entry == "workload":
        return _workload(event)
    if entry.startswith("label:"):
        return ((event.get("kubernetes") or {}).get("labels") or {}).get(entry[6:])
    value = event.get(entry)
    return value if isinstance(value, str) else None


def _oracle(lines: Iterable[str], config: dict[str, Any]) -> dict[Key, Counter[float]]:
    out: dict[Key, Counter[float]] = defaultdict(Counter)
    for line in lines:
        try:
            event = json.loads(line)
            timestamp = int(event["Timestamp"] if "Timestamp" in event else event["_aws"]["Timestamp"])
            labels = (event.get("kubernetes") or {}).get("labels", {})
            if not event.get("Type") or not isinstance(labels, dict):
                continue
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # malformed: the library must skip these too
        for rule in config["rules"]:
            if event["Type"] not in rule["types"]:
                continue
            period = (rule.get("period") or config["period"]) * 1000
            dimensions = {}
            for entry in rule["group_by"]:
                value = _dimension(event, entry) or rule.get("missing_value")
                if value is None:
                    break
                dimensions[entry.removeprefix("label:")] = value
            else:
                for metric in rule["metrics"]:
                    try:
                        value = _DERIVED[metric](event) if metric in rule.get("derive", {}) else event[metric]
                    except (KeyError, ZeroDivisionError):
                        continue
                    if isinstance(value, bool) or not isinstance(value, int | float):
                        continue
                    key = (config["namespace"], metric, frozenset(dimensions.items()), timestamp - timestamp % period)
                    out[key][float(value)] += 1
    return dict(out)


# --- CloudWatch's side: pool Values/Counts per metric, dimensions and period ----------------
def _cloudwatch(documents: Iterable[dict[str, Any]], period_of: Callable[[str], int]) -> dict[Key, Counter[float]]:
    out: dict[Key, Counter[float]] = defaultdict(Counter)
    sums: dict[Key, float] = defaultdict(float)
    for document in documents:
        assert problems(document) == []
        aws = document["_aws"]
        for directive in aws["CloudWatchMetrics"]:
            (dimension_set,) = directive["Dimensions"]
            dimensions = frozenset((name, document[name]) for name in dimension_set)
            period = period_of(document["RollupRule"])
            for definition in directive["Metrics"]:
                value = document[definition["Name"]]
                key = (directive["Namespace"], definition["Name"], dimensions, aws["Timestamp"] // period * period)
                for v, c in zip(value["Values"], value["Counts"], strict=True):
                    out[key][float(v)] += c
                sums[key] += value["Sum"]
    for key, counter in out.items():  # the documents' own Sum fields add up to the pooled sum
        assert math.isclose(sums[key], math.fsum(v * c for v, c in counter.items()), rel_tol=1e-12)
    return dict(out)


def _statistics(counter: Counter[float]) -> dict[str, float]:
    values = sorted(counter.elements())
    n = len(values)

    def percentile(q: float) -> float:  # nearest rank
        return values[max(0, math.ceil(q / 100 * n) - 1)]

    total = math.fsum(values)
    return {"Sum": total, "Average": total / n, "Minimum": values[0], "Maximum": values[-1], "SampleCount": n,
            "p50": percentile(50), "p90": percentile(90), "p99": percentile(99)}


def _assert_same_statistics(expected: dict[Key, Counter[float]], actual: dict[Key, Counter[float]]) -> None:
    assert set(actual) == set(expected)
    for key, counter in expected.items():
        assert actual[key] == counter, key
        mine, theirs = _statistics(counter), _statistics(actual[key])
        for name, value in mine.items():
            assert math.isclose(theirs[name], value, rel_tol=1e-12), (key, name)


def _builtin() -> tuple[dict[str, Any], Callable[[str], int]]:
    config = yaml.safe_load((ROOT / "config" / "insights.yaml").read_text())
    periods = {rule["name"]: (rule.get("period") or config["period"]) * 1000 for rule in config["rules"]}
    return config, periods.__getitem__


def _documents(lines: Iterable[str]) -> list[dict[str, Any]]:
    rules = compile_rules(load_rules("builtin"))
    rollup = Rollup(rules)
    for line in lines:
        try:
            rollup.add(parse_event(line))
        except MalformedEventError:
            continue
    documents, dropped = rollup.documents()
    assert dropped == []
    return documents


def test_mixed_batch_statistics_equal_cloudwatch_view() -> None:
    # Given a batch mixing both layouts and malformed lines
    lines = _lines("v0_events.jsonl", "malformed_events.jsonl", "v1_events.jsonl")
    config, period_of = _builtin()
    # When rolled up with the builtin rules
    documents = _documents(lines)
    # Then per rule, group and period, CloudWatch's statistics equal the events' statistics
    expected = _oracle(lines, config)
    assert expected, "the oracle found data: the comparison is not vacuous"
    assert {key[1] for key in expected} >= {"pod_cpu_usage_total", "cpu_request_utilization", "node_cpu_utilization"}
    _assert_same_statistics(expected, _cloudwatch(documents, period_of))


def test_two_batches_merge_exactly() -> None:
    # Given the same events split into two batches (as two invocations would see them)
    lines = _lines("v0_events.jsonl", "v1_events.jsonl")
    random.Random(7).shuffle(lines)
    config, period_of = _builtin()
    first, second = lines[::2], lines[1::2]
    # When each batch is rolled up on its own
    documents = _documents(first) + _documents(second)
    # Then CloudWatch's pooled view of both equals the statistics over all events
    _assert_same_statistics(_oracle(lines, config), _cloudwatch(documents, period_of))


def test_sample_cluster_statistics_equal_cloudwatch_view() -> None:
    # Given an hour and a half of a sample cluster in both layouts (hourly periods included)
    from promwatch_tools.insights_sample import sample_cluster_events

    lines = [json.dumps(event) for event in sample_cluster_events("demo", 1_795_168_800_000 - 1_800_000, 90, seed=3)]
    config, period_of = _builtin()
    # Then the equality holds there too
    _assert_same_statistics(_oracle(lines, config), _cloudwatch(_documents(lines), period_of))


def test_many_distinct_values_split_into_documents_that_merge() -> None:
    # Given 250 pods of one namespace with distinct CPU values and some repeats in one minute
    config_text = "rules: [{name: ns, types: [Pod], group_by: [Namespace], metrics: [cpu]}]"
    rules = compile_rules(parse_rules(config_text))
    values = [float(i) + 0.5 for i in range(250)] + [3.5, 3.5, 7.5]
    events = [parse_event({"Type": "Pod", "Timestamp": str(1_795_168_800_000 + i), "Namespace": "web", "cpu": v})
              for i, v in enumerate(values)]
    # When rolled up
    documents = rollup_documents(events, rules)
    # Then the distribution is split over documents of at most 100 values each, merged counts kept
    assert len(documents) == 3
    assert all(len(document["cpu"]["Values"]) <= EMF_MAX_VALUES_PER_METRIC for document in documents)
    pooled: Counter[float] = Counter()
    for document in documents:
        assert problems(document) == []
        assert document["_aws"]["Timestamp"] == 1_795_168_800_000
        pooled.update(dict(zip(document["cpu"]["Values"], document["cpu"]["Counts"], strict=True)))
    assert pooled == Counter(values)


def test_rollups_merge_like_one_rollup() -> None:
    # Given both layouts' events and the builtin rules
    lines = _lines("v0_events.jsonl", "v1_events.jsonl")
    rules = compile_rules(load_rules("builtin"))
    # When rolled up whole, and in two halves merged together
    whole = Rollup(rules).add_all(parse_event(line) for line in lines)
    merged = Rollup(rules).add_all(parse_event(line) for line in lines[:9])
    merged.merge(Rollup(rules).add_all(parse_event(line) for line in lines[9:]))
    # Then the merged roll-up writes the same documents and counts the same events and unmatched ones
    assert merged.documents() == whole.documents()
    assert (merged.events, merged.unmatched) == (whole.events, whole.unmatched)


def test_events_without_a_group_value_are_left_out_of_that_rule_only() -> None:
    # Given a pod with no team label and no owner, under a team rule and a workload rule
    rules = compile_rules(parse_rules(
        "rules: [{name: team, types: [Pod], group_by: [label:team], metrics: [cpu]},"
        " {name: ns, types: [Pod], group_by: [Namespace], metrics: [cpu]},"
        " {name: wl, types: [Pod], group_by: [workload], metrics: [mem], missing_value: none}]"
    ))
    event = parse_event({"Type": "Pod", "Timestamp": "60000", "Namespace": "a", "cpu": 1, "mem": 2, "kubernetes": {}})
    documents = rollup_documents([event], rules)
    # Then only the namespace rule and the workload rule (with missing_value) publish
    assert [(d["RollupRule"], d.get("Namespace"), d.get("workload")) for d in documents] == [
        ("ns", "a", None), ("wl", None, "none")]


def test_group_values_are_escaped_as_label_values_and_blank_ones_drop_the_group() -> None:
    # Given events whose group value has a newline, a NUL, a backslash, a non-ASCII character,
    # a literal escape, or is blank
    rules = compile_rules(parse_rules("rules: [{name: ns, types: [Pod], group_by: [Namespace], metrics: [cpu]}]"))
    names = ["a\nb", "nul\x00", "C:\\x", "naïve", "na\\xefve", "   ", "ok"]
    rollup = Rollup(rules).add_all(
        parse_event({"Type": "Pod", "Timestamp": "0", "Namespace": name, "cpu": 1}) for name in names
    )
    documents, dropped = rollup.documents()
    # Then every document is valid EMF, the values escaped as the scrape path escapes label
    # values (no two groups merge), and only the blank group is dropped and handed back
    for document in documents:
        validate(document)
    assert sorted(document["Namespace"] for document in documents) == sorted(
        ["a\\nb", "nul\\x00", "C:\\\\x", "na\\xefve", "na\\\\xefve", "ok"])
    assert [(group.rule, group.values) for group in dropped] == [("ns", ("   ",))]


def test_the_core_logs_nothing_and_leaves_the_collector_alone_the_shell_reports_drops(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a roll-up with a blank group (dropped) and one that publishes
    rules = compile_rules(parse_rules("rules: [{name: ns, types: [Pod], group_by: [Namespace], metrics: [cpu]}]"))
    rollup = Rollup(rules).add_all(
        parse_event({"Type": "Pod", "Timestamp": "0", "Namespace": name, "cpu": 1}) for name in ("   ", "ok"))

    def collector_touched() -> None:
        raise AssertionError("the pure core paused the garbage collector")

    # When the pure core makes the documents, with the collector's switches booby-trapped
    with monkeypatch.context() as patched, caplog.at_level("WARNING"):
        patched.setattr(gc, "disable", collector_touched)
        patched.setattr(gc, "enable", collector_touched)
        documents, dropped = rollup.documents()
    # Then it logged nothing and handed the dropped group back
    assert caplog.records == [] and len(documents) == 1 and len(dropped) == 1
    # When the shell makes them, Then it reports the drop (one warning naming the rule) and counts it
    with caplog.at_level("WARNING"):
        assert rollup_output(rollup) == (documents, 1)
    assert [record.getMessage().split(":")[0] for record in caplog.records] == ["rule ns"]


def test_golden_emf_for_the_fixtures(golden: Golden) -> None:
    # Given the fixture events of both layouts, When rolled up with the builtin rules,
    # Then the EMF is exactly the reviewed golden file
    text = "".join(serialize(document) + "\n" for document in _documents(_lines("v0_events.jsonl", "v1_events.jsonl")))
    golden.check("insights/fixtures_builtin_rules.jsonl", text)


@pytest.mark.parametrize("layout", ["0", "1"])
def test_both_layouts_alone_give_the_same_rollup(layout: str) -> None:
    # Given the same sample cluster in one layout or the other, Then the EMF is identical
    from promwatch_tools.insights_sample import sample_cluster_events

    rules = compile_rules(load_rules("builtin"))
    mixed = rollup_documents((parse_event(e) for e in sample_cluster_events("demo", 0, 3, seed=1, layout="mixed")), rules)
    single = rollup_documents((parse_event(e) for e in sample_cluster_events("demo", 0, 3, seed=1, layout=layout)), rules)
    assert single == mixed


def test_an_integer_beyond_the_float_range_is_no_value() -> None:
    # Given pod events whose memory is a JSON integer no float can hold (found by fuzzing:
    # OverflowError from the roll-up), next to a derived metric that reads it
    rules = compile_rules(parse_rules("""
rules:
  - name: pods
    types: [Pod]
    group_by: [Namespace]
    metrics: [pod_memory_working_set, memory_mib]
    derive: {memory_mib: pod_memory_working_set / 1048576}
"""))
    huge = "1" + "0" * 400
    events = [
        parse_event(f'{{"Type": "Pod", "Timestamp": 1795168800000, "Namespace": "a", "pod_memory_working_set": {value}}}')
        for value in (huge, "-" + huge, "2097152")
    ]
    # When rolled up, Then only the usable value is counted, in both metrics, and the EMF is valid
    [document] = rollup_documents(events, rules)
    assert document["pod_memory_working_set"]["Values"] == [2097152]
    assert document["memory_mib"]["Values"] == [2]
    assert problems(document) == []
