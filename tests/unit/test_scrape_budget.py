"""A target's series budget (``max_series``): admission, persistence of the admitted set, config."""
from __future__ import annotations

import copy
from typing import Any

import pytest
from promwatch.emf import EmfSettings, ScrapeStats, TargetInfo, problems, serialize, translate
from promwatch.exposition import parse
from promwatch.scrape import ConfigError, parse_config
from promwatch.scrape.budget import Admission, admit, series_digest
from promwatch.scrape.cyclemetrics import self_metric_documents
from promwatch.scrape.report import CycleReport, TargetReport
from promwatch.state import StateCorruptError, TargetBaselines

T0 = 1_700_000_000_000
TARGET = TargetInfo("app", "10.0.0.1:9100")
HOUR = 3600.0


def page(*series: str) -> str:
    """A text page of gauges ``temp{room="<s>"}``, one per ``series``, in that order."""
    return "# TYPE temp gauge\n" + "".join(f'temp{{room="{s}"}} 1\n' for s in series)


def scrape(text: str, budget: int, previous: dict[int, int] | None = None, *, now_ms: int = T0,
           settings: EmfSettings | None = None, retention: float = HOUR) -> Admission:
    translation = translate(parse(text), target=TARGET, previous=None, settings=settings or EmfSettings(),
                            now_ms=now_ms, scrape=ScrapeStats(up=True, duration_seconds=0.1))
    admission = admit(translation.documents, exempt=translation.scrape_documents, budget=budget,
                      previous=previous or {}, now_ms=now_ms, retention_seconds=retention)
    for document in admission.documents:
        assert problems(document) == [], document
    return admission


def rooms(admission: Admission) -> list[str]:
    return [d["room"] for d in admission.documents if "temp" in d]


def test_the_first_series_of_the_page_are_admitted_up_to_the_budget() -> None:
    # Given a page of 10 series and a budget of 4, when it is scraped for the first time,
    admission = scrape(page(*"abcdefghij"), budget=4)
    # then the first 4 are published, the other 6 withheld and counted, and up is published uncounted.
    assert rooms(admission) == ["a", "b", "c", "d"]
    assert (admission.active, admission.dropped, len(admission.admitted)) == (4, 6, 4)
    assert [d["up"] for d in admission.documents if "up" in d] == [1]


def test_series_already_flowing_keep_flowing_when_new_ones_arrive() -> None:
    # Given 4 series admitted by a first scrape (budget 4),
    first = scrape(page(*"abcd"), budget=4)
    # when the next page explodes: 200 new series, listed before the old ones,
    exploded = page(*(f"new{i}" for i in range(200)), *"abcd")
    second = scrape(exploded, budget=4, previous=first.admitted, now_ms=T0 + 60_000)
    # then the old 4 are still published, every new one is withheld, and the slots stay 4.
    assert rooms(second) == ["a", "b", "c", "d"]
    assert (second.active, second.dropped, len(second.admitted)) == (4, 200, 4)
    assert second.withheld == ["temp"]


def test_a_vanished_series_frees_its_slot_after_the_retention() -> None:
    # Given a, b admitted (budget 2, retention 1 h),
    first = scrape(page("a", "b"), budget=2)
    # when the target restarts with c, d in their place 10 minutes later, they are withheld (a, b keep their slots),
    soon = scrape(page("c", "d"), budget=2, previous=first.admitted, now_ms=T0 + 600_000)
    assert (rooms(soon), soon.dropped, len(soon.admitted)) == ([], 2, 2)
    # and once a, b have been missing for longer than the retention, c and d take their slots,
    later = scrape(page("c", "d"), budget=2, previous=soon.admitted, now_ms=T0 + 2 * 3_600_000)
    assert (rooms(later), later.dropped) == (["c", "d"], 0)
    # while a series back within the retention keeps its slot.
    back = scrape(page("b", "a"), budget=2, previous=first.admitted, now_ms=T0 + 600_000)
    assert rooms(back) == ["b", "a"]


def test_a_shrunk_budget_keeps_the_most_recently_seen_series() -> None:
    # Given a, b, c admitted and c alone seen again a minute later (a, b kept for the retention),
    first = scrape(page("a", "b", "c"), budget=3)
    second = scrape(page("c"), budget=3, previous=first.admitted, now_ms=T0 + 60_000)
    # when the budget shrinks to 1, then c keeps the slot and a, b come back withheld.
    third = scrape(page("a", "b", "c"), budget=1, previous=second.admitted, now_ms=T0 + 120_000)
    assert (rooms(third), third.dropped, len(third.admitted)) == (["c"], 2, 1)


