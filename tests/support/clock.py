"""Times for tests whose data must be recent for AWS.

moto checks CloudWatch Logs timestamps against its own wall clock, as AWS does (no older than
14 days, no more than 2 hours ahead), so such data cannot sit at a fixed date. A test reads the
wall clock once, through :func:`recent_hour_ms`, places its data relative to that hour, and
hands the code under test a clock derived from it (``clock=``, ``now_ms=``, ``clock_ms=``):
no second reading can fall into another minute, hour or day than the first, so the test passes
whatever the wall clock says.
"""
from __future__ import annotations

import time

HOUR_MS = 3_600_000
RECENT_AGE_MS = 2 * HOUR_MS
"""How far back the recent hour starts at least: past every period boundary a roll-up or a
backfill waits for, and far inside the 14 days CloudWatch Logs accepts."""


def recent_hour_ms() -> int:
    """The start of an hour that began between 2 and 3 hours ago, epoch milliseconds.

    Aligned for every roll-up period and backfill chunk the tests use (1 minute, 10 minutes,
    1 hour); read from the wall clock once per call.
    """
    return (int(time.time() * 1000) - RECENT_AGE_MS) // HOUR_MS * HOUR_MS

