"""An in-memory stand-in for promwatch's record of its dashboards (the SSM one needs AWS)."""
from __future__ import annotations

from collections.abc import Iterable

from promwatch.reconcile import OwnershipRecordError


class MemoryRecord:
    """A :class:`promwatch.reconcile.DashboardRecord` in a set; ``calls`` logs every write.

    ``unreadable`` makes :meth:`names` fail as SSM does when throttled past botocore's retries.
    """

    def __init__(self, names: Iterable[str] = (), *, unreadable: bool = False) -> None:
        self.recorded = set(names)
        self.unreadable = unreadable
        self.calls: list[tuple[str, str]] = []

    def names(self) -> frozenset[str]:
        if self.unreadable:
            raise OwnershipRecordError("the record could not be read: ThrottlingException")
        return frozenset(self.recorded)

    def add(self, name: str) -> None:
        self.calls.append(("add", name))
        self.recorded.add(name)

    def remove(self, name: str) -> None:
        self.calls.append(("remove", name))
        self.recorded.discard(name)
