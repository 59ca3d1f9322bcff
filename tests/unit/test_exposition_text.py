"""The Prometheus text format 0.0.4 parser: metadata, escapes, grouping, errors, lenient mode."""
from __future__ import annotations

import math

import pytest
from promwatch.errors import PromwatchError
from promwatch.exposition import ExpositionError, Family, ParserMemory, Sample, parse, parse_lenient
from promwatch.exposition import text as text_module


def by_name(families: list[Family]) -> dict[str, Family]:
    return {family.name: family for family in families}


def test_metadata_types_and_samples() -> None:
    # Given a page with each text-format type
    page = (
        "# HELP http_requests_total Requests served.\n"
        "# TYPE http_requests_total counter\n"
        'http_requests_total{method="GET",code="200"} 1027 1395066363000\n'
        'http_requests_total{method="POST",code="400"} 3 1395066363000\n'
        "# TYPE temperature gauge\n"
        "temperature -3.5\n"
        "# TYPE legacy untyped\n"
        "legacy 1\n"
    )
    # When it is parsed
    families = by_name(parse(page, "prometheus"))
    # Then each family has its metadata and samples, timestamps in seconds
    requests = families["http_requests_total"]
    assert (requests.type, requests.help, requests.unit) == ("counter", "Requests served.", "")
    assert requests.samples[0] == Sample("http_requests_total", {"method": "GET", "code": "200"}, 1027.0,
                                         1395066363.0, None)
    assert families["temperature"].samples[0].value == -3.5
    assert families["legacy"].type == "unknown"


def test_histogram_and_summary_samples_join_their_family() -> None:
    # Given a histogram and a summary with suffixed samples
    page = (
        "# TYPE rpc_seconds histogram\n"
        'rpc_seconds_bucket{le="0.1"} 1\n'
        'rpc_seconds_bucket{le="+Inf"} 2\n'
        "rpc_seconds_sum 0.3\n"
        "rpc_seconds_count 2\n"
        "# TYPE gc_seconds summary\n"
        'gc_seconds{quantile="0.5"} 0.01\n'
        "gc_seconds_sum 1\n"
        "gc_seconds_count 9\n"
    )
    # When parsed
    families = parse(page)
    # Then there are exactly two families holding every sample
    assert [(f.name, f.type, len(f.samples)) for f in families] == [
        ("rpc_seconds", "histogram", 4), ("gc_seconds", "summary", 3),
    ]
    assert [s.name for s in families[0].samples] == ["rpc_seconds_bucket"] * 2 + ["rpc_seconds_sum", "rpc_seconds_count"]
    assert families[0].samples[1].labels == {"le": "+Inf"}


def test_suffixed_samples_of_a_gauge_are_their_own_families() -> None:
    # Given a gauge "x" and a sample "x_sum" (only histograms and summaries own _sum)
    families = parse("# TYPE x gauge\nx 1\nx_sum 2\n")
    # Then x_sum is an unknown family of its own
    assert [(f.name, f.type) for f in families] == [("x", "gauge"), ("x_sum", "unknown")]


def test_counter_named_without_total_owns_its_total_and_created_samples() -> None:
    # Given a counter family "jobs" whose samples carry the OpenMetrics suffixes
    families = parse("# TYPE jobs counter\njobs_total 3\njobs_created 1.7e9\n# TYPE jobs_done_total counter\njobs_done_total 1\n")
    # Then they belong to "jobs"; a family declared with its full name keeps its samples
    assert [(f.name, [s.name for s in f.samples]) for f in families] == [
        ("jobs", ["jobs_total", "jobs_created"]), ("jobs_done_total", ["jobs_done_total"]),
    ]


def test_interleaved_series_of_one_family_stay_one_family() -> None:
    # Given the samples of "a" split by a sample of "b"
    page = "# TYPE a gauge\na{x=\"1\"} 1\nb 2\na{x=\"2\"} 3\n"
    # When parsed
    families = parse(page)
    # Then "a" is one family with both samples, in page order
    assert [(f.name, [s.value for s in f.samples]) for f in families] == [("a", [1.0, 3.0]), ("b", [2.0])]


def test_escapes_in_label_values_and_help() -> None:
    # Given escaped backslash, quote and newline (and an unknown escape, kept as written)
    page = (
        '# HELP m A \\\\ backslash,\\na newline and a \\"quote\\" kept.\n'
        'm{path="C:\\\\dir\\\\",msg="say \\"hi\\"\\nbye",odd="\\d"} 1\n'
    )
    family = parse(page)[0]
    # Then help resolves \\ and \n only, label values also \"
    assert family.help == 'A \\ backslash,\na newline and a \\"quote\\" kept.'
    assert family.samples[0].labels == {"path": "C:\\dir\\", "msg": 'say "hi"\nbye', "odd": "\\d"}


