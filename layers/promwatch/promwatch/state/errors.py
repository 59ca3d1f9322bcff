"""State errors."""
from __future__ import annotations

from promwatch.errors import PromwatchError


class StateError(PromwatchError):
    """Baselines could not be loaded or stored."""


class StateCorruptError(StateError):
    """Stored baselines are not in the expected form."""


class StateConflictError(StateError):
    """Someone else stored the target's baselines since we loaded them (an optimistic race lost).

    Reload, recompute and save again; :func:`promwatch.state.update_with_retry` does that.
    """


class StateTooLargeError(StateError):
    """The baselines of one target do not fit the store even compressed and split."""
