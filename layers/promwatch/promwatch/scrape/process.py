"""From a fetched page to relabelled families (pure): parse, target labels, metric relabelling, limits.

Target labels are attached as Prometheus does: with ``honor_labels: false`` a scraped label
that clashes with a target label is kept as ``exported_<name>`` and the target's value wins;
with ``honor_labels: true`` the scraped value wins. ``metric_relabel_configs`` see each
sample's full label set, ``__name__`` included. ``sample_limit`` and the label limits fail the
whole scrape (the target gets ``up`` 0), like Prometheus.
"""
from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from operator import itemgetter

from promwatch.exposition import ExpositionError, Family, ParseResult, Sample, parse_lenient
from promwatch.exposition.memory import SERIES_CACHE_SIZE
from promwatch.scrape.config import ScrapeJob
from promwatch.scrape.errors import LimitExceededError, ScrapeError
from promwatch.scrape.memory import WarmMemory
from promwatch.scrape.relabel import RelabelConfig, apply_rule, relabel_in_place

NAME_LABEL = "__name__"
_DROPPING_ACTIONS = frozenset({"keep", "drop", "keepequal", "dropequal"})
_labels = itemgetter(1)  # Sample.labels


class ParseFailedError(ScrapeError):
    """A strict job's page has a bad line (or an OpenMetrics page is malformed)."""


@dataclass(slots=True)
class ProcessedPage:
    """What one page became.

    Attributes
    ----------
    families
        Families after target labels and metric relabelling (empty families removed).
    samples_scraped
        Samples on the page (Prometheus' ``scrape_samples_scraped``).
    samples_post_relabel
        Samples kept by ``metric_relabel_configs``.
    parse_errors
        Bad lines skipped (lenient text format only).
    relabel_dropped
        Samples dropped by ``metric_relabel_configs``.
    """

    families: list[Family]
    samples_scraped: int
    samples_post_relabel: int
    parse_errors: list[ExpositionError] = field(default_factory=list)
    relabel_dropped: int = 0


def parse_page(
    text: str, content_type: str | None, *, max_samples: int | None = None, memory: WarmMemory | None = None
) -> ParseResult:
    """Parse a page, skipping bad text-format lines (:func:`parse_failure` judges them).

    ``max_samples`` stops the parse once the page holds more samples than that (the rest is
    counted): see :func:`parse_budget`. ``memory``: the parsed pieces of earlier pages (None:
    a cold parse; the result is the same).

    Raises
    ------
    ParseFailedError
        For any OpenMetrics error (OpenMetrics is always strict).
    """
    try:
        return parse_lenient(text, content_type=content_type, max_samples=max_samples,
                             memory=None if memory is None else memory.parser)
    except ExpositionError as exc:
        raise ParseFailedError(f"parse error: {exc}") from exc


def parse_failure(result: ParseResult, job: ScrapeJob) -> str | None:
    """Why a parsed page fails its scrape (the target gets ``up`` 0), or None.

    A strict job fails on its first bad line; any job fails when the parse stopped at its
    ``sample_limit``, or when the page had bad lines and not one valid sample (random bytes,
    an HTML error page: not a target that is up).
    """
    if result.truncated:
        return (f"sample_limit exceeded: {result.samples} samples on the page, limit {job.sample_limit} "
                "(parsing stopped at the limit)")
    if result.errors and job.strict:
        return f"parse error: {result.errors[0]}"
    if result.errors and not result.samples:
        return f"no valid sample on the page: {len(result.errors)} bad lines, the first: {result.errors[0]}"
    return None


def parse_budget(job: ScrapeJob) -> int | None:
    """How many samples the parser may build for ``job``: its ``sample_limit`` when no
    ``metric_relabel_configs`` rule can drop a sample (so a page over the limit fails it
    whatever follows, and need not be parsed whole), else None."""
    if not job.sample_limit:
        return None
    for rule in job.metric_relabel_configs:
        if rule.action in _DROPPING_ACTIONS or rule.target_label == NAME_LABEL or "$" in rule.target_label:
            return None
    return job.sample_limit


def _shared(labels: dict[str, str], relabelled: dict[tuple[tuple[str, str], ...], dict[str, str]]) -> dict[str, str]:
    """One mapping per distinct label set a relabelled sample ends with, the same on every scrape
    while ``relabelled`` (a :class:`WarmMemory`'s) holds it.

    The parser hands out the same mapping for a series scrape after scrape, and the translation
    keys what it works out per series on that (the identity contract of
    ``promwatch.emf.targetcache``); a mapping rebuilt by relabelling would be new each time, so
    the translation would redo that work and hold every scrape's mappings until its cache starts
    over. Bounded like the parser's caches.
    """
    key = tuple(labels.items())
    shared = relabelled.get(key)
    if shared is None:
        if len(relabelled) >= SERIES_CACHE_SIZE:
            relabelled.clear()
        shared = relabelled[key] = labels
    return shared


