"""Errors of the local emulator, the sample app and the demo."""
from __future__ import annotations

from promwatch.errors import PromwatchError


class LocalError(PromwatchError):
    """Something in the local (no-AWS) run failed."""


class EmulatorError(LocalError):
    """The embedded AWS emulator (moto server) could not be started or reached."""


class StackError(LocalError):
    """template.yaml declares something the emulator cannot create, or declares it wrongly."""


class SampleAppError(LocalError):
    """The sample app could not be started."""


class EmulatorGap(LocalError):
    """A request the emulator would get wrong (moto drops fields it does not know), so it is not sent."""
