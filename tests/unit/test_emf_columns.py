"""Families translated column by column give exactly what the per-sample pass gives.

The column path serves plain families: default dimensions and scrape-time timestamps. A target
with ``honor_timestamps`` sends every family sample by sample, and on pages without exposed
timestamps it must publish exactly what a target without it publishes: that is the reference.
Pages built to hit each case, then random pages over several scrapes, are translated three
ways -- column by column with the target's layouts remembered ("warm") or started over before
each scrape ("cold": a new settings object starts the target's cache over), and sample by
sample -- through the public :func:`promwatch.emf.translate` only, and their documents,
baselines and drops compared.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promwatch.emf import EmfSettings, TargetInfo, TranslationMemory, serialize, translate
from promwatch.exposition.model import Exemplar, Family, Sample

T0 = 1_700_000_000_000
MINUTE = 60_000
SETTINGS = EmfSettings()
ROUTES = [{"route": f"/r{i}", "method": "GET"} for i in range(6)]  # shared mappings, as the parser shares them

NEW_ROUTE = {"route": "/new", "method": "GET"}
BOUNDS = ("0.1", "1", "+Inf")
BUCKET_LABELS = [[{**route, "le": le} for le in BOUNDS] for route in ROUTES]  # shared too

Page = list[Family]


def latency(scale: float) -> Family:
    """A histogram per route: cumulative counts (i, 2i, 3i) * scale, sum 0.4 * count."""
    samples = []
    for i, route in enumerate(ROUTES):
        counts = [(i + 1) * (b + 1) * scale for b in range(len(BOUNDS))]
        samples += [Sample("http_latency_seconds_bucket", BUCKET_LABELS[i][b], c) for b, c in enumerate(counts)]
        samples += [Sample("http_latency_seconds_sum", route, counts[-1] * 0.4),
                    Sample("http_latency_seconds_count", route, counts[-1])]
    return Family("http_latency_seconds", "histogram", "", "seconds", samples)


def page(
    requests: list[float], inflight: list[float], extra: Callable[[Page], None] | None = None, scale: float = 1.0
) -> Page:
    """A histogram, a counter and a gauge family over the same routes (so they share groups), then ``extra``."""
    families = [
        latency(scale),
        Family("http_requests", "counter", "", "",
               [Sample("http_requests_total", ROUTES[i], v) for i, v in enumerate(requests)]),
        Family("http_inflight", "gauge", "", "",
               [Sample("http_inflight", ROUTES[i], v) for i, v in enumerate(inflight)]),
    ]
    if extra is not None:
        extra(families)
    return families


STEADY = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
GAUGES = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def _replace_sample(family_at: int, sample_at: int, **changes: Any) -> Callable[[Page], None]:
    def change(families: Page) -> None:
        samples = families[family_at].samples
        samples[sample_at] = samples[sample_at]._replace(**changes)
    return change


def _append(family: Family) -> Callable[[Page], None]:
    return lambda families: families.append(family)


THIRD_SCRAPES: dict[str, Page] = {
    "steady, integral increases": page([v + 5 for v in STEADY], [g * 2 for g in GAUGES], scale=3.0),
    "a histogram reset": page(STEADY, GAUGES, _replace_sample(0, 4, value=0.0), scale=2.0),
    "a NaN bucket": page(STEADY, GAUGES, _replace_sample(0, 7, value=math.nan), scale=2.0),
    "an infinite _sum": page(STEADY, GAUGES, _replace_sample(0, 3, value=math.inf), scale=2.0),
    "an exemplar on a bucket": page(STEADY, GAUGES, _replace_sample(
        0, 1, exemplar=Exemplar({"trace_id": "abc"}, 0.05)), scale=2.0),
    "a _created sample": page(STEADY, GAUGES, lambda f: f[0].samples.append(
        Sample("http_latency_seconds_created", ROUTES[0], 1.0)), scale=2.0),
    "buckets reordered": page(STEADY, GAUGES, lambda f: f[0].samples.__setitem__(
        slice(0, 3), f[0].samples[2::-1]), scale=2.0),
    "fractional increases (binary noise tidied)": page([v + 0.1 + 0.2 for v in STEADY], [g / 3 for g in GAUGES]),
    "a counter reset": page([11.0, 22.0, 3.0, 44.0, 55.0, 66.0], GAUGES),
    "no increase at all": page(STEADY, GAUGES),
    "a NaN gauge": page(STEADY, [1.0, math.nan, 3.0, 4.0, 5.0, 6.0]),
    "an infinite counter": page([10.0, math.inf, 30.0, 40.0, 50.0, 60.0], GAUGES),
    "an exemplar": page(STEADY, GAUGES, _replace_sample(0, 1, exemplar=Exemplar({"trace_id": "abc"}, 0.5))),
    "a new series": page(STEADY, GAUGES, lambda f: f[0].samples.append(
        Sample("http_requests_total", {"route": "/new", "method": "GET"}, 3.0))),
    "a series gone": page(STEADY[:5], GAUGES[:5]),
    "series reordered": page(STEADY, GAUGES, lambda f: f[0].samples.reverse()),
    "mappings rebuilt with the same content": page(STEADY, GAUGES, lambda f: f.__setitem__(0, f[0]._replace(
        samples=[s._replace(labels=dict(s.labels)) for s in f[0].samples]))),
    # another family's sample under the same name and labels, ahead of the laid-out family
    "a metric already in a group": page(STEADY, GAUGES, lambda f: f.insert(0, Family(
        "other", "unknown", "", "", [Sample("http_inflight", ROUTES[2], 9.0)]))),
    "a baseline already taken": page(STEADY, GAUGES, lambda f: f.insert(0, Family(
        "other", "counter", "", "", [Sample("http_requests_total", ROUTES[3], 70.0)]))),
    # a new series whose name and labels another family took first, only recording its baseline
    # (its _created is older than the previous scrape): the laid-out family's is a duplicate
    "a new series whose baseline is already taken without an increase": page(STEADY, GAUGES, lambda f: (
        f.insert(0, Family("other", "counter", "", "", [Sample("http_requests_total", NEW_ROUTE, 70.0),
                                                        Sample("other_created", NEW_ROUTE, 1.0)])),
        f[2].samples.append(Sample("http_requests_total", NEW_ROUTE, 3.0)),
    )),
    "a label value that cannot be a dimension": page(STEADY, GAUGES, _replace_sample(
        1, 4, labels={"route": " ", "method": "GET"})),
}


def _histogram_samples(change: Callable[[list[Sample]], None]) -> Callable[[Page], None]:
    return lambda families: change(families[0].samples)


def _first_bound(le: str) -> Callable[[list[Sample]], None]:
    def change(samples: list[Sample]) -> None:
        samples[0] = samples[0]._replace(labels={**samples[0].labels, "le": le})
    return change


# Layouts the column path must not take (or must take as the per-sample pass reads them), on every scrape
EVERY_SCRAPE: dict[str, Callable[[Page], None]] = {
    "buckets in descending order": _histogram_samples(lambda s: s.__setitem__(slice(0, 3), s[2::-1])),
    "_sum ahead of the buckets": _histogram_samples(lambda s: s.insert(0, s.pop(3))),
    "a series without _count": _histogram_samples(lambda s: s.pop(4)),
    "a series without +Inf": _histogram_samples(lambda s: s.pop(2)),
    "a bucket repeated": _histogram_samples(lambda s: s.insert(1, s[1])),
    "a -Inf bucket": _histogram_samples(_first_bound("-Inf")),
    "a bound that is not a number": _histogram_samples(_first_bound("fast")),
    "a _created sample": _histogram_samples(lambda s: s.append(Sample("http_latency_seconds_created", ROUTES[0], 1.0))),
    "a counter repeated": lambda f: f[1].samples.append(f[1].samples[2]),
}


Outcome = list[tuple[list[str], dict[str, Any], list[Any]]]
WAYS = ("warm", "cold", "per-sample")


def _translate_all(pages: list[Page], way: str, emf_settings: EmfSettings = SETTINGS) -> Outcome:
    """Scrapes of one target (baselines carried over) translated one of the :data:`WAYS`; each
    scrape's serialized documents, baselines and drops."""
    instance = f"{way}:1"
    target = TargetInfo("job/a", instance, honor_timestamps=way == "per-sample")
    out, previous = [], None
    memory = TranslationMemory()  # a target cache of its own
    for at, families in enumerate(pages):
        if way == "cold":
            memory = TranslationMemory()  # no layout recorded: each scrape reads its layouts anew
        result = translate(families, target=target, previous=previous, settings=emf_settings,
                           now_ms=T0 + at * MINUTE, memory=memory)
        previous = result.baselines
        assert previous is not None
        documents = [serialize(d).replace(instance, "X") for d in result.documents]
        drops = [(d.reason, d.name, {k: v.replace(instance, "X") for k, v in d.labels.items()}) for d in result.dropped]
        out.append((documents, previous.to_dict(), drops))
    return out


