"""promwatch.backfill."""
from __future__ import annotations
