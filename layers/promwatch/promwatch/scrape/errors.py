"""Errors of the scrape domain (a target's fetch fails with :mod:`promwatch.httpclient.errors`)."""
from __future__ import annotations

from promwatch.errors import PromwatchError, PromwatchValueError

__all__ = [
    "ConfigError",
    "ConfigReadError",
    "ConfigValueError",
    "LimitExceededError",
    "PrometheusBackfillError",
    "ScrapeError",
    "UnknownJobError",
]


class ScrapeError(PromwatchError):
    """Root of the scrape domain's errors."""


class ConfigError(ScrapeError):
    """A scrape configuration is invalid or cannot be read.

    The message names the key path (``scrape_configs[0].relabel_configs[1].action``), the bad
    value and what is allowed.
    """


class ConfigReadError(ConfigError):
    """A scrape configuration could not be read (file, SSM parameter, S3 object), as opposed
    to one that was read and is invalid."""


class ConfigValueError(ConfigError, PromwatchValueError):
    """A value of a scrape configuration refused by its validator (pydantic locates it under its
    key path: the error is also a ``ValueError``)."""


class UnknownJobError(ConfigError, KeyError):
    """A job asked for by name that the scrape configuration does not have (also a ``KeyError``,
    as a failed lookup by name)."""


class LimitExceededError(ScrapeError):
    """A scrape broke ``sample_limit`` or a label limit; like Prometheus, the target fails."""


class PrometheusBackfillError(ScrapeError):
    """A backfill from a Prometheus server cannot be served: a bad range (reversed, older than
    CloudWatch accepts, not yet over), a foreign continuation token, or an answer of the server
    that is not what its HTTP API documents."""
