"""The OpenMetrics 1.0 parser: families, exemplars, _created, special types, strictness.

The full OpenMetrics parser suite runs in `make test` (run_openmetrics.py); these tests pin
the parsed values and a few rules with their line numbers.
"""
from __future__ import annotations

import math

import pytest
from promwatch.exposition import Exemplar, ExpositionError, parse, parse_lenient


def om(*lines: str) -> str:
    return "\n".join([*lines, "# EOF"]) + "\n"


def test_counter_family_owns_total_and_created_with_exemplar() -> None:
    # Given an OpenMetrics counter with a unit, an exemplar and a _created sample
    page = om(
        "# TYPE rpc_seconds counter",
        "# UNIT rpc_seconds seconds",
        "# HELP rpc_seconds Time in \\\"rpc\\\".",
        'rpc_seconds_total{svc="a"} 12.5 1700000000.25 # {trace_id="abc"} 0.3 1700000000.125',
        'rpc_seconds_created{svc="a"} 1600000000 1700000000.25',
    )
    # When parsed
    [family] = parse(page, "openmetrics")
    # Then the family is named by its metadata and holds both samples
    assert (family.name, family.type, family.unit, family.help) == ("rpc_seconds", "counter", "seconds",
                                                                    'Time in "rpc".')
    total, created = family.samples
    assert (total.name, total.value, total.timestamp) == ("rpc_seconds_total", 12.5, 1700000000.25)
    assert total.exemplar == Exemplar({"trace_id": "abc"}, 0.3, 1700000000.125)
    assert (created.name, created.value, created.exemplar) == ("rpc_seconds_created", 1600000000.0, None)


def test_info_stateset_gaugehistogram_and_unknown() -> None:
    # given an OpenMetrics page with an info, a stateset, a gaugehistogram and an untyped sample
    page = om(
        "# TYPE build info",
        'build_info{version="1.2"} 1',
        "# TYPE state stateset",
        'state{state="open"} 1',
        'state{state="closed"} 0',
        "# TYPE queue gaugehistogram",
        'queue_bucket{le="1"} 2',
        'queue_bucket{le="+Inf"} 3',
        "queue_gcount 3",
        "queue_gsum 2.5",
        "mystery 7",
    )
    # when parsed
    families = parse(page, "openmetrics")
    # then each family has its type and all its samples, the untyped one as unknown
    assert [(f.name, f.type, len(f.samples)) for f in families] == [
        ("build", "info", 1), ("state", "stateset", 2), ("queue", "gaugehistogram", 4), ("mystery", "unknown", 1),
    ]


def test_values_nan_and_infinities() -> None:
    # given a gauge with NaN, +Inf and -Inf values, when parsed
    [family] = parse(om("# TYPE g gauge", 'g{a="1"} NaN', 'g{a="2"} +Inf', 'g{a="3"} -Inf'), "openmetrics")
    values = [s.value for s in family.samples]
    # then the values are NaN and the two infinities
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf]


def test_quoted_utf8_names() -> None:
    # given a quoted UTF-8 metric name and label name, when parsed
    [family] = parse(om('# TYPE "my.gauge" gauge', '{"my.gauge","le.vel"="x"} 1'), "openmetrics")
    # then the names are kept unquoted
    assert family.name == "my.gauge"
    assert family.samples[0].labels == {"le.vel": "x"}


def test_no_newline_after_eof_is_fine() -> None:
    # given a page whose # EOF has no newline after it, when parsed, then the sample is read
    assert parse("a 1\n# EOF", "openmetrics")[0].samples[0].value == 1.0


@pytest.mark.parametrize(
    ("page", "line", "reason"),
    [
        ("a 1\n", 1, "missing # EOF"),
        ("a 1\n\n# EOF\n", 2, "blank line"),
        ("a 1\n# EOF\nb 2\n", 3, "text after # EOF"),
        ("# TYPE a gauge\na 1\nb 1\na 2\n# EOF\n", 4, "contiguous"),
        ("# TYPE a_created gauge\n# TYPE a counter\n# EOF\n", 2, "clashes"),
        ("# TYPE a counter\na_total -1\n# EOF\n", 2, "negative"),
        ('# TYPE a histogram\na_bucket{le="1"} 1\na_sum 1\n# EOF\n', 3, "no +Inf bucket"),
        ("# TYPE a gauge\na 1 # {t=\"x\"} 1\n# EOF\n", 2, "exemplar"),
        ("a 1_000\n# EOF\n", 1, "invalid value '1_000'"),
        ("# TYPE a untyped\n# EOF\n", 1, "invalid TYPE 'untyped'"),
        ("# UNIT a seconds\n# EOF\n", 1, "does not match"),
        ("a  1\n# EOF\n", 1, "invalid value ''"),
    ],
)
def test_strict_errors_with_line_numbers(page: str, line: int, reason: str) -> None:
    # given an OpenMetrics page breaking one rule, when parsed strictly
    with pytest.raises(ExpositionError) as caught:
        parse(page, "openmetrics")
    # then the error names the line and the reason
    assert (caught.value.line, reason in caught.value.reason) == (line, True), caught.value


def test_lenient_parse_of_openmetrics_stays_strict() -> None:
    # Given an OpenMetrics page with one bad line
    page = "# TYPE a counter\na_total NaN\n# EOF\n"
    # Then lenient parsing raises all the same: the format is strict by specification
    with pytest.raises(ExpositionError):
        parse_lenient(page, "openmetrics")
    assert parse_lenient("a 1\n# EOF\n", "openmetrics").errors == []