def test_label_values_with_braces_commas_spaces_and_hashes() -> None:
    # given label values holding braces, commas, spaces and a hash, when parsed
    family = parse('m{a="}{", b="x, y", c="# not a comment"} 2\n')[0]
    # then the values are kept whole
    assert family.samples[0].labels == {"a": "}{", "b": "x, y", "c": "# not a comment"}


def test_quoted_utf8_names_as_prometheus_3_writes_them() -> None:
    # Given a UTF-8 metric name and label name, quoted inside the braces
    page = (
        '# HELP "my.metric" Dotted.\n'
        '# TYPE "my.metric" gauge\n'
        '{"my.metric", "label.x"="v", plain="w"} 1\n'
    )
    family = parse(page)[0]
    assert (family.name, family.type, family.help) == ("my.metric", "gauge", "Dotted.")
    assert family.samples[0].labels == {"label.x": "v", "plain": "w"}


def test_special_values_and_whitespace_variants() -> None:
    # Given NaN and infinities, tabs, a trailing comma, blank lines and plain comments
    page = (
        "# a comment that is not metadata\n"
        "\n"
        "a NaN\n"
        "b\t+Inf\n"
        'c{x="1",} -Inf\n'
        "  d 4\n"
    )
    values = {f.name: f.samples[0].value for f in parse(page)}
    assert math.isnan(values["a"])
    assert values["b"] == math.inf
    assert values["c"] == -math.inf
    assert values["d"] == 4.0


def test_page_without_trailing_newline() -> None:
    # given a page whose last line has no newline, when parsed, then the sample is read
    assert parse("a 1")[0].samples[0].value == 1.0


@pytest.mark.parametrize(
    ("page", "line", "reason"),
    [
        ("a 1\nb{x=\"1\" 2\n", 2, "missing '}'"),
        ("a 1\n\nb x\n", 3, "invalid value 'x'"),
        ("a 1 1.5\n", 1, "invalid timestamp '1.5'"),
        ("a 1_000\n", 1, "invalid value '1_000'"),  # Python's float() takes it, Prometheus does not
        ("a 0x1p3\n", 1, "invalid value '0x1p3'"),
        ("a 1 2 3\n", 1, "unexpected text"),
        ("a{x=\"1\",x=\"2\"} 1\n", 1, "duplicate label 'x'"),
        ("a{1x=\"1\"} 1\n", 1, "expected a label name"),
        ("# TYPE a histogramm\n", 1, "invalid TYPE 'histogramm'"),
        ("a 1\n# TYPE a gauge\n", 2, "TYPE for 'a' after its samples"),
        ("# TYPE a gauge\n# TYPE a counter\n", 2, "second TYPE"),
        ("a\n", 1, "missing value"),
    ],
)
def test_errors_name_the_line_and_the_problem(page: str, line: int, reason: str) -> None:
    # When a bad page is parsed strictly
    with pytest.raises(ExpositionError) as caught:
        parse(page, "prometheus")
    # Then the error carries the 1-based line and a reason naming the bad value
    assert caught.value.line == line
    assert reason in caught.value.reason
    assert str(caught.value) == f"line {line}: {caught.value.reason}"
    assert isinstance(caught.value, PromwatchError)


def test_lenient_mode_keeps_good_lines_and_reports_bad_ones() -> None:
    # Given a page with two bad lines among good ones
    page = "# TYPE a counter\na 1\nb{x=\"1\" 2\nc 3\nd three\ne 5\n"
    # When parsed leniently
    result = parse_lenient(page, "prometheus")
    # Then the good samples are all there and each bad line is reported once with its number
    assert {f.name: [s.value for s in f.samples] for f in result.families} == {"a": [1.0], "c": [3.0], "e": [5.0]}
    assert [e.line for e in result.errors] == [3, 5]


def test_strict_parse_raises_where_lenient_reports() -> None:
    # given a sample with a value that is no number
    with pytest.raises(ExpositionError):
        # when parsed strictly, then it raises
        parse("a one\n")
    # and when parsed leniently, then the error is reported with its line
    assert [e.line for e in parse_lenient("a one\n").errors] == [1]


def test_warm_parse_returns_the_same_as_cold() -> None:
    # Given a page parsed once from a cold cache
    page = '# TYPE a gauge\na{x="1"} 1\na{x="2"} 2\n# HELP b B.\nb 3\n'
    memory = ParserMemory()
    cold = parse(page, memory=memory)
    # When parsed again with different values (a warm scrape)
    warm = parse(page.replace(" 1\n", " 10\n"), memory=memory)
    # Then only the changed value differs
    assert cold[1:] == warm[1:]
    assert [s.value for s in warm[0].samples] == [10.0, 2.0]
    assert warm[0].samples[1].labels is cold[0].samples[1].labels  # shared, read-only


