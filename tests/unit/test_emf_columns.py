"""Warm scrapes column by column give exactly what the per-sample pass gives, case by case."""
from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from promwatch.emf import EmfSettings, TargetInfo, serialize, translate
from promwatch.exposition.model import Exemplar, Family, Sample

# The package exports the function translate under the module's name.
translate_module = importlib.import_module("promwatch.emf.translate")
T0 = 1_700_000_000_000
MINUTE = 60_000
SETTINGS = EmfSettings()
ROUTES = [{"route": f"/r{i}", "method": "GET"} for i in range(6)]  # shared mappings, as the parser shares them

Page = list[Family]


def page(requests: list[float], inflight: list[float], extra: Callable[[Page], None] | None = None) -> Page:
    """A counter and a gauge family over the same routes (so they share groups), then ``extra``."""
    families = [
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
    "steady, integral increases": page([v + 5 for v in STEADY], [g * 2 for g in GAUGES]),
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


def _scrapes(third: Page, warm: bool, instance: str) -> list[tuple[list[str], dict[str, Any], list[Any]]]:
    """Three scrapes of one target (baselines carried over); with ``warm`` False the recorded
    layouts are forgotten before each, so only the per-sample pass runs."""
    target = TargetInfo("job/a", instance)
    pages = [page([v - 3 for v in STEADY], GAUGES), page(STEADY, GAUGES), third]
    out, previous = [], None
    for at, families in enumerate(pages):
        if not warm:
            translate_module._TARGET_CACHES.clear()
        result = translate(families, target=target, previous=previous, settings=SETTINGS, now_ms=T0 + at * MINUTE)
        previous = result.baselines
        assert previous is not None
        documents = [serialize(d).replace(instance, "X") for d in result.documents]
        out.append((documents, previous.to_dict(), [(d.reason, d.name, dict(d.labels)) for d in result.dropped]))
    return out


@pytest.mark.parametrize("case", sorted(THIRD_SCRAPES))
def test_column_path_equals_the_per_sample_pass(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # given three scrapes of a target, the third as the case has it
    taken: list[bool] = []
    for method in ("laid_out_counters", "laid_out_gauges"):
        original = getattr(translate_module._Translator, method)

        def counted(self: Any, *args: Any, _original: Any = original) -> bool:
            went = _original(self, *args)
            taken.append(went)
            return bool(went)

        monkeypatch.setattr(translate_module._Translator, method, counted)
    third = THIRD_SCRAPES[case]
    # when they are translated with the layouts remembered, and with only the per-sample pass
    warm = _scrapes(third, warm=True, instance="warm:1")
    cold = _scrapes(third, warm=False, instance="cold:1")
    # then documents, baselines and drops are the same, scrape by scrape
    assert warm == cold
    # and the column path did run (the second scrape at least is laid out as the first)
    assert any(taken)


def test_the_second_scrape_goes_column_by_column(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a target scraped once
    translate_module._TARGET_CACHES.clear()
    target = TargetInfo("job/a", "columns:1")
    first = translate(page(STEADY, GAUGES), target=target, previous=None, settings=SETTINGS, now_ms=T0)
    # when its next scrape has the same layout, with the per-sample pass made to fail
    def no_sample_loop(self: Any, family: Family, *_: Any) -> None:
        raise AssertionError(f"{family.name} went sample by sample")

    layouts = translate_module._TARGET_CACHES[("job/a", "columns:1")].layouts
    assert set(layouts) == {("counter", "http_requests"), ("gauge", "http_inflight")}
    original_counters = translate_module._Translator.laid_out_counters
    original_gauges = translate_module._Translator.laid_out_gauges
    monkeypatch.setattr(translate_module._Translator, "cumulative", no_sample_loop)
    monkeypatch.setattr(translate_module._Translator, "gauge", no_sample_loop)
    results: list[bool] = []
    monkeypatch.setattr(translate_module._Translator, "laid_out_counters",
                        lambda self, f, layout: results.append(original_counters(self, f, layout)) or results[-1])
    monkeypatch.setattr(translate_module._Translator, "laid_out_gauges",
                        lambda self, f, layout: results.append(original_gauges(self, f, layout)) or results[-1])
    second = translate(page([v + 1.5 for v in STEADY], GAUGES), target=target, previous=first.baselines,
                       settings=SETTINGS, now_ms=T0 + MINUTE)
    # then both families went column by column and every route has its increase and gauge
    assert results == [True, True]
    by_route: Mapping[str, Any] = {d["route"]: d for d in second.documents}
    assert [by_route[r["route"]]["http_requests_total"] for r in ROUTES] == [1.5] * 6
    assert [by_route[r["route"]]["http_inflight"] for r in ROUTES] == [1, 2, 3, 4, 5, 6]
    assert second.baselines is not None
    assert second.baselines.counters['http_requests_total{method="GET",route="/r0"}'].value == 11.5
