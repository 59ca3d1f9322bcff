"""One page, one judgement: the EMF and OTLP outputs publish the same classic histogram series and
refuse the same ones, by the rules of promwatch.exposition.classic."""
from __future__ import annotations

from typing import Any

import pytest
from promwatch.emf import EmfSettings, TargetInfo, Translation, TranslationMemory, translate
from promwatch.exposition import ParserMemory, parse
from promwatch.exposition.classic import bucket_bound
from promwatch.otlp import ScrapeTarget, to_resource_metrics

T0 = 1_700_000_000_000
MINUTE = 60_000
EMF_TARGET = TargetInfo("job/a", "10.0.0.1:9100")
SETTINGS = EmfSettings()  # one object: a warm target cache is kept for the same settings
OTLP_TARGET = ScrapeTarget("a", "10.0.0.1:9100", "http://10.0.0.1:9100/metrics", {"job": "a"})

REFUSED = {
    "a bucket below the one before it": 'h_bucket{le="1"} 3\nh_bucket{le="2"} 2\nh_bucket{le="+Inf"} 3\nh_count 3\n',
    "+Inf above _count": 'h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 5\nh_count 3\n',
    "+Inf below _count": 'h_bucket{le="1"} 2\nh_bucket{le="+Inf"} 5\nh_count 6\n',
    "fractional counts": 'h_bucket{le="1"} 1.5\nh_bucket{le="+Inf"} 2.5\nh_count 2.5\n',
    "a fractional _count without +Inf": 'h_bucket{le="1"} 1\nh_count 2.5\n',
    "a negative count": 'h_bucket{le="+Inf"} -1\nh_count -1\n',
    "_count below the last bucket, no +Inf": 'h_bucket{le="1"} 4\nh_count 3\n',
    "a -Inf bound": 'h_bucket{le="-Inf"} 0\nh_bucket{le="+Inf"} 1\nh_count 1\n',
    "finite buckets only": 'h_bucket{le="1"} 1\nh_bucket{le="2"} 1\n',
}
PUBLISHED = {
    "buckets, +Inf and _count": 'h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 3\nh_count 3\n',
    "no _count: the +Inf bucket counts": 'h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 3\n',
    "no +Inf bucket: _count stands for it": 'h_bucket{le="1"} 2\nh_count 6\n',
}


def _page(series: str) -> str:
    return "# TYPE h histogram\n" + series + "h_sum 3\n"


def _emf(text: str, previous: Any = None, at: int = 0, memory: TranslationMemory | None = None,
         parser: ParserMemory | None = None) -> Translation:
    return translate(parse(text, memory=parser), target=EMF_TARGET, previous=previous, settings=SETTINGS,
                     now_ms=T0 + at * MINUTE, memory=memory or TranslationMemory())


def _judgements(text: str) -> tuple[bool, bool]:
    """(EMF publishes the series, OTLP sends it), each checked to be reported when refused."""
    emf = _emf(text)
    assert emf.baselines is not None
    emf_published = any(key.startswith("h") for key in emf.baselines.histograms)
    assert emf_published or emf.drop_counts() == {"malformed": 1}
    otlp = to_resource_metrics(parse(text), target=OTLP_TARGET, now_ms=T0, previous_starts={})
    otlp_sent = any(m.name == "h" for s in otlp.resource_metrics.scope_metrics for m in s.metrics)
    assert otlp_sent or otlp.dropped["otlp_malformed"] == text.count("\n") - 1
    return emf_published, otlp_sent


@pytest.mark.parametrize("series", REFUSED.values(), ids=REFUSED.keys())
def test_a_histogram_that_breaks_the_rules_is_refused_by_both_outputs_and_reported(series: str) -> None:
    # given a page whose histogram series is not a histogram by Prometheus' rules
    # when the EMF and the OTLP outputs read it
    # then neither publishes it, and each reports the drop its own way (malformed / otlp_malformed)
    assert _judgements(_page(series)) == (False, False)


@pytest.mark.parametrize("series", PUBLISHED.values(), ids=PUBLISHED.keys())
def test_a_histogram_by_the_rules_is_published_by_both_outputs(series: str) -> None:
    # given a page whose histogram series keeps the rules (one of +Inf and _count may be missing)
    # then both outputs publish it
    assert _judgements(_page(series)) == (True, True)


def test_a_warm_scrape_laid_out_as_before_is_judged_as_a_cold_one() -> None:
    # given a histogram translated once, its layout remembered (the parser handing out the same labels)
    memory, parser = TranslationMemory(), ParserMemory()
    good = _page('h_bucket{le="1"} 1\nh_bucket{le="2"} 2\nh_bucket{le="+Inf"} 3\nh_count 3\n')
    first = _emf(good, memory=memory, parser=parser)
    # when the next scrape, laid out the same, has a bucket below the one before it
    bad = _page('h_bucket{le="1"} 4\nh_bucket{le="2"} 3\nh_bucket{le="+Inf"} 5\nh_count 5\n')
    second = _emf(bad, previous=first.baselines, at=1, memory=memory, parser=parser)
    # then it is refused and reported, as without a memory, and nothing is published for it
    assert second.drop_counts() == {"malformed": 1}
    assert [d.detail for d in second.dropped] == [d.detail for d in _emf(bad).dropped]
    assert not [d for d in second.documents if "h" in d]


@pytest.mark.parametrize(("text", "bound"), [
    ("0.5", 0.5), ("1e3", 1000.0), ("+Inf", float("inf")), ("Inf", float("inf")), ("infinity", float("inf")),
    ("-Inf", float("-inf")), ("NaN", None), ("fast", None), ("1_000", None), (" 1", None), ("١", None), (None, None),
])
def test_a_bucket_bound_is_read_as_prometheus_reads_it(text: str | None, bound: float | None) -> None:
    # given an le as a page spells it, then it is Go's ParseFloat's number, or none
    assert bucket_bound(text) == bound
