"""Warm scrapes column by column give exactly what the per-sample pass gives, case by case."""
from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from promwatch.emf import EmfSettings, TargetInfo, TranslationMemory, serialize, translate
from promwatch.emf.translator import Translator
from promwatch.exposition.model import Exemplar, Family, Sample

counters_module = importlib.import_module("promwatch.emf.counters")
gauges_module = importlib.import_module("promwatch.emf.gauges")
histograms_module = importlib.import_module("promwatch.emf.histogram_families")
T0 = 1_700_000_000_000
MINUTE = 60_000
SETTINGS = EmfSettings()
ROUTES = [{"route": f"/r{i}", "method": "GET"} for i in range(6)]  # shared mappings, as the parser shares them

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


def _scrapes(
    third: Page, warm: bool, instance: str, every: Callable[[Page], None] | None = None
) -> list[tuple[list[str], dict[str, Any], list[Any]]]:
    """Three scrapes of one target (baselines carried over); with ``warm`` False each starts
    from a fresh memory (no layout recorded), so only the per-sample pass runs."""
    target = TargetInfo("job/a", instance)
    memory = TranslationMemory()
    pages = [page([v - 3 for v in STEADY], GAUGES, scale=0.5), page(STEADY, GAUGES), third]
    if every is not None:
        for families in pages:
            every(families)
    out, previous = [], None
    for at, families in enumerate(pages):
        result = translate(families, target=target, previous=previous, settings=SETTINGS, now_ms=T0 + at * MINUTE,
                           memory=memory if warm else TranslationMemory())
        previous = result.baselines
        assert previous is not None
        documents = [serialize(d).replace(instance, "X") for d in result.documents]
        drops = [(d.reason, d.name, {k: v.replace(instance, "X") for k, v in d.labels.items()}) for d in result.dropped]
        out.append((documents, previous.to_dict(), drops))
    return out


@pytest.mark.parametrize("case", sorted(THIRD_SCRAPES))
def test_column_path_equals_the_per_sample_pass(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # given three scrapes of a target, the third as the case has it
    taken: list[bool] = []
    for module, function in ((counters_module, "laid_out_counters"), (gauges_module, "laid_out_gauges"),
                             (histograms_module, "laid_out_histograms")):
        original = getattr(module, function)

        def counted(*args: Any, _original: Any = original) -> bool:
            went = _original(*args)
            taken.append(went is not False)
            return went

        monkeypatch.setattr(module, function, counted)
    third = THIRD_SCRAPES[case]
    # when they are translated with the layouts remembered, and with only the per-sample pass
    warm = _scrapes(third, warm=True, instance="warm:1")
    cold = _scrapes(third, warm=False, instance="cold:1")
    # then documents, baselines and drops are the same, scrape by scrape
    assert warm == cold
    # and the column path did run (the second scrape at least is laid out as the first)
    assert any(taken)


@pytest.mark.parametrize("case", sorted(EVERY_SCRAPE))
def test_unusual_layouts_come_out_as_the_per_sample_pass_makes_them(case: str) -> None:
    # given three scrapes of a target whose page has the same oddity every time
    third = page([v + 4 for v in STEADY], GAUGES, scale=3.0)
    # when they are translated with the layouts remembered, and with only the per-sample pass
    warm = _scrapes(third, warm=True, instance="warm:1", every=EVERY_SCRAPE[case])
    third = page([v + 4 for v in STEADY], GAUGES, scale=3.0)
    cold = _scrapes(third, warm=False, instance="cold:1", every=EVERY_SCRAPE[case])
    # then documents, baselines and drops are the same
    assert warm == cold


def test_the_second_scrape_goes_column_by_column(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a target scraped once
    memory = TranslationMemory()
    target = TargetInfo("job/a", "columns:1")
    first = translate(page(STEADY, GAUGES), target=target, previous=None, settings=SETTINGS, now_ms=T0,
                      memory=memory)
    # when its next scrape has the same layout, with the per-sample pass made to fail
    def no_sample_loop(_: Any, family: Family, *__: Any) -> None:
        raise AssertionError(f"{family.name} went sample by sample")

    cache = memory.targets[("job/a", "columns:1")]
    assert set(cache.layouts) == {("counter", "http_requests"), ("gauge", "http_inflight")}
    assert set(cache.histogram_layouts) == {("histogram", "http_latency_seconds")}
    original_counters = counters_module.laid_out_counters
    original_gauges = gauges_module.laid_out_gauges
    monkeypatch.setattr(Translator, "cumulative", no_sample_loop)
    monkeypatch.setattr(Translator, "gauge", no_sample_loop)
    monkeypatch.setattr(histograms_module, "collect_histograms", no_sample_loop)
    results: list[bool] = []
    monkeypatch.setattr(counters_module, "laid_out_counters",
                        lambda t, f, layout: results.append(original_counters(t, f, layout)) or results[-1])
    monkeypatch.setattr(gauges_module, "laid_out_gauges",
                        lambda t, f, layout: results.append(original_gauges(t, f, layout)) or results[-1])
    second = translate(page([v + 1.5 for v in STEADY], GAUGES, scale=2.0), target=target, previous=first.baselines,
                       settings=SETTINGS, now_ms=T0 + MINUTE, memory=memory)
    # then both families went column by column and every route has its increase and gauge
    assert results == [True, True]
    by_route: Mapping[str, Any] = {d["route"]: d for d in second.documents}
    assert [by_route[r["route"]]["http_requests_total"] for r in ROUTES] == [1.5] * 6
    assert [by_route[r["route"]]["http_inflight"] for r in ROUTES] == [1, 2, 3, 4, 5, 6]
    # and the histograms count the observations between the scrapes: (i+1)*3 more per route
    assert [by_route[r["route"]]["http_latency_seconds"]["Count"] for r in ROUTES] == [3, 6, 9, 12, 15, 18]
    assert second.baselines is not None
    assert second.baselines.counters['http_requests_total{method="GET",route="/r0"}'].value == 11.5
