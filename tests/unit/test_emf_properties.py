"""Property: over any counter history with restarts, the published increases add up."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from promwatch.emf import EmfSettings, TargetInfo, translate, validate
from promwatch.exposition.model import Family, Sample
from promwatch.state import TargetBaselines

TARGET = TargetInfo("job", "host:1")
T0 = 1_700_000_000_000

# A history: increments (amounts), restarts ("reset") and scrapes ("scrape"), after a first scrape.
step = st.one_of(
    st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda a: ("inc", a)),
    st.just(("reset", 0.0)),
    st.just(("scrape", 0.0)),
)


def replay(history: list[tuple[str, float]], expose_created: bool) -> tuple[float, list[float]]:
    """(true increase after the first scrape, increases published at each scrape).

    Increments made before a restart that no scrape saw are gone from every exposition (the
    process took them along), so the truth is what each scrape could observe: the increments
    since the previous scrape, or since the last restart in between.
    """
    value, created = 0.0, T0 / 1000
    previous: TargetBaselines | None = None
    true_total, pending, published = 0.0, 0.0, []
    now = T0
    for kind, amount in [("scrape", 0.0), *history, ("scrape", 0.0)]:
        now += 1000
        if kind == "inc":
            value += amount
            pending += amount
        elif kind == "reset":
            value, created, pending = 0.0, now / 1000, 0.0
        else:
            if previous is not None:
                true_total += pending
            pending = 0.0
            samples = [Sample("c_total", {}, value)]
            if expose_created:
                samples.append(Sample("c_created", {}, created))
            result = translate([Family("c", "counter", "", "", samples)], target=TARGET, previous=previous,
                               settings=EmfSettings(), now_ms=now)
            for document in result.documents:
                validate(document)
                published.append(document["c_total"])
            previous = result.baselines
    return true_total, published


@settings(max_examples=150, deadline=None)
@given(st.lists(step, max_size=30))
def test_with_created_the_increases_sum_to_the_true_increase(history: list[tuple[str, float]]) -> None:
    # Given any history of increments, restarts and scrapes of a counter exposing _created,
    # When each scrape is translated with the previous scrape's baselines,
    true_total, published = replay(history, expose_created=True)
    # Then no published increase is negative, and they add up to the true increase.
    assert all(p >= 0 for p in published)
    assert abs(sum(published) - true_total) <= 1e-9 * max(1.0, true_total)


@settings(max_examples=150, deadline=None)
@given(st.lists(step, max_size=30))
def test_without_created_increases_are_never_negative_nor_too_many(history: list[tuple[str, float]]) -> None:
    # Given any history of a counter without _created (a restart whose new value already
    # exceeds the old one cannot be seen then, so the published total may fall short),
    # When each scrape is translated with the previous scrape's baselines,
    true_total, published = replay(history, expose_created=False)
    # Then no published increase is negative, and their sum never exceeds the truth.
    assert all(p >= 0 for p in published)
    assert sum(published) <= true_total * (1 + 1e-9) + 1e-9


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=20))
def test_monotonic_counter_without_resets_sums_exactly(increments: list[float]) -> None:
    # Given a counter that never restarts, scraped after each increment,
    history = [item for amount in increments for item in (("inc", amount), ("scrape", 0.0))]
    # When each scrape is translated with the previous scrape's baselines,
    true_total, published = replay(history, expose_created=False)
    # Then the published increases add up to the true increase.
    assert abs(sum(published) - true_total) <= 1e-9 * max(1.0, true_total)
