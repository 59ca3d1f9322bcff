"""Scraping Prometheus targets: config, targets, relabelling, target guard, HTTP fetch, cycle.

Public API
----------
``load_config(source, *, ssm_client=None, s3_client=None) -> ScrapeConfig``
    From a path, ``ssm:/param`` or ``s3://bucket/key``, once (a :class:`ConfigLoader` caches it
    with a TTL). ``parse_config(text)`` validates YAML text. A bad config raises :class:`ConfigError` naming key path, value and
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
``relabel(labels, rules)``, ``build_targets(job)``, ``target_details(job)``, ``refusal(url, allow_link_local=...)``, ``fetch(request)``
    The pieces, usable on their own. ``BLOCKED_RANGES`` lists what the target guard refuses and why.
"""
from __future__ import annotations

from promwatch.credentials import CredentialKind, credential_problem
from promwatch.httpclient.config import Authorization, BasicAuth, TlsConfig
from promwatch.httpclient.connection import ConnectionPool, TlsSettings
from promwatch.httpclient.fetch import FetchPolicy, FetchRequest, FetchResponse, fetch, shared_pool
from promwatch.httpclient.guard import BLOCKED_RANGES, GuardPolicy, refusal
from promwatch.httpclient.secrets import SecretResolver
from promwatch.scrape.config import GlobalConfig, ScrapeConfig, ScrapeJob, StaticConfig
from promwatch.scrape.cycle import run_cycle
from promwatch.scrape.errors import (
    BodyTooLargeError,
    ConfigError,
    ConfigReadError,
    FetchError,
    InvalidTargetError,
    LimitExceededError,
    ScrapeError,
    SecretError,
    TargetRefusedError,
)
from promwatch.scrape.fanout import FanoutBatch, FanoutError, FanoutSender
from promwatch.scrape.loader import ConfigLoader, load_config, parse_config
from promwatch.scrape.memory import WarmMemory
from promwatch.scrape.relabel import RelabelConfig, hashmod, relabel
from promwatch.scrape.report import CycleReport, TargetReport
from promwatch.scrape.runtime import CycleDeliveryError, ScrapeRuntime
from promwatch.scrape.selection import Selection, discoverer, select_targets
from promwatch.scrape.settings import ScrapeSettings
from promwatch.scrape.targets import DroppedTarget, Target, TargetDetail, build_targets, target_details

__all__ = [
    "BLOCKED_RANGES",
    "Authorization",
    "BasicAuth",
    "BodyTooLargeError",
    "ConfigError",
    "ConfigLoader",
    "ConfigReadError",
    "ConnectionPool",
    "CredentialKind",
    "CycleDeliveryError",
    "CycleReport",
    "DroppedTarget",
    "FanoutBatch",
    "FanoutError",
    "FanoutSender",
    "FetchError",
    "FetchPolicy",
    "FetchRequest",
    "FetchResponse",
    "GlobalConfig",
    "GuardPolicy",
    "InvalidTargetError",
    "LimitExceededError",
    "RelabelConfig",
    "ScrapeConfig",
    "ScrapeError",
    "ScrapeJob",
    "ScrapeRuntime",
    "ScrapeSettings",
    "SecretError",
    "SecretResolver",
    "Selection",
    "StaticConfig",
    "Target",
    "TargetDetail",
    "TargetRefusedError",
    "TargetReport",
    "TlsConfig",
    "TlsSettings",
    "WarmMemory",
    "build_targets",
    "credential_problem",
    "discoverer",
    "fetch",
    "hashmod",
    "load_config",
    "parse_config",
    "refusal",
    "relabel",
    "run_cycle",
    "select_targets",
    "shared_pool",
    "target_details",
]
