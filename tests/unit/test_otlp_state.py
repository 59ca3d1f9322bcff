"""Start times in the state record and what a cycle commits per output (deliver-then-commit)."""
from __future__ import annotations

from promwatch.scrape.work import PendingCommit
from promwatch.state import CounterBaseline, StartTime, TargetBaselines


def test_start_times_round_trip_and_are_absent_from_records_without_them() -> None:
    # given baselines with and without start times
    with_starts = TargetBaselines(5, {"c": CounterBaseline(1.0)}, starts={"s{a=\"1\"}": StartTime(4, 2.0)})
    without = TargetBaselines(5, {"c": CounterBaseline(1.0)})
    # then the EMF-only record has no "s" key (unchanged from before start times existed)
    assert "s" not in without.to_dict()
    assert without.to_json() == '{"v":1,"t":5,"c":{"c":[1.0]},"h":{}}'
    # and start times survive a round trip
    assert TargetBaselines.from_json(with_starts.to_json()) == with_starts


def test_a_record_stored_before_start_times_reads_with_none() -> None:
    # given a record stored before start times were kept, when read
    old = '{"v":1,"t":5,"c":{"c":[1.0]},"h":{}}'
    # then it reads with no start times
    assert TargetBaselines.from_json(old).starts == {}


PREVIOUS = TargetBaselines(1, {"c": CounterBaseline(1.0)}, starts={"k": StartTime(1, 1.0)})
NEW_EMF = TargetBaselines(2, {"c": CounterBaseline(5.0)})
NEW_STARTS = {"k": StartTime(1, 3.0)}


def test_each_part_is_committed_only_when_its_output_was_delivered() -> None:
    # given a pending commit with new EMF baselines and start times over previous ones
    commit = PendingCommit(NEW_EMF, 3, starts=NEW_STARTS, previous=PREVIOUS, scraped_at_ms=2)
    # when what to save is asked for with each delivery outcome, then each part is new only if its output was delivered:
    # both delivered: both new
    assert commit.to_save(True, True) == TargetBaselines(2, NEW_EMF.counters, starts=NEW_STARTS)
    # EMF lost: its old baselines kept (the next scrape covers the interval), start times new
    assert commit.to_save(False, True) == TargetBaselines(1, PREVIOUS.counters, starts=NEW_STARTS)
    # OTLP lost: EMF baselines new, the old start times kept
    assert commit.to_save(True, False) == TargetBaselines(2, NEW_EMF.counters, starts=PREVIOUS.starts)
    # both lost: nothing to save
    assert commit.to_save(False, False) is None


def test_an_emf_only_job_commits_exactly_the_translation_and_an_otlp_only_job_no_counters() -> None:
    # given an EMF-only job's commit, when delivered, then exactly the translation is saved
    assert PendingCommit(NEW_EMF, 3).to_save(True, True) is NEW_EMF
    # and when its EMF is lost, then nothing is saved
    assert PendingCommit(NEW_EMF, 3).to_save(False, True) is None
    # given an OTLP-only job's commit, when delivered, then only the start times are saved, no counters
    otlp_only = PendingCommit(None, 0, starts=NEW_STARTS, previous=None, scraped_at_ms=9)
    assert otlp_only.to_save(True, True) == TargetBaselines(9, starts=NEW_STARTS)


def test_points_the_endpoint_rejected_are_dropped_samples_of_the_cycle() -> None:
    from promwatch.scrape import CycleReport
    from promwatch.scrape.cyclemetrics import self_metric_documents

    # given a cycle whose OTLP endpoint rejected 3 points and never took one request
    report = CycleReport(otlp_rejected_points=3, undelivered_otlp_requests=1)
    documents = self_metric_documents(report, 1_700_000_000_000, None)
    # then both are self-metrics
    dropped = [d for d in documents if d.get("Reason") == "otlp_rejected"]
    assert [d["DroppedSamples"] for d in dropped] == [3]
    assert [d["UndeliveredOtlpRequests"] for d in documents if "UndeliveredOtlpRequests" in d] == [1]


def test_points_too_large_for_any_request_have_their_own_reason_not_otlp_rejected() -> None:
    from types import SimpleNamespace

    from promwatch.scrape import CycleReport
    from promwatch.scrape.cyclemetrics import self_metric_documents
    from promwatch.scrape.otlpoutputs import flush_otlp

    # given an OTLP sink that left 2 points out as larger than a request, and rejected none
    sink = SimpleNamespace(rejected_points=0, too_large_points=0, deadline=None)
    sink.flush = lambda: setattr(sink, "too_large_points", 2)
    report = CycleReport()
    # when the cycle flushes it
    flush_otlp([sink], None, report)  # type: ignore[list-item]
    # then they are counted as otlp_too_large, not as points the endpoint rejected
    documents = self_metric_documents(report, 1_700_000_000_000, None)
    reasons = {d["Reason"]: d["DroppedSamples"] for d in documents if "Reason" in d}
    assert reasons == {"otlp_too_large": 2}
    assert report.otlp_rejected_points == 0
