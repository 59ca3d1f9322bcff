"""promwatch.scrape."""
from __future__ import annotations
