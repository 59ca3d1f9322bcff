"""The ``emf:`` section: awsemfexporter-compatible, validated with messages that say what is allowed."""
from __future__ import annotations

from typing import Any

import pytest
from promwatch.emf import EmfSettings, LabelMatcher, MetricDeclaration
from promwatch.emf.naming import MetricNaming
from promwatch.emf.targetcache import TranslationMemory
from pydantic import ValidationError


def test_defaults() -> None:
    # given no settings, when defaults are taken
    settings = EmfSettings()
    # then there is no namespace, no declarations, no rollup, 60s resolution and stdout output
    assert settings.namespace is None and settings.metric_declarations == []
    assert settings.dimension_rollup_option == "NoDimensionRollup"
    assert settings.storage_resolution == 60 and settings.output.type == "stdout"


def test_awsemfexporter_declarations_are_accepted() -> None:
    # given an ADOT collector's metric_declarations block (with 30 dimensions, not 10)
    settings = EmfSettings.model_validate({
        "namespace": "prod/task-service",
        "dimension_rollup_option": "ZeroAndSingleDimensionRollup",
        "metric_declarations": [{
            "dimensions": [[f"l{i}" for i in range(30)], ["job"]],
            "metric_name_selectors": ["^http_", "_total$"],
            "label_matchers": [{"label_names": ["method", "status"], "regex": "^GET;5"}],
        }],
        "output": {"type": "logs", "log_group_name": "/promwatch/metrics", "log_stream_name": "scrape"},
    })
    declaration = settings.metric_declarations[0]
    # then selection follows the exporter (unanchored search, labels joined by ";")
    assert declaration.selects("http_requests", {"method": "GET", "status": "503"})
    assert not declaration.selects("http_requests", {"method": "GET", "status": "200"})
    assert declaration.selects("jobs_total", {"method": "GET", "status": "500"})
    assert not declaration.selects("jobs", {"method": "GET", "status": "500"})


def test_label_matcher_joins_missing_labels_as_empty() -> None:
    # given a matcher joining labels a and b with |
    matcher = LabelMatcher(label_names=["a", "b"], separator="|", regex="^x\\|$")
    # when b is missing it joins as empty and matches, and when b is set it does not
    assert matcher.matches({"a": "x"}) and not matcher.matches({"a": "x", "b": "y"})


@pytest.mark.parametrize("raw, key, words", [
    ({"units": {"latency": "Secs"}}, "units", ["'Secs'", "Seconds"]),
    ({"storage_resolution": 30}, "storage_resolution", ["30", "expected 1 or 60"]),
    ({"storage_resolution": {"^up$": 5}}, "storage_resolution", ["5", "expected 1 or 60"]),
    ({"namespace": "bad$ns"}, "namespace", ["'bad$ns'", "letters, digits"]),
    ({"dimension_rollup_option": "All"}, "dimension_rollup_option", ["NoDimensionRollup"]),
    ({"colour": "red"}, "colour", ["Extra inputs are not permitted"]),
    ({"log_only_labels": ["a", "("]}, "log_only_labels.1", ["invalid regular expression '('", "RE2"]),
    ({"units": {"(?<=x)_seconds": "Seconds"}}, "units", ["invalid regular expression '(?<=x)_seconds'"]),
    ({"log_only_labels": ["\\Qpod", "trace_.*"]}, "log_only_labels", ["invalid regular expression"]),
    ({"storage_resolution": {"(a)\\1": 1}}, "storage_resolution", ["invalid regular expression '(a)\\\\1'"]),
    ({"output": {"type": "logs"}}, "output", ["log_group_name is required"]),
    ({"output": {"type": "file"}}, "output", ["path is required"]),
    ({"output": {"type": "kinesis"}}, "output.type", ["'stdout', 'logs' or 'file'"]),
    ({"metric_declarations": [{"dimensions": [["a"]]}]}, "metric_declarations.0.metric_name_selectors", ["Field required"]),
    ({"metric_declarations": [{"metric_name_selectors": ["[a-"]}]}, "metric_name_selectors.0", ["'[a-'"]),
    ({"metric_declarations": [{"metric_name_selectors": ["(?!go_).*"]}]}, "metric_name_selectors.0",
     ["invalid regular expression '(?!go_).*'"]),
    ({"metric_declarations": [{"metric_name_selectors": ["a"], "label_matchers": [{"label_names": ["x"], "regex": "(?<=a)b"}]}]},
     "label_matchers.0.regex", ["invalid regular expression '(?<=a)b'"]),
    ({"metric_declarations": [{"metric_name_selectors": ["a"], "dimensions": [[f"l{i}" for i in range(31)]]}]},
     "metric_declarations.0.dimensions", ["31 keys", "at most 30"]),
    ({"metric_declarations": [{"metric_name_selectors": ["a"], "dimensions": [["a", "a"]]}]},
     "dimensions", ["repeats a key"]),
    ({"metric_declarations": [{"metric_name_selectors": ["a"], "label_matchers": [{"label_names": ["x"], "regex": "(", "sep": ";"}]}]},
     "label_matchers", ["regex", "sep"]),
])
def test_bad_settings_name_the_key_the_value_and_what_is_allowed(raw: dict[str, Any], key: str, words: list[str]) -> None:
    # given EMF settings with a bad value, when validated
    with pytest.raises(ValidationError) as info:
        EmfSettings.model_validate(raw)
    # then the error names the key, the value and what is allowed
    text = str(info.value)
    assert key in text
    for word in words:
        assert word in text


