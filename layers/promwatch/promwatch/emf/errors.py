"""EMF errors."""
from __future__ import annotations

from promwatch.errors import PromwatchError, PromwatchValueError


class EmfError(PromwatchError):
    """A document could not be made to fit the Embedded Metric Format."""


class EmfConfigError(EmfError, PromwatchValueError):
    """A value of a job's ``emf`` settings (or a dimension value) that EMF or CloudWatch does not
    accept; also a ``ValueError``, which pydantic reports under the value's key path."""


class EmfValidationError(EmfError):
    """A document breaks the EMF specification; ``problems`` lists every breach found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class EmfReadOnlyError(EmfError, TypeError):
    """A dict or list nested in a written EMF document was to be changed in place: they are
    read-only (the document keeps its JSON text, and documents share them); copy first."""
