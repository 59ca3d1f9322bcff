"""A warm environment's memory is an explicit object: outputs are the same with it or without
it, and nothing of the scrape path keeps state in a module."""
from __future__ import annotations

import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from promwatch.emf import EmfSettings, TargetInfo, TranslationMemory, serialize, translate
from promwatch.emf.histograms import _geometry
from promwatch.emf.jsontext import _COUNTS_TEXT, _MEMBER_TEXT, _NUMBERS_TEXT
from promwatch.exposition import ParserMemory, parse
from promwatch.regex import relabel_regex, search_regex, whole_regex
from promwatch.scrape import WarmMemory, parse_config
from promwatch.scrape.process import parse_page, process_page
from promwatch.state import TargetBaselines

T0 = 1_800_000_000_000
MINUTE = 60_000
ROUTES = ("/a", "/b", "/c", "/d")
BOUNDS = ("0.1", "1", "+Inf")
TEXT = "text/plain; version=0.0.4"
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
RELABELLING = """{job_name: j, metric_relabel_configs: [
    {source_labels: [instance], regex: '([^:]+):.*', target_label: host},
    {source_labels: [route], regex: '/d', action: drop}]}"""

# Memos of pure functions of immutable arguments (value -> text, pattern -> compiled regex,
# bounds -> bucket geometry): module-level by design, documented where they are defined.
PURE_MEMOS = (_NUMBERS_TEXT, _COUNTS_TEXT, _MEMBER_TEXT, _geometry, relabel_regex, search_regex, whole_regex)


def page(scrape: dict[str, Any], openmetrics: bool) -> str:
    """A page of a counter, a gauge, a histogram and a summary per route present (the text
    format's gauges after the blanks drawn: the parser's slower paths)."""
    routes = scrape["routes"]
    blank = " " if openmetrics else scrape.get("blank", " ")
    lines = ["# TYPE requests counter" if openmetrics else "# TYPE requests_total counter"]
    lines += [f'requests_total{{route="{r}",code="200"}} {scrape["counts"][i]}' for i, r in enumerate(routes)]
    lines.append("# TYPE inflight gauge")
    lines += [f'inflight{{route="{r}"}}{blank}{scrape["gauges"][i]!r}' for i, r in enumerate(routes)]
    lines.append("# TYPE latency_seconds histogram")
    for i, route in enumerate(routes):
        counts = [scrape["counts"][i] * (b + 1) for b in range(len(BOUNDS))]
        lines += [f'latency_seconds_bucket{{route="{route}",le="{le}"}} {c}' for le, c in zip(BOUNDS, counts, strict=True)]
        lines += [f'latency_seconds_sum{{route="{route}"}} {counts[-1] * 0.25}',
                  f'latency_seconds_count{{route="{route}"}} {counts[-1]}']
    lines += ["# TYPE rpc_seconds summary", 'rpc_seconds{quantile="0.5"} 0.2',
              f"rpc_seconds_sum {scrape['counts'][0] / 4}", f"rpc_seconds_count {scrape['counts'][0]}"]
    return "\n".join(lines) + ("\n# EOF\n" if openmetrics else "\n")


SCRAPES = st.lists(
    st.fixed_dictionaries({
        "routes": st.lists(st.sampled_from(ROUTES), min_size=1, max_size=4, unique=True),
        "counts": st.lists(st.integers(0, 1_000), min_size=4, max_size=4),
        "gauges": st.lists(st.floats(-1e6, 1e6) | st.sampled_from([float("nan"), float("inf")]), min_size=4, max_size=4),
        "blank": st.sampled_from([" ", "  ", "\t"]),
    }),
    min_size=2, max_size=5,
)


def pipeline(pages: list[str], content_type: str, memory: WarmMemory | None) -> list[Any]:
    """Every scrape's parse, relabelled families and translation (documents, baselines, drops),
    each scrape's baselines carried to the next, as the scrape cycle does."""
    job = parse_config(f"scrape_configs: [{RELABELLING}]").scrape_configs[0]
    target, emf = TargetInfo("j", "h:1", labels={"env": "prod"}), EmfSettings()
    out: list[Any] = []
    previous: TargetBaselines | None = None
    for at, text in enumerate(pages):
        parsed = parse_page(text, content_type, memory=memory)
        processed = process_page(parsed.families, job, {"job": "j", "instance": "h:1"}, memory=memory)
        result = translate(processed.families, target=target, previous=previous, settings=emf,
                           now_ms=T0 + at * MINUTE, memory=None if memory is None else memory.translation)
        previous = result.baselines
        out.append((repr(parsed), repr(processed), [serialize(d) for d in result.documents],
                    None if previous is None else previous.to_dict(), repr(result.dropped)))
    return out


@settings(max_examples=40, deadline=None)
@given(scrapes=SCRAPES, openmetrics=st.booleans())
def test_scrapes_come_out_the_same_with_a_warm_memory_and_without_one(scrapes: list[dict[str, Any]],
                                                                     openmetrics: bool) -> None:
    # Given several scrapes of one target (series come and go, counters reset, gauges go NaN)
    pages = [page(scrape, openmetrics) for scrape in scrapes]
    content_type = OPENMETRICS if openmetrics else TEXT
    # when they are parsed, relabelled and translated with one memory kept across them, and cold
    warm = pipeline(pages, content_type, WarmMemory())
    cold = pipeline(pages, content_type, None)
    # then every scrape's families, documents, baselines and drops are the same
    assert warm == cold


