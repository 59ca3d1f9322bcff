"""The mutable family under construction in the OpenMetrics parser."""
from __future__ import annotations

from promwatch.exposition.model import Family, Sample


class FamilyBuilder:
    """A family whose metadata and samples are still arriving."""

    __slots__ = ("has_help", "has_type", "has_unit", "help", "name", "samples", "type", "unit")

    def __init__(self, name: str, type_: str = "unknown") -> None:
        self.name = name
        self.type = type_
        self.help = ""
        self.unit = ""
        self.has_help = False
        self.has_type = False
        self.has_unit = False
        self.samples: list[Sample] = []

    def build(self) -> Family:
        """The finished, immutable family."""
        return Family(self.name, self.type, self.help, self.unit, self.samples)
