"""Property: whatever the events and however they are batched, CloudWatch's pooled view of the
EMF equals the multiset of the events' values per group and period."""
from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from promwatch.emf import problems
from promwatch.insights import compile_rules, parse_event, parse_rules, rollup_documents

RULES = compile_rules(parse_rules("""
period: 60
rules:
  - {name: ns, types: [Pod], group_by: [Namespace], metrics: [cpu]}
  - name: ns_ratio
    types: [Pod]
    group_by: [Namespace, label:team]
    derive: {ratio: cpu / req * 100}
    metrics: [ratio]
    missing_value: none
"""))

events = st.lists(
    st.fixed_dictionaries({
        "Type": st.sampled_from(["Pod", "Node"]),
        "Timestamp": st.integers(1_795_168_800_000, 1_795_168_800_000 + 3 * 60_000 - 1).map(str),
        "Namespace": st.sampled_from(["a", "b"]),
        "cpu": st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 5), st.sampled_from([0.1, 0.25])),
        "req": st.sampled_from([0, 100, 250.5]),
        "kubernetes": st.fixed_dictionaries({"labels": st.dictionaries(st.just("team"), st.sampled_from(["x", "y"]))}),
    }),
    max_size=400,
)


def _expected(batch: list[dict[str, object]]) -> Counter[tuple[object, ...]]:
    out: Counter[tuple[object, ...]] = Counter()
    for e in batch:
        if e["Type"] != "Pod":
            continue
        period = int(str(e["Timestamp"])) // 60_000 * 60_000
        out[("ns", (("Namespace", e["Namespace"]),), period, "cpu", float(e["cpu"]))] += 1  # type: ignore[arg-type]
        if e["req"]:
            team = e["kubernetes"]["labels"].get("team", "none")  # type: ignore[index]
            ratio = float(e["cpu"]) / float(e["req"]) * 100  # type: ignore[arg-type]
            out[("ns_ratio", (("Namespace", e["Namespace"]), ("team", team)), period, "ratio", ratio)] += 1
    return out


def _pooled(documents: list[dict[str, object]]) -> Counter[tuple[object, ...]]:
    out: Counter[tuple[object, ...]] = Counter()
    for d in documents:
        assert problems(d) == []
        directive = d["_aws"]["CloudWatchMetrics"][0]  # type: ignore[index]
        dims = tuple((name, d[name]) for name in directive["Dimensions"][0])
        for definition in directive["Metrics"]:
            value = d[definition["Name"]]
            for v, c in zip(value["Values"], value["Counts"], strict=True):  # type: ignore[index]
                out[(d["RollupRule"], dims, d["_aws"]["Timestamp"], definition["Name"], float(v))] += c  # type: ignore[index]
    return out


@settings(max_examples=60, deadline=None)
@given(events, st.integers(0, 400))
def test_any_batches_pool_to_the_events_values(batch: list[dict[str, object]], cut: int) -> None:
    # Given any events, split into two batches at any point
    first, second = batch[:cut], batch[cut:]
    # When each batch is rolled up on its own
    documents = rollup_documents((parse_event(e) for e in first), RULES)
    documents += rollup_documents((parse_event(e) for e in second), RULES)
    # Then pooling Values/Counts per rule, group, period and metric gives back every event's value
    assert _pooled(documents) == _expected(batch)
