"""A job's series budget (``max_series``): what CloudWatch may bill for one target, at most.

Pure but for the digest cache :func:`admit` reads and adds to (a warm environment's).

What a series is, for the budget: a **CloudWatch metric** -- namespace, metric name and the
dimension names and values of one dimension set -- as the target's EMF documents publish it,
after relabelling, ``metric_declarations`` and ``dimension_rollup_option``. That is the unit
CloudWatch bills (a custom metric per month), so a budget of N bounds the target's bill at N
metrics whatever the exposition does: a histogram is one metric (its distribution), a series
that ``metric_declarations`` leaves out costs nothing and takes no slot, and a series published
under two dimension sets takes two. (A Prometheus series -- name and labels, each ``le``
bucket its own -- would count what the target exposes, not what it costs.) ``up`` and the other
scrape metrics are always published and not counted.

Scope: each target of the job has the budget (as Prometheus' ``sample_limit`` is per target).
A target's series are scraped by one invocation at a time (the target's claim), so its admitted
set lives in its own state item, committed with its baselines once its documents were
delivered. A job's bill is at most ``max_series`` times its targets (the ``ActiveSeries``
self-metric's Sum over an interval is the job's total).

Admission, per scrape:

1. Series admitted before stay admitted while they keep appearing: a cardinality explosion
   cannot push out what was already flowing.
2. A series admitted before but missing from the scrape keeps its slot for the job's
   ``emf.series_retention_seconds`` (as its counter baseline is kept: a target that restarts
   comes back with the same series), then frees it.
3. A new series is admitted while slots are free, in the page's order; beyond them its values
   are withheld and counted (``DroppedSamples{Reason=series_budget}``, one per metric value).
4. When the budget shrinks below what was admitted, the most recently seen series keep their
   slots (ties: by digest, so every invocation decides alike).

A series is remembered by an 8-byte BLAKE2b digest of its identity (a collision, odds of about
3 in 10^10 among 100,000 series, would let one new series share an admitted one's slot).

Scope left out: a job-wide budget (``max_series_per_job``) would need one admitted set that every
invocation scraping the job's targets updates each cycle -- a conditional write per target on a
shared item, retried on every race. Per target, the set rides with the baselines the target's
claimant writes anyway.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

SERIES_BUDGET_DROP_REASON = "series_budget"
"""Drop reason of the values of series beyond the budget (self-metric ``DroppedSamples``)."""
DimensionsKey = tuple[object, ...]
"""A dimension set as a document shows it: (namespace, dimension keys, *their values)."""
DIGEST_CACHE_SIZE = 100_000
"""Dimension sets whose metrics' digests a warm environment keeps (shared by its targets: a
digest names a metric, whoever publishes it); then it starts over."""
MAX_SERIES_BUDGET = 100_000
"""The largest ``max_series``: its admitted set (12 bytes a series in the target's state item)
stays a few parts of a DynamoDB item."""


def _prefix(namespace: str, dimensions: Iterable[tuple[str, str]]) -> Any:
    """A BLAKE2b state that has read the namespace and the dimensions (sorted: CloudWatch does
    not order them); each metric name of a dimension set continues a copy of it."""
    text = "\x1f".join([namespace, *(f"{k}\x1e{v}" for k, v in sorted(dimensions))]) + "\x1d"
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8)


def series_digest(namespace: str, name: str, dimensions: Iterable[tuple[str, str]]) -> int:
    """The 8-byte digest of one CloudWatch metric: namespace, name, dimensions (name, value) in
    any order."""
    state = _prefix(namespace, dimensions)
    state.update(name.encode("utf-8", "surrogatepass"))
    return int.from_bytes(state.digest(), "little")


@dataclass(slots=True)
class Admission:
    """What the budget let through of one scrape.

    Attributes
    ----------
    documents
        The documents to publish: untouched when all their metrics were admitted, rebuilt
        without the withheld ones, left out when none was admitted.
    admitted
        Digest -> when last seen (epoch ms): the set to commit with the delivered documents.
    active
        Distinct series published by this scrape (the ``ActiveSeries`` self-metric).
    dropped
        Metric values withheld.
    """

    documents: list[dict[str, Any]]
    admitted: dict[int, int]
    active: int = 0
    dropped: int = 0
    withheld: list[str] = field(default_factory=list)
    """Names of withheld metrics (the first five distinct, for the log)."""


def _remembered(previous: Mapping[int, int], budget: int, now_ms: int, retention_ms: float) -> dict[int, int]:
    """The previous admitted set without the series missing for longer than the retention, cut
    to the budget (most recently seen first) when it shrank."""
    horizon = now_ms - retention_ms
    if not previous or min(previous.values()) >= horizon:
        kept = dict(previous)  # the usual case, without a comparison per series in Python
    else:
        kept = {digest: seen for digest, seen in previous.items() if seen >= horizon}
    if len(kept) > budget:
        newest = sorted(kept.items(), key=lambda item: (-item[1], item[0]))[:budget]
        kept = dict(newest)
    return kept


def admit(
    documents: Sequence[dict[str, Any]],
    *,
    exempt: int,
    budget: int,
    previous: Mapping[int, int],
    now_ms: int,
    retention_seconds: float,
    digests: dict[DimensionsKey, dict[str, int]] | None = None,
) -> Admission:
    """Apply a target's series budget to its scrape's documents (see the module docstring).

    Parameters
    ----------
    documents
        The translation's documents; the first ``exempt`` (the scrape's own ``up`` and the
        like) pass untouched and uncounted.
    budget
        ``max_series`` (> 0).
    previous
        The admitted set committed by the target's last delivered scrape (digest -> last seen,
        epoch ms); empty for a first scrape.
    now_ms
        This scrape's time.
    retention_seconds
        How long a missing series keeps its slot (the job's ``emf.series_retention_seconds``).
    digests
        The digests earlier scrapes worked out (a :class:`~promwatch.scrape.memory.WarmMemory`'s
        ``series_digests``), read and added to; None: worked out for this call alone (the
        result is the same).

    Returns
    -------
    Admission
        The documents to publish and the admitted set to commit with them.
    """
    admitted = _remembered(previous, budget, now_ms, retention_seconds * 1000)
    out: list[dict[str, Any]] = list(documents[:exempt])
    published: set[int] = set()
    dropped = 0
    withheld: list[str] = []
    known = {} if digests is None else digests
    for document in documents[exempt:]:
        refused: set[str] = set()
        for directive in document["_aws"]["CloudWatchMetrics"]:
            namespace = directive["Namespace"]
            metrics = directive["Metrics"]
            sets = directive["Dimensions"]
            if len(sets) == 1:  # the usual directive: a metric is one CloudWatch metric
                for definition, digest in zip(metrics, _digests(namespace, sets[0], document, metrics, known),
                                              strict=True):
                    if digest in admitted or len(admitted) < budget:
                        admitted[digest] = now_ms
                        published.add(digest)
                    else:
                        refused.add(definition["Name"])
                continue
            per_set = [_digests(namespace, keys, document, metrics, known) for keys in sets]
            for index, definition in enumerate(metrics):
                ids = [each[index] for each in per_set]
                new = [digest for digest in ids if digest not in admitted]
                if new and len(admitted) + len(set(new)) > budget:
                    refused.add(definition["Name"])
                    continue
                for digest in ids:
                    admitted[digest] = now_ms
                published.update(ids)
        if not refused:
            out.append(document)
            continue
        dropped += _values(document, refused)
        for name in sorted(refused):
            if len(withheld) < 5 and name not in withheld:
                withheld.append(name)
        kept = _without(document, refused)
        if kept is not None:
            out.append(kept)
    return Admission(out, admitted, len(published), dropped, withheld)


def _digests(namespace: str, keys: Sequence[str], document: Mapping[str, Any],
             metrics: Sequence[Mapping[str, Any]], known: dict[DimensionsKey, dict[str, int]]) -> list[int]:
    """The digest of each metric of ``metrics`` under one dimension set of ``document``, from
    ``known`` when an earlier scrape worked it out (added to it otherwise)."""
    dimensions = (namespace, tuple(keys), *map(document.__getitem__, keys))
    by_name = known.get(dimensions)
    if by_name is None:
        if len(known) >= DIGEST_CACHE_SIZE:
            known.clear()
        by_name = known[dimensions] = {}
    out: list[int] = []
    prefix = None
    for definition in metrics:
        name = definition["Name"]
        digest = by_name.get(name)
        if digest is None:
            if prefix is None:
                prefix = _prefix(namespace, [(key, document[key]) for key in keys])
            state = prefix.copy()
            state.update(name.encode("utf-8", "surrogatepass"))
            digest = by_name[name] = int.from_bytes(state.digest(), "little")
        out.append(digest)
    return out


def _values(document: Mapping[str, Any], names: set[str]) -> int:
    """How many values of ``names`` the document carries (a value array counts each)."""
    count = 0
    for name in names:
        value = document.get(name)
        count += len(value) if isinstance(value, list) else 1
    return count


def _without(document: Mapping[str, Any], refused: set[str]) -> dict[str, Any] | None:
    """A copy of ``document`` without the metrics named in ``refused``; None when none is left.

    The ``_aws`` member may be shared with other documents (:mod:`promwatch.emf.documents`):
    it is copied, never changed in place.
    """
    directives = []
    for directive in document["_aws"]["CloudWatchMetrics"]:
        metrics = [m for m in directive["Metrics"] if m["Name"] not in refused]
        if metrics:
            directives.append({**directive, "Metrics": metrics})
    if not directives:
        return None
    body = {key: value for key, value in document.items() if key not in refused}
    body["_aws"] = {**document["_aws"], "CloudWatchMetrics": directives}
    return body