def test_declaration_needs_a_selector() -> None:
    # given a metric declaration with no selectors, when validated, then it is refused naming the selectors
    with pytest.raises(ValidationError, match="metric_name_selectors"):
        MetricDeclaration.model_validate({"dimensions": [["job"]], "metric_name_selectors": []})


@pytest.mark.timeout(10)
def test_emf_regexes_answer_in_linear_time_on_scraped_names_and_values() -> None:
    # Given every emf regex set to the backtracking bomb (a+)+b, and scraped names and values
    # that would make a backtracking engine try 2**40 ways
    bomb = "(a+)+b"
    settings = EmfSettings.model_validate({
        "metric_declarations": [{
            "metric_name_selectors": [f"^{bomb}$", "^x$"],
            "label_matchers": [{"label_names": ["v"], "regex": f"^{bomb}$"}],
        }],
        "log_only_labels": [bomb],
        "units": {bomb: "Seconds"},
        "storage_resolution": {bomb: 1},
    })
    long = "a" * 40
    declaration = settings.metric_declarations[0]
    naming = MetricNaming(settings)
    # when each is matched, then each answers no match
    assert not declaration.selects(long, {"v": "x"})
    assert not declaration.selects("x", {"v": long})
    assert settings.log_only_pattern is not None and not settings.log_only_pattern.matches(long)
    assert naming.unit_and_resolution(long, "", cumulative=False) == ("None", 60)


def test_the_naming_of_settings_is_shared_and_a_units_depends_on_the_family_not_on_who_asked_first() -> None:
    # Given one job's settings (a units rule) and another's,
    settings = EmfSettings.model_validate({"units": {"app_.*_ms": "Milliseconds"}})
    other = EmfSettings()
    memory = TranslationMemory()
    naming = memory.naming(settings)
    # then every translation with the same settings shares one naming, another job has its own,
    assert memory.naming(settings) is naming and memory.naming(other) is not naming
    # and a name's unit follows its family's unit and kind whichever target asked first.
    assert naming.unit_and_resolution("queue_wait", "", cumulative=False) == ("None", 60)
    assert naming.unit_and_resolution("queue_wait", "", cumulative=True) == ("Count", 60)
    assert naming.unit_and_resolution("queue_wait", "seconds", cumulative=False) == ("Seconds", 60)
    assert naming.unit_and_resolution("app_render_ms", "", cumulative=False) == ("Milliseconds", 60)