@pytest.mark.parametrize(
    ("line", "labels", "value", "timestamp"),
    [
        ('m{a="x y"} 5', {"a": "x y"}, 5.0, None),  # a blank inside a label value
        ('m{a="x y"} 5 1700000000000', {"a": "x y"}, 5.0, 1700000000.0),
        ("m 5 1700000000000", {}, 5.0, 1700000000.0),
        ('m{a="} 9"} 5 7', {"a": "} 9"}, 5.0, 0.007),
        ('m{a="1"}  5', {"a": "1"}, 5.0, None),  # two blanks before the value
        ("m  5", {}, 5.0, None),
        ("m 5 ", {}, 5.0, None),  # a trailing blank
        ("m\t5", {}, 5.0, None),
        ("m 5\t", {}, 5.0, None),
        ("\tm 5", {}, 5.0, None),
        ('m{a="1"}\t5\t7', {"a": "1"}, 5.0, 0.007),
        ('m{a="1"} 5\r', {"a": "1"}, 5.0, None),  # a CRLF page
        ('m { a = "1" } 5', {"a": "1"}, 5.0, None),  # blanks inside the braces
    ],
)
def test_unusual_line_shapes_parse_alike_cold_and_warm(
    line: str, labels: dict[str, str], value: float, timestamp: float | None
) -> None:
    # Given a page with one line in an unusual shape, parsed with an empty memory
    memory = ParserMemory()
    for _ in ("cold", "warm", "warm again"):
        # When it is parsed (the series text is remembered after the first time)
        (family,) = parse(f"# TYPE m gauge\n{line}\n", memory=memory)
        # Then every parse reads the same sample
        (sample,) = family.samples
        assert (sample.name, sample.labels, sample.value, sample.timestamp) == ("m", labels, value, timestamp)


@pytest.mark.parametrize(
    ("series", "rest", "reason"),
    [
        ("m", "1_000", "invalid value '1_000'"),
        ('m{a="x y"}', "1_0", "invalid value '1_0'"),
        ("m", "5 1.5", "invalid timestamp '1.5'"),
        ('m{a="x y"}', "5 1.5", "invalid timestamp '1.5'"),
        ("m", "5 6 7", "unexpected text"),
        ("m", "\u0665", "invalid value"),  # an Arabic-Indic digit: Python's float() takes it, Prometheus does not
    ],
)
def test_bad_values_are_errors_whether_the_series_is_cached_or_not(series: str, rest: str, reason: str) -> None:
    for cached in (True, False):
        # Given the series remembered from a good line, or an empty memory
        memory = ParserMemory()
        if cached:
            parse(f"{series} 1\n", memory=memory)
        # When a line of that series with a bad value or timestamp is parsed
        with pytest.raises(ExpositionError) as caught:
            parse(f"{series} {rest}\n", memory=memory)
        # Then it is refused with the reason either way
        assert reason in caught.value.reason


def test_caches_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a cache limit of 8 entries
    monkeypatch.setattr(text_module, "SERIES_CACHE_SIZE", 8)
    monkeypatch.setattr(text_module, "LABEL_SETS_CACHE_SIZE", 8)
    memory = ParserMemory()
    # When a page with 50 distinct series and comments is parsed
    page = "".join(f'# HELP m{i} h\nm{i}{{i="{i}"}} {i}\n' for i in range(50))
    families = parse(page, memory=memory)
    # Then everything parses and no cache grew past the limit
    assert len(families) == 50
    sizes = memory.sizes()
    assert sizes["text_series"] <= 8 and sizes["text_comments"] <= 8 and sizes["text_label_sets"] <= 8
    assert sizes["text_names"] <= 8


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_results_and_line_numbers_do_not_depend_on_chunking(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a page with blank lines, comments and two bad lines, parsed in one chunk
    page = "".join(
        f"# TYPE m{i} gauge\nm{i}{{i=\"{i}\"}} {i}\n\n" + ("bad line\n" if i in (3, 11) else "") for i in range(15)
    )
    whole = parse_lenient(page)
    # When the page is matched a few characters at a time
    monkeypatch.setattr(text_module, "LINES_CHUNK_CHARS", chunk)
    chunked = parse_lenient(page)
    # Then the families, the sample count and the errors' line numbers are the same
    assert chunked.families == whole.families
    assert chunked.samples == whole.samples == 15
    assert [e.line for e in chunked.errors] == [e.line for e in whole.errors] == [13, 38]


def test_garbage_collection_is_restored_after_parsing() -> None:
    import gc

    # given the garbage collector enabled
    assert gc.isenabled()
    # when pages in both formats are parsed, well-formed or not
    parse("a 1\n")
    parse("a 1\n# EOF\n", "openmetrics")
    with pytest.raises(ExpositionError):
        parse("a x\n")
    with pytest.raises(ExpositionError):
        parse("a x\n# EOF\n", "openmetrics")
    # then the collector is enabled again after each
    assert gc.isenabled()
    # and a collector the caller turned off stays off
    gc.disable()
    try:
        parse("a 1\n")
        assert not gc.isenabled()
    finally:
        gc.enable()