def test_a_memory_shared_by_two_targets_gives_each_its_own_output() -> None:
    # Given one memory and two targets whose pages share their series texts
    scrape = {"routes": list(ROUTES), "counts": [1, 2, 3, 4], "gauges": [1.0, 2.0, 3.0, 4.0]}
    memory = TranslationMemory()
    parser_memory = ParserMemory()
    text = page(scrape, openmetrics=False)
    outputs = {}
    for instance in ("a:1", "b:1"):
        families = parse(text, memory=parser_memory)
        result = translate(families, target=TargetInfo("j", instance), previous=None, settings=EmfSettings(),
                           now_ms=T0, memory=memory)
        cold = translate(parse(text), target=TargetInfo("j", instance), previous=None, settings=EmfSettings(), now_ms=T0)
        # when each is translated, then its documents are those of a cold translation
        outputs[instance] = [serialize(d) for d in result.documents]
        assert outputs[instance] == [serialize(d) for d in cold.documents]
    # and each target has its own cache in the memory
    assert set(memory.targets) == {("j", "a:1"), ("j", "b:1")}
    assert outputs["a:1"] != outputs["b:1"]


def test_every_entry_keyed_by_id_holds_the_object_of_that_id() -> None:
    # Given a memory that translated three scrapes whose pages were parsed cold (fresh label
    # dicts each time, freed when the scrape is done unless the memory holds them)
    memory = TranslationMemory()
    previous = None
    for at, counts in enumerate(([1, 2, 3, 4], [5, 6, 7, 8], [9, 9, 9, 9])):
        scrape = {"routes": list(ROUTES[at:]), "counts": counts, "gauges": [1.0] * 4}
        result = translate(parse(page(scrape, openmetrics=False)), target=TargetInfo("j", "h:1"), previous=previous,
                           settings=EmfSettings(), now_ms=T0 + at * MINUTE, memory=memory)
        previous = result.baselines
    # then every id-keyed entry holds its mapping: no id can be handed to another object
    (cache,) = memory.targets.values()
    keyed = [*cache.by_id.items(), *cache.buckets.items(), *(e for k in cache.series_keys.values() for e in k.items())]
    assert keyed
    assert all(key == id(entry[0]) for key, entry in keyed)


def _module_state() -> dict[int, tuple[str, int]]:
    """Size of every module-level container and lru_cache of the loaded promwatch modules."""
    memos = {id(memo) for memo in PURE_MEMOS}
    sizes: dict[int, tuple[str, int]] = {}
    for name, module in list(sys.modules.items()):
        if not (name == "promwatch" or name.startswith("promwatch.")) or module is None:
            continue
        for attribute, value in vars(module).items():
            if id(value) in memos:
                continue
            if isinstance(value, dict | list | set):
                sizes[id(value)] = (f"{name}.{attribute}", len(value))
            elif hasattr(value, "cache_info"):
                sizes[id(value)] = (f"{name}.{attribute}", value.cache_info().currsize)
    return sizes


def test_parsing_relabelling_and_translating_without_a_memory_leave_no_state_in_modules() -> None:
    # Given every module of the path loaded (a first scrape)
    first = {"routes": ["/a"], "counts": [1, 1, 1, 1], "gauges": [1.0] * 4}
    pipeline([page(first, openmetrics=False), page(first, openmetrics=True)], TEXT, None)
    before = _module_state()
    # when other targets' pages (new series, new settings) go through without a memory
    for at, instance in enumerate(("x:1", "y:2")):
        scrape = {"routes": list(ROUTES), "counts": [at + 1] * 4, "gauges": [at + 0.5] * 4}
        for openmetrics, content_type in ((False, TEXT), (True, OPENMETRICS)):
            text = page(scrape, openmetrics).replace("route=", f"{instance[0]}_route=")
            pipeline([text, text], content_type, None)
            translate(parse(text), target=TargetInfo(instance, instance), previous=None,
                      settings=EmfSettings(namespace=instance[0]), now_ms=T0)
    # then no module-level container grew: what a warm process remembers is in its memory object
    after = _module_state()
    assert {name: (size, after[key][1]) for key, (name, size) in before.items() if after[key][1] != size} == {}


def test_kubernetes_discovery_keeps_its_secret_resolver_in_the_environment_not_the_module() -> None:
    # Given two discovery environments (two runtimes) that bring no secret resolver
    from promwatch.discovery import DiscoveryEnv
    from promwatch.discovery.kubernetes import SECRETS
    from promwatch.discovery.kubernetes.cluster import _secrets

    first, second = (DiscoveryEnv(aws_client=lambda service, region: None) for _ in range(2))
    # when each resolves secrets twice
    resolvers = [_secrets(first), _secrets(first), _secrets(second)]
    # then each environment keeps its own resolver, in its extras
    assert resolvers[0] is resolvers[1] is first.extras[SECRETS]
    assert resolvers[2] is second.extras[SECRETS] and resolvers[2] is not resolvers[0]