def _three_scrapes(third: Page, every: Callable[[Page], None] | None = None) -> list[Page]:
    pages = [page([v - 3 for v in STEADY], GAUGES, scale=0.5), page(STEADY, GAUGES), third]
    if every is not None:
        for families in pages:
            every(families)
    return pages


@pytest.mark.parametrize("case", sorted(THIRD_SCRAPES))
def test_column_path_equals_the_per_sample_pass(case: str) -> None:
    # given three scrapes of a target, the third as the case has it
    pages = _three_scrapes(THIRD_SCRAPES[case])
    # when they are translated column by column (layouts remembered, or read on the spot) and sample by sample
    warm, cold, reference = (_translate_all(pages, way) for way in WAYS)
    # then documents, baselines and drops are the same, scrape by scrape
    assert warm == reference
    assert cold == reference


@pytest.mark.parametrize("case", sorted(EVERY_SCRAPE))
def test_unusual_layouts_come_out_as_the_per_sample_pass_makes_them(case: str) -> None:
    # given three scrapes of a target whose page has the same oddity every time
    pages = _three_scrapes(page([v + 4 for v in STEADY], GAUGES, scale=3.0), EVERY_SCRAPE[case])
    # when they are translated column by column and sample by sample
    warm, cold, reference = (_translate_all(pages, way) for way in WAYS)
    # then documents, baselines and drops are the same
    assert warm == reference
    assert cold == reference


