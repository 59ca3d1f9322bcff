"""Dashboards for what landed, when the emulator holds none to preview (pure).

One dashboard body per namespace, in CloudWatch's dashboard-body JSON: a widget per metric
name and dimension-key set, as a ``SEARCH`` over those keys. Distributions are drawn as
p50/p99, counters (``_total``, ``_count``, ``_sum``) as sums, everything else as averages.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_WIDGETS = 24
_COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_created")


def _search(namespace: str, name: str, keys: tuple[str, ...], stat: str, period: int, row: int) -> dict[str, Any]:
    schema = ",".join([f'"{namespace}"', *keys])
    return {"expression": f"SEARCH('{{{schema}}} MetricName=\"{name}\"', '{stat}', {period})",
            "label": stat, "id": f"e{row}"}


def _priority(name: str, distribution: bool) -> tuple[int, str]:
    # Distributions (latency) first, then gauges, then counters; alphabetical within.
    return (0 if distribution else 2 if name.endswith(_COUNTER_SUFFIXES) else 1, name)


def default_dashboards(
    metrics: Iterable[tuple[str, str, tuple[str, ...]]],
    *,
    distributions: Iterable[tuple[str, str]] = (),
    period: int = 60,
) -> dict[str, dict[str, Any]]:
    """A dashboard body per namespace for the metrics that exist.

    Parameters
    ----------
    metrics
        (namespace, metric name, dimension keys) of every metric that landed.
    distributions
        (namespace, metric name) of the metrics published as distributions.
    period
        The widgets' period, seconds.

    Returns
    -------
    dict
        Namespace -> dashboard body (``{"widgets": [...]}``) of at most 24 widgets.
    """
    by_namespace: dict[str, set[tuple[str, tuple[str, ...]]]] = {}
    for namespace, name, keys in metrics:
        by_namespace.setdefault(namespace, set()).add((name, tuple(sorted(keys))))
    is_distribution = set(distributions)
    bodies: dict[str, dict[str, Any]] = {}
    for namespace, entries in sorted(by_namespace.items()):
        ordered = sorted(entries, key=lambda e: (_priority(e[0], (namespace, e[0]) in is_distribution), -len(e[1])))
        widgets: list[dict[str, Any]] = []
        for index, (name, keys) in enumerate(ordered[:MAX_WIDGETS]):
            if (namespace, name) in is_distribution:
                rows = [[_search(namespace, name, keys, stat, period, row)] for row, stat in enumerate(("p50", "p99"))]
            else:
                stat = "Sum" if name.endswith(_COUNTER_SUFFIXES) else "Average"
                rows = [[_search(namespace, name, keys, stat, period, 0)]]
            widgets.append({
                "type": "metric", "x": (index % 2) * 12, "y": (index // 2) * 6, "width": 12, "height": 6,
                "properties": {"title": f"{name} by {', '.join(keys) or 'nothing'}", "view": "timeSeries",
                               "region": "us-east-1", "period": period, "metrics": rows},
            })
        bodies[namespace] = {"widgets": widgets}
    return bodies


def dashboard_catalogue(datums: Iterable[Any]) -> tuple[list[tuple[str, str, tuple[str, ...]]], list[tuple[str, str]]]:
    """(namespace, name, keys) of every metric and (namespace, name) of the distributions among ``datums``."""
    metrics: set[tuple[str, str, tuple[str, ...]]] = set()
    distributions: set[tuple[str, str]] = set()
    for datum in datums:
        metrics.add((datum.namespace, datum.name, tuple(k for k, _ in datum.dimensions)))
        if datum.distribution:
            distributions.add((datum.namespace, datum.name))
    return sorted(metrics), sorted(distributions)

