"""promwatch.sinks."""
from __future__ import annotations