def test_a_scrape_records_the_layouts_the_next_one_goes_by() -> None:
    # given a target scraped once
    memory = TranslationMemory()
    target = TargetInfo("job/a", "columns:1")
    first = translate(page(STEADY, GAUGES), target=target, previous=None, settings=SETTINGS, now_ms=T0,
                      memory=memory)
    # then the layouts of its counter, gauge and histogram families are remembered (the column path's input)
    cache = memory.targets[("job/a", "columns:1")]
    assert set(cache.layouts) == {("counter", "http_requests"), ("gauge", "http_inflight")}
    assert set(cache.histogram_layouts) == {("histogram", "http_latency_seconds")}
    # when its next scrape has the same layout
    second = translate(page([v + 1.5 for v in STEADY], GAUGES, scale=2.0), target=target, previous=first.baselines,
                       settings=SETTINGS, now_ms=T0 + MINUTE, memory=memory)
    # then every route has its increase and gauge
    by_route: Mapping[str, Any] = {d["route"]: d for d in second.documents}
    assert [by_route[r["route"]]["http_requests_total"] for r in ROUTES] == [1.5] * 6
    assert [by_route[r["route"]]["http_inflight"] for r in ROUTES] == [1, 2, 3, 4, 5, 6]
    # and the histograms count the observations between the scrapes: (i+1)*3 more per route
    assert [by_route[r["route"]]["http_latency_seconds"]["Count"] for r in ROUTES] == [3, 6, 9, 12, 15, 18]
    assert second.baselines is not None
    assert second.baselines.counters['http_requests_total{method="GET",route="/r0"}'].value == 11.5


# --- random pages ------------------------------------------------------------------------
# Values that hit the rules' branches: integral and fractional increases (binary noise), resets,
# zero, NaN and +-Inf now and then.
FINITE = st.sampled_from([0.0, 1.0, 2.0, 2.5, 3.0, 10.0, 10.1, 10.3, 1e3, 1e15 + 0.5])
VALUES = st.integers(0, 29).flatmap(lambda n: st.sampled_from([math.nan, math.inf, -math.inf]) if n == 0 else FINITE)
EXEMPLAR = Exemplar({"trace_id": "abc"}, 0.5)
BAD_ROUTE = {"route": " ", "method": "GET"}  # a value that cannot be a dimension
# _created: long ago (before the previous scrape), or within the window being translated
CREATED = st.sampled_from([1.0, (T0 + MINUTE) / 1000.0, (T0 + 2 * MINUTE + 1) / 1000.0, math.nan])


