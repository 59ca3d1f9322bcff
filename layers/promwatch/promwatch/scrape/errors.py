"""Errors of the scrape domain."""
from __future__ import annotations

from promwatch.errors import PromwatchError


class ScrapeError(PromwatchError):
    """Root of the scrape domain's errors."""


class ConfigError(ScrapeError):
    """A scrape configuration is invalid or cannot be read.

    The message names the key path (``scrape_configs[0].relabel_configs[1].action``), the bad
    value and what is allowed.
    """


class SecretError(ScrapeError):
    """A credential reference (file, ``ssm:``, ``secretsmanager:``) could not be resolved.

    The message names the reference, never the secret.
    """


class FetchError(ScrapeError):
    """A target could not be scraped (connection, HTTP status, size cap, timeout, guard)."""


class TargetRefusedError(FetchError):
    """The target guard refused a target (a blocked address, or one it cannot read safely)."""


class InvalidTargetError(TargetRefusedError):
    """A target URL or address the scraper will not read: userinfo, backslashes, control
    characters, a non-canonical numeric host, a bad port (see :mod:`promwatch.scrape.url`)."""


class BodyTooLargeError(FetchError):
    """A response body grew beyond ``body_size_limit``; reading stopped at the cap."""


class LimitExceededError(ScrapeError):
    """A scrape broke ``sample_limit`` or a label limit; like Prometheus, the target fails."""