def test_a_series_counts_once_per_cloudwatch_metric_it_makes() -> None:
    # Given a rollup publishing temp{room} under {job, instance, room}, {job}, {instance}, {room}:
    # the first series makes 4 CloudWatch metrics, each next one 2 more ({job} and {instance} are shared),
    settings = EmfSettings(dimension_rollup_option="SingleDimensionRollup")
    # when 3 series meet a budget of 6,
    admission = scrape(page("a", "b", "c"), budget=6, settings=settings)
    # then what CloudWatch bills is counted: a and b fit (4 + 2), c would make 8 and is withheld.
    assert rooms(admission) == ["a", "b"]
    assert (len(admission.admitted), admission.active, admission.dropped) == (6, 6, 1)


def test_series_left_out_by_metric_declarations_take_no_slot() -> None:
    # Given declarations that publish only "temp", and a page of 50 other series before it,
    settings = EmfSettings.model_validate(
        {"metric_declarations": [{"dimensions": [["room"]], "metric_name_selectors": ["^temp$"]}]})
    text = "# TYPE other gauge\n" + "".join(f'other{{i="{i}"}} 1\n' for i in range(50)) + page("a", "b")
    # when the budget is 2, then both declared series are published.
    admission = scrape(text, budget=2, settings=settings)
    assert rooms(admission) == ["a", "b"] and admission.dropped == 0