def _labels(draw: st.DrawFn, route: int) -> Mapping[str, str]:
    """The route's shared mapping (as the parser hands out), now and then a copy or a bad value."""
    kind = draw(st.sampled_from(["shared"] * 8 + ["copy", "bad"]))
    return ROUTES[route] if kind == "shared" else dict(ROUTES[route]) if kind == "copy" else BAD_ROUTE


ORDERS = st.one_of(
    st.just(list(range(len(ROUTES)))),
    st.permutations(range(len(ROUTES))),
    st.lists(st.integers(0, len(ROUTES) - 1), max_size=len(ROUTES) + 1),  # some routes, maybe one repeated
)


@st.composite
def random_pages(draw: st.DrawFn) -> list[Page]:
    """Two to four scrapes of a counter (sometimes with _created), a gauge, a histogram and a
    summary over the routes; each family mostly keeps its series and their order from scrape to
    scrape (so the layouts of the previous scrape are used), and now and then another family
    takes a counter's series first (with or without an increase)."""
    orders = [draw(ORDERS) for _ in range(4)]
    pages = []
    for _ in range(draw(st.integers(2, 4))):
        orders = [order if draw(st.integers(0, 3)) else draw(ORDERS) for order in orders]
        counter_order, gauge_order, histogram_order, summary_order = orders
        counter = []
        for route in counter_order:
            exemplar = EXEMPLAR if draw(st.integers(0, 19)) == 0 else None
            counter.append(Sample("http_requests_total", _labels(draw, route), draw(VALUES), None, exemplar))
        if draw(st.integers(0, 4)) == 0:
            counter.append(Sample("http_requests_created", ROUTES[0], draw(CREATED)))
        gauge = [Sample("http_inflight", _labels(draw, route), draw(VALUES)) for route in gauge_order]
        histogram = []
        for route in histogram_order:
            counts = [draw(FINITE) for _ in BOUNDS]
            cumulative = [sum(counts[: b + 1]) for b in range(len(BOUNDS))]
            if draw(st.integers(0, 19)) == 0:
                cumulative[draw(st.integers(0, len(BOUNDS) - 1))] = math.nan
            histogram += [Sample("http_latency_seconds_bucket", BUCKET_LABELS[route][b], c)
                          for b, c in enumerate(cumulative)]
            histogram += [Sample("http_latency_seconds_sum", ROUTES[route], draw(VALUES)),
                          Sample("http_latency_seconds_count", ROUTES[route], cumulative[-1])]
        summary = []
        for route in summary_order:
            summary += [Sample("rpc_seconds", {**ROUTES[route], "quantile": "0.5"}, draw(VALUES)),
                        Sample("rpc_seconds_sum", ROUTES[route], draw(VALUES)),
                        Sample("rpc_seconds_count", ROUTES[route], draw(FINITE))]
        families = [
            Family("http_latency_seconds", "histogram", "", "seconds", histogram),
            Family("http_requests", "counter", "", "", counter),
            Family("http_inflight", "gauge", "", "", gauge),
            Family("rpc_seconds", "summary", "", "", summary),
        ]
        if draw(st.integers(0, 9)) == 0:
            route = ROUTES[draw(st.integers(0, len(ROUTES) - 1))]
            other = [Sample("http_requests_total", route, draw(FINITE))]
            if draw(st.booleans()):
                other.append(Sample("other_created", route, draw(CREATED)))
            families.insert(0, Family("other", "counter", "", "", other))
        pages.append(families)
    return pages


@settings(max_examples=150, deadline=None)
@given(random_pages(), st.sampled_from([EmfSettings(), EmfSettings(log_only_labels=["method"])]))
def test_random_pages_come_out_alike_column_by_column_and_sample_by_sample(
    pages: list[Page], emf_settings: EmfSettings
) -> None:
    # given scrapes of a target with random series, values, resets, new and gone series, NaN,
    # exemplars, repeats and _created, the first one a first scrape
    # when they are translated column by column (layouts remembered, or read on the spot) and sample by sample
    warm, cold, reference = (_translate_all(pages, way, emf_settings) for way in WAYS)
    # then documents, baselines and drops are the same, scrape by scrape
    assert warm == reference
    assert cold == reference
