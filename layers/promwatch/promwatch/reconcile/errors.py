"""Errors of the reconciler: an invalid spec, and failures talking to CloudWatch."""
from __future__ import annotations

from collections.abc import Sequence

from promwatch.errors import PromwatchError, PromwatchValueError


class ReconcileError(PromwatchError):
    """Root of the reconciler's errors."""


class ReconcileSettingsError(ReconcileError):
    """The reconcile function's environment holds a bad value (names the variable)."""


class SpecError(ReconcileError):
    """A spec directory that cannot be applied; ``problems`` lists every reason, one per line.

    Each problem reads ``<file>: <key path>: <what is wrong with the value>; <what was expected>``.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        header = f"the spec is invalid ({count} problem{'s' if count != 1 else ''}); nothing was changed"
        super().__init__("\n".join([header, *self.problems]))


class SpecValueError(ReconcileError, PromwatchValueError):
    """A value of a spec refused by its validator; also a ``ValueError``, which the spec's loader
    reports as a located problem of the :class:`SpecError`."""


class PackError(ReconcileError):
    """A ``generate`` pack that cannot be expanded because of one of its keys (``key``), found only
    when the pack is expanded (the scrape config it reads, the outputs of its job)."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


class OwnershipRecordError(ReconcileError):
    """promwatch's record of the dashboards it created could not be read or written.

    Without the record a dashboard promwatch created cannot be told from a same-named one that
    someone else made, so a plan stops rather than guess.
    """


class PromQLError(ReconcileError, PromwatchValueError):
    """A PromQL query that is not valid PromQL, or returns the wrong type.

    Also a ``ValueError``, so the spec's validators report it as a located problem
    (``<file>: alarms[0].promql.query: <message>``).
    """