def test_a_partly_admitted_document_is_rebuilt_and_shared_members_are_left_alone() -> None:
    # Given two series sharing one label set (one document) and a budget of 1 plus an earlier document,
    text = "# TYPE x gauge\nx{room=\"a\"} 1\n# TYPE y gauge\ny{room=\"a\"} 2\n# TYPE temp gauge\ntemp{room=\"b\"} 3\n"
    translation = translate(parse(text), target=TARGET, previous=None, settings=EmfSettings(), now_ms=T0)
    before = copy.deepcopy(translation.documents)
    texts = [serialize(d) for d in translation.documents]
    # when admitted with a budget of 1,
    admission = admit(translation.documents, exempt=0, budget=1, previous={}, now_ms=T0, retention_seconds=HOUR)
    # then the document keeps x, loses y (its value and definition), and is valid EMF,
    [kept] = admission.documents
    assert kept["x"] == 1 and "y" not in kept and problems(kept) == []
    assert [m["Name"] for m in kept["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == ["x"]
    assert '"y"' not in serialize(kept)
    # and the translation's documents (whose _aws members may be shared) are unchanged.
    assert translation.documents == before and [serialize(d) for d in translation.documents] == texts
    assert admission.dropped == 2


def test_the_digest_ignores_dimension_order_and_tells_series_apart() -> None:
    # given the same dimensions in two orders, when digested, then the digests are equal
    assert series_digest("ns", "m", [("a", "1"), ("b", "2")]) == series_digest("ns", "m", [("b", "2"), ("a", "1")])
    # and series differing in namespace, name, a value or an extra dimension have distinct digests
    distinct = {series_digest("ns", "m", [("a", "1")]), series_digest("ns", "m", [("a", "2")]),
                series_digest("ns", "n", [("a", "1")]), series_digest("ns2", "m", [("a", "1")]),
                series_digest("ns", "m", [("a", "1"), ("b", "")])}
    assert len(distinct) == 5


def test_the_admitted_set_round_trips_through_the_baselines() -> None:
    # Given baselines with an admitted set: one series of the latest scrape, one missing for 5 minutes,
    admitted = {2**64 - 1: T0, 12345: T0 - 300_000}
    baselines = TargetBaselines(T0, admitted_series=admitted)
    # when serialized and read back, then the set is the same (seen to the second),
    assert TargetBaselines.from_json(baselines.to_json()).admitted_series == admitted
    # and baselines without a budget carry none.
    assert "\"s\"" not in TargetBaselines(T0).to_json()
    assert TargetBaselines.from_json(TargetBaselines(T0).to_json()).admitted_series is None


@pytest.mark.parametrize("member", [["AAAA", ""], ["not base64!", "AAAAAA=="], "AAAA", [1, 2]])
def test_a_malformed_admitted_set_is_a_corrupt_state(member: Any) -> None:
    # given a state whose admitted set is malformed, when read, then it is refused as corrupt
    with pytest.raises(StateCorruptError, match="expected the v1 layout"):
        TargetBaselines.from_dict({"v": 1, "t": T0, "a": member})


def test_max_series_is_a_whole_number_within_the_cap() -> None:
    def job(value: str) -> str:
        return f"scrape_configs:\n  - job_name: app\n    max_series: {value}\n    static_configs: [{{targets: [a:1]}}]\n"

    # given a job with max_series 500, and a job without it, when parsed, then they are 500 and 0
    assert parse_config(job("500")).job("app").max_series == 500
    assert parse_config("scrape_configs:\n  - job_name: app\n").job("app").max_series == 0
    # and a negative, too large or non-numeric max_series is refused
    for bad in ("-1", "100001", "true", "lots"):
        with pytest.raises(ConfigError, match="max_series"):
            parse_config(job(bad))


def test_the_cycle_reports_active_series_per_target_and_series_budget_drops() -> None:
    # Given a cycle of one budgeted job with two targets (40 and 100 series published, 7 values
    # withheld from the second) and one job without a budget,
    report = CycleReport(targets=[
        TargetReport("app", "a:1", "http://a:1/metrics", up=True, active_series=40),
        TargetReport("app", "b:1", "http://b:1/metrics", up=True, active_series=100, dropped={"series_budget": 7}),
        TargetReport("node", "n:1", "http://n:1/metrics", up=True),
    ])
    # when its self-metrics are written,
    documents = self_metric_documents(report, T0, None)
    for document in documents:
        assert problems(document) == []
    by_job = {d["job"]: d for d in documents if "TargetsScraped" in d}
    # then ActiveSeries carries one value per target (Maximum 100, Sum 140), only for the budgeted job,
    active = by_job["app"]["ActiveSeries"]
    assert (active["Max"], active["Sum"], active["Count"]) == (100, 140, 2)
    assert "ActiveSeries" not in by_job["node"]
    # and the withheld values are DroppedSamples{Reason=series_budget}.
    assert [d["DroppedSamples"] for d in documents if d.get("Reason") == "series_budget"] == [7]


def test_max_series_in_global_is_every_job_s_unless_it_sets_its_own() -> None:
    # given max_series 300 in global, one job setting 50 and one setting 0
    config = parse_config("global: {max_series: 300}\nscrape_configs:\n  - job_name: a\n"
                          "  - job_name: b\n    max_series: 50\n  - job_name: c\n    max_series: 0\n")
    # when parsed, then the job without its own takes the global one and the others keep theirs
    assert [config.job(name).max_series for name in "abc"] == [300, 50, 0]


def test_a_document_sharing_its_aws_member_is_rebuilt_without_touching_the_other() -> None:
    # Given two documents of one shape (x and y by room), whose _aws member is one shared object,
    text = '# TYPE x gauge\nx{room="a"} 1\nx{room="b"} 2\n# TYPE y gauge\ny{room="a"} 3\ny{room="b"} 4\n'
    translation = translate(parse(text), target=TARGET, previous=None, settings=EmfSettings(), now_ms=T0)
    first, second = translation.documents
    assert first["_aws"] is second["_aws"]
    # when a budget of 3 keeps the first whole and half of the second,
    admission = admit(translation.documents, exempt=0, budget=3, previous={}, now_ms=T0, retention_seconds=HOUR)
    # then the first still has both metrics, in its text too, and the second only x.
    kept_first, kept_second = admission.documents
    assert kept_first is first and [m["Name"] for m in first["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == ["x", "y"]
    assert '"y":3' in serialize(kept_first)
    assert [m["Name"] for m in kept_second["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == ["x"]
    assert "y" not in kept_second and problems(kept_second) == []


def test_the_warm_digest_cache_changes_nothing_but_the_work() -> None:
    # Given two scrapes of an exploding page, admitted with and without a digest cache,
    cache: dict[Any, dict[str, int]] = {}
    pages = [page(*"abc"), page(*(f"n{i}" for i in range(30)), *"abc")]
    with_cache, without = [], []
    for now, text in enumerate(pages):
        translation = translate(parse(text), target=TARGET, previous=None, settings=EmfSettings(), now_ms=T0 + now)
        for results, digests in ((with_cache, cache), (without, None)):
            previous = results[-1].admitted if results else {}
            results.append(admit(translation.documents, exempt=0, budget=10, previous=previous, now_ms=T0 + now,
                                 retention_seconds=HOUR, digests=digests))
    # then both decide alike, and the cache holds each dimension set met.
    assert [(r.admitted, r.active, r.dropped, r.documents) for r in with_cache] == [
        (r.admitted, r.active, r.dropped, r.documents) for r in without]
    assert len(cache) == 33
