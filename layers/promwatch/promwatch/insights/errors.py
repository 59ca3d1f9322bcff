"""Errors of the Container Insights roll-ups."""
from __future__ import annotations

from promwatch.errors import PromwatchError, PromwatchValueError


class InsightsError(PromwatchError):
    """Root of the errors the insights package raises."""


class RulesError(InsightsError):
    """A roll-up rules document (or one of its derive expressions) is not valid."""


class EventDecodeError(InsightsError):
    """A Lambda event (subscription payload or Kinesis record) could not be decoded."""


class RulesValueError(RulesError, PromwatchValueError):
    """A value of a rules document refused by its validator; also a ``ValueError``, which
    pydantic reports under the value's key path."""


class EventValueError(EventDecodeError, PromwatchValueError):
    """A value of a log event refused by the event model's validator (no timestamp, a negative
    one); also a ``ValueError``, which pydantic reports as the event's problem."""


class InsightsSettingsError(InsightsError):
    """The insights function's environment holds a bad value (names the variable)."""


class BackfillError(InsightsError):
    """A backfill request cannot be served (too old, bad range, foreign continuation token)."""