def _attach(labels: Mapping[str, str], target_labels: Mapping[str, str], honor_labels: bool) -> dict[str, str]:
    merged = dict(labels)
    for name, value in target_labels.items():
        if name in merged:
            if honor_labels:
                continue
            merged[f"exported_{name}"] = merged[name]
        merged[name] = value
    return merged


def process_page(
    families: list[Family],
    job: ScrapeJob,
    target_labels: Mapping[str, str],
    *,
    memory: WarmMemory | None = None,
) -> ProcessedPage:
    """Attach target labels, apply ``metric_relabel_configs`` and check the job's limits.

    ``memory`` keeps the relabelled label mappings for the next scrapes (None: kept for this
    page only; the result is the same).

    Raises
    ------
    LimitExceededError
        When the page breaks ``sample_limit``, ``label_limit``, ``label_name_length_limit``
        or ``label_value_length_limit``.
    """
    name_filters, rules = _leading_name_filters(job.metric_relabel_configs)
    name_kept: dict[str, bool] = {}
    target_keys = target_labels.keys()
    check_labels = bool(job.label_limit or job.label_name_length_limit or job.label_value_length_limit)
    rename_clashes = not job.honor_labels
    # No rules, no label checks: a family passes untouched unless a label clashes with a target label.
    untouched = not name_filters and not rules and not check_labels
    relabelled = {} if memory is None else memory.relabelled
    out: list[Family] = []
    scraped = kept = 0
    for family in families:
        if untouched and (not rename_clashes or all(map(target_keys.isdisjoint, map(_labels, family.samples)))):
            scraped += len(family.samples)
            kept += len(family.samples)
            if family.samples:
                out.append(family)
            continue
        samples: list[Sample] = []
        for sample in family.samples:
            scraped += 1
            if name_filters:
                keep = name_kept.get(sample.name)
                if keep is None:
                    keep = name_kept[sample.name] = all(apply_rule({NAME_LABEL: sample.name}, r) for r in name_filters)
                if not keep:
                    continue
            if rules:
                merged = _attach(sample.labels, target_labels, job.honor_labels)
                merged[NAME_LABEL] = sample.name
                if not relabel_in_place(merged, rules):
                    continue
                name = merged.pop(NAME_LABEL, "")
                if not name:
                    continue
                sample = sample._replace(name=name, labels=_shared(merged, relabelled))
            elif rename_clashes and not target_keys.isdisjoint(sample.labels):
                sample = sample._replace(
                    labels=_shared(_attach(sample.labels, target_labels, honor_labels=False), relabelled))
            # Otherwise the sample passes untouched: the translation adds the target labels
            # itself, and the parser's (shared, read-only) label mapping is not copied.
            if check_labels:
                _check_labels(sample.name, sample.labels, target_keys, job)
            samples.append(sample)
        kept += len(samples)
        if samples:
            unchanged = len(samples) == len(family.samples) and all(
                a is b for a, b in zip(samples, family.samples, strict=True)
            )
            out.append(family if unchanged else family._replace(samples=samples))
    if job.sample_limit and kept > job.sample_limit:
        raise LimitExceededError(f"sample_limit exceeded: {kept} samples after relabelling, limit {job.sample_limit}")
    return ProcessedPage(out, scraped, kept, relabel_dropped=scraped - kept)


def _leading_name_filters(rules: list[RelabelConfig]) -> tuple[list[RelabelConfig], list[RelabelConfig]]:
    """Split off the leading keep/drop rules that read only ``__name__``.

    Their verdict depends on the metric name alone, so it is computed once per name rather
    than once per sample (the usual ``metric_relabel_configs`` are such filters).
    """
    count = 0
    for rule in rules:
        if rule.action not in ("keep", "drop") or rule.source_labels != [NAME_LABEL]:
            break
        count += 1
    return rules[:count], rules[count:]


def _check_labels(
    name: str, labels: Mapping[str, str], target_keys: AbstractSet[str], job: ScrapeJob
) -> None:
    if job.label_limit:
        # Counted as Prometheus does: the full label set (target labels too) with __name__.
        count = len(labels) + len(target_keys - labels.keys()) + 1
        if count > job.label_limit:
            raise LimitExceededError(
                f"label_limit exceeded (metric: {name[:50]}, number of labels: {count}, limit: {job.label_limit})"
            )
    if job.label_name_length_limit:
        for label in labels:
            if len(label) > job.label_name_length_limit:
                raise LimitExceededError(
                    f"label_name_length_limit exceeded (metric: {name[:50]}, label name: {label[:50]}, "
                    f"length: {len(label)}, limit: {job.label_name_length_limit})"
                )
    if job.label_value_length_limit:
        for label, value in labels.items():
            if len(value) > job.label_value_length_limit:
                raise LimitExceededError(
                    f"label_value_length_limit exceeded (metric: {name[:50]}, label name: {label[:50]}, "
                    f"value: {value[:50]!r}, length: {len(value)}, limit: {job.label_value_length_limit})"
                )
