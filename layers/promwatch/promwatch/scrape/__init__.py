"""Scraping Prometheus targets: config, targets, relabelling, target guard, HTTP fetch, cycle.

Public API
----------
``load_config(source, *, ssm_client=None, s3_client=None) -> ScrapeConfig``
    From a path, ``ssm:/param`` or ``s3://bucket/key``, once (a :class:`ConfigLoader` caches it
    with a TTL). ``parse_config(text, config_dir=None)`` validates YAML text (pure; ``config_directory(path)`` is the
    directory a config file's relative paths are joined to). A bad config raises :class:`ConfigError` naming key path, value and
    what is allowed.
``run_cycle(config, *, jobs=None, targets=None, state_store, sink, pool=None, clock=time.time, memory=None, ...) -> CycleReport``
    One scrape of the selected targets: fetch -> parse -> metric relabel -> limits -> EMF
    (with baselines from the state store) -> sink, plus self-metrics.
``WarmMemory()``
    What a warm environment remembers from cycle to cycle (parsed series, translated targets;
    :mod:`promwatch.scrape.memory`): pass one as ``run_cycle(..., memory=)``.
``ScrapeRuntime(settings).handle(event)``
    The scrape function's work (schedule, SQS fan-out batches, or a ``{"backfill": {"prometheus":
    ...}}`` invoke); ``ScrapeSettings.from_env()``.
``promwatch.scrape.backfill``
    A Prometheus server's history -> the EMF the live path would have written (imported on use).
``relabel(labels, rules)``, ``build_targets(job)``, ``target_details(job)``
    The pieces, usable on their own. The target guard, the HTTP fetch and their errors
    (``refusal``, ``fetch``, ``FetchError``, ...) are :mod:`promwatch.httpclient`'s.
"""
from __future__ import annotations

from promwatch.scrape.config import GlobalConfig, ScrapeConfig, ScrapeJob, StaticConfig
from promwatch.scrape.cycle import run_cycle
from promwatch.scrape.errors import (
    ConfigError,
    ConfigReadError,
    ConfigValueError,
    LimitExceededError,
    ScrapeError,
    UnknownJobError,
)
from promwatch.scrape.fanout import FanoutBatch, FanoutError, FanoutSender
from promwatch.scrape.loader import ConfigLoader, config_directory, load_config, parse_config
from promwatch.scrape.memory import WarmMemory
from promwatch.scrape.relabel import RelabelConfig, hashmod, relabel
from promwatch.scrape.report import CycleReport, TargetReport
from promwatch.scrape.runtime import CycleDeliveryError, ScrapeRuntime
from promwatch.scrape.selection import Selection, discoverer, select_targets
from promwatch.scrape.settings import ScrapeSettings
from promwatch.scrape.targets import DroppedTarget, Target, TargetDetail, build_targets, target_details

__all__ = [
    "ConfigError",
    "ConfigLoader",
    "ConfigReadError",
    "ConfigValueError",
    "CycleDeliveryError",
    "CycleReport",
    "DroppedTarget",
    "FanoutBatch",
    "FanoutError",
    "FanoutSender",
    "GlobalConfig",
    "LimitExceededError",
    "RelabelConfig",
    "ScrapeConfig",
    "ScrapeError",
    "ScrapeJob",
    "ScrapeRuntime",
    "ScrapeSettings",
    "Selection",
    "StaticConfig",
    "Target",
    "TargetDetail",
    "TargetReport",
    "UnknownJobError",
    "WarmMemory",
    "build_targets",
    "config_directory",
    "discoverer",
    "hashmod",
    "load_config",
    "parse_config",
    "relabel",
    "run_cycle",
    "select_targets",
    "target_details",
]
