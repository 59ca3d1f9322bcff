"""Errors of the Container Insights roll-ups."""
from __future__ import annotations

from promwatch.errors import PromwatchError


class InsightsError(PromwatchError):
    """Root of the errors the insights package raises."""


class RulesError(InsightsError):
    """A roll-up rules document (or one of its derive expressions) is not valid."""


class InsightsSettingsError(InsightsError):
    """The insights function's environment holds a bad value (names the variable)."""


class EventDecodeError(InsightsError):
    """A Lambda event (subscription payload or Kinesis record) could not be decoded."""


class BackfillError(InsightsError):
    """A backfill request cannot be served (too old, bad range, foreign continuation token)."""
