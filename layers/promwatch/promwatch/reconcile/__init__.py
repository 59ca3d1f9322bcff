"""promwatch.reconcile."""
from __future__ import annotations
