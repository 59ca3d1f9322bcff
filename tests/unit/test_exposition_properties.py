"""Properties of the parsers (hypothesis): render-then-parse round trips, and no input makes
them raise anything but ExpositionError."""
from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from promwatch.exposition import ExpositionError, Family, Sample, parse, parse_lenient, render
from promwatch_tools.commands.parse import _decode

LEGACY_NAME = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,12}", fullmatch=True)
LEGACY_LABEL = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True).filter(lambda s: s != "__name__")
UTF8_NAME = st.text(min_size=1, max_size=12)
METRIC_NAME = LEGACY_NAME | UTF8_NAME
LABEL_NAME = (LEGACY_LABEL | st.text(min_size=1, max_size=8)).filter(lambda s: s != "__name__")
LABELS = st.dictionaries(LABEL_NAME, st.text(max_size=12), max_size=4)
VALUE = st.floats(allow_nan=True, allow_infinity=True)
# Help texts keep everything but leading blanks, which the text format's grammar skips.
HELP = st.text(max_size=30).filter(lambda s: s[:1] not in (" ", "\t"))


def families(timestamp: st.SearchStrategy[float | None]) -> st.SearchStrategy[list[Family]]:
    """Gauge and unknown families with distinct names and distinct label sets."""
    def family(name: str) -> st.SearchStrategy[Family]:
        samples = st.lists(st.tuples(LABELS, VALUE, timestamp), max_size=4,
                           unique_by=lambda s: tuple(sorted(s[0].items())))
        return st.builds(
            lambda type_, help_, rows: Family(name, type_, help_, "", [Sample(name, labels, v, t) for labels, v, t in rows]),
            st.sampled_from(["gauge", "unknown"]), HELP, samples,
        )

    return st.lists(METRIC_NAME, min_size=1, max_size=4, unique=True).flatmap(
        lambda names: st.tuples(*(family(n) for n in names)).map(list)
    )


def comparable(families: list[Family]) -> list[tuple[object, ...]]:
    """Families with NaN replaced by a marker (NaN != NaN)."""
    def value(v: float) -> object:
        return "NaN" if math.isnan(v) else v

    return [(f.name, f.type, f.help, f.unit, [(s.name, dict(s.labels), value(s.value), s.timestamp) for s in f.samples])
            for f in families]


MILLISECONDS = st.none() | st.integers(-(2**50), 2**50).map(lambda ms: ms / 1000)
SECONDS = st.none() | st.floats(allow_nan=False, allow_infinity=False, min_value=0)


@given(families(MILLISECONDS))
def test_text_format_round_trip(original: list[Family]) -> None:
    # When families are rendered in the text format and parsed back
    parsed = parse(render(original, "prometheus"), "prometheus")
    # Then they are the same families
    assert comparable(parsed) == comparable(original)


@given(families(SECONDS))
def test_openmetrics_round_trip(original: list[Family]) -> None:
    # When families are rendered as OpenMetrics and parsed back
    parsed = parse(render(original, "openmetrics"), "openmetrics")
    # Then they are the same families
    assert comparable(parsed) == comparable(original)


EXPOSITION_CHARS = st.sampled_from(list('ab_:{}="\\# \n\t,.+-019eEInfNaHELPTYPEUNIT'))
EXPOSITION_TEXT = st.text(alphabet=EXPOSITION_CHARS, max_size=80) | st.text(max_size=80)


def only_exposition_errors(text: str) -> None:
    for format in ("prometheus", "openmetrics"):
        for lenient in (False, True):
            # parsing either works or raises ExpositionError; anything else fails the test
            try:
                parsed = parse_lenient(text, format).families if lenient else parse(text, format)
            except ExpositionError:
                continue
            # and what it read are families of a page: rendered, they read back the same
            assert comparable(parse(render(parsed, format), format)) == comparable(parsed), (lenient, format)


@given(EXPOSITION_TEXT)
def test_random_text_raises_only_exposition_errors(text: str) -> None:
    # Given any text, When parsed strictly and leniently in both formats, Then nothing but ExpositionError is raised
    only_exposition_errors(text)


@given(st.binary(max_size=120))
def test_random_bytes_raise_only_exposition_errors(data: bytes) -> None:
    # Given bytes as the CLI reads them from a file or stdin
    try:
        text = _decode(data)
    except ExpositionError:
        return
    only_exposition_errors(text)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(families(MILLISECONDS), st.data())
def test_mutated_pages_raise_only_exposition_errors(original: list[Family], data: st.DataObject) -> None:
    # Given a valid page with one character inserted, deleted or replaced
    for format in ("prometheus", "openmetrics"):
        page = render(original, format)
        at = data.draw(st.integers(0, len(page)))
        mutated = page[:at] + data.draw(st.sampled_from(["", *'{}=",# \n\\'])) + page[at + data.draw(st.integers(0, 1)):]
        # Then parsing it either works or raises ExpositionError
        only_exposition_errors(mutated)
