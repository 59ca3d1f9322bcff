"""Namespace, units and storage resolution of the metrics a translation publishes.

Units: the first ``units`` rule whose regex matches the whole metric name; otherwise
``Count`` for ``_count``/``_gcount`` series, ``Seconds``/``Bytes`` when the OpenMetrics unit
or the name's base (without ``_total``, ``_sum``, ...) says seconds or bytes, ``Count`` for
other counter increases, and no unit for the rest.
"""
from __future__ import annotations

import re

from promwatch.emf.config import EmfSettings
from promwatch.emf.identifiers import namespace_problem
from promwatch.limits import EMF_NAMESPACE_MAX_CHARS

_NOT_NAMESPACE = re.compile(r"[^0-9A-Za-z.\-_/#: ]")
_SUFFIXES = ("_total", "_sum", "_gsum", "_bucket", "_created", "_info")
_BASE_UNITS = {"seconds": "Seconds", "bytes": "Bytes"}
_MAX_NAMES = 65_536
"""Metric names whose unit a :class:`MetricNaming` keeps (it starts over when full)."""


def namespace_for(settings: EmfSettings, job: str) -> str:
    """The configured namespace, or :func:`default_namespace` of the job."""
    if settings.namespace:
        return settings.namespace
    return default_namespace(job)


def default_namespace(job: str) -> str:
    """The job name with characters a namespace cannot hold as ``_`` (its first character too
    when it is no namespace yet: empty, blank, leading ``:``), cut to the namespace limit."""
    namespace = _NOT_NAMESPACE.sub("_", job)[:EMF_NAMESPACE_MAX_CHARS]
    if namespace_problem(namespace) is not None:
        namespace = "_" + namespace[1:]
    return namespace


class MetricNaming:
    """Unit and storage resolution per metric name, cached (bounded) for every translation
    with the same settings: see :meth:`promwatch.emf.targetcache.TranslationMemory.naming`."""

    __slots__ = ("_cache", "_settings")

    def __init__(self, settings: EmfSettings) -> None:
        self._settings = settings
        self._cache: dict[tuple[str, str, bool], tuple[str, int]] = {}

    def unit_and_resolution(self, name: str, family_unit: str, cumulative: bool) -> tuple[str, int]:
        """(CloudWatch unit, storage resolution) of the metric ``name``.

        Parameters
        ----------
        name
            The metric name as published.
        family_unit
            The family's OpenMetrics unit (``""`` when none).
        cumulative
            Whether the metric is a counter increase.
        """
        key = (name, family_unit, cumulative)
        cached = self._cache.get(key)
        if cached is None:
            cached = (self._unit(name, family_unit, cumulative), self._resolution(name))
            if len(self._cache) >= _MAX_NAMES:
                self._cache.clear()
            self._cache[key] = cached
        return cached

    def _unit(self, name: str, family_unit: str, cumulative: bool) -> str:
        for pattern, unit in self._settings.unit_rules:
            if pattern.matches(name):
                return unit
        if name.endswith(("_count", "_gcount")):
            return "Count"
        if family_unit in _BASE_UNITS:
            return _BASE_UNITS[family_unit]
        base = name
        for suffix in _SUFFIXES:
            if base.endswith(suffix):
                base = base[: -len(suffix)]
                break
        for word, unit in _BASE_UNITS.items():
            if base.endswith("_" + word):
                return unit
        return "Count" if cumulative else "None"

    def _resolution(self, name: str) -> int:
        setting = self._settings.storage_resolution
        if isinstance(setting, int):
            return setting
        for pattern, resolution in self._settings.resolution_rules:
            if pattern.matches(name):
                return resolution
        return 60

