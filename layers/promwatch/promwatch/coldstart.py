"""Lambda INIT: how a handler module builds what its execution environment keeps.

A handler's INIT imports its libraries and builds its long-lived objects (Powertools, the
settings, the runtime): some 50,000 objects that live as long as the execution environment,
and hardly any cyclic garbage (under 0.5 MB, measured on the three handlers). The cyclic
garbage collector nevertheless walks them again and again while they load: ~45 ms of a
cold start (benchmarks/bench_coldstart.py). :func:`init_phase` pauses it for INIT and then
moves what INIT built to the permanent generation (:func:`gc.freeze`), so the collections
of later invocations skip those objects too.

What every invocation needs belongs to INIT, which Lambda runs with a full CPU: the AWS
client a handler calls on every invocation is made there, with :func:`aws_client`.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["AWS_CONNECT_TIMEOUT_SECONDS", "AWS_MAX_ATTEMPTS", "AWS_MAX_POOL_CONNECTIONS", "AWS_READ_TIMEOUT_SECONDS",
           "aws_client", "init_phase"]

# Every AWS client of the functions is made with these (``aws_client``). botocore's defaults
# (60 s to connect, 60 s to read, "legacy" retries: 5 attempts, DynamoDB's 10) let one hung
# call outlast a 60 s invocation. "standard" retries, as every AWS SDK does them, retry
# throttling (backoff from 1 s), 5xx (from 50 ms; DynamoDB 25 ms) and connection errors with
# full jitter, and stop retrying when most recent calls of the client failed (retry quota);
# "adaptive" would also make the scrape's worker threads wait on a client-side rate limiter
# that a short-lived execution environment never gets to tune. With these figures a call that
# cannot succeed gives up within about 3 * (3 + 5) s + 3 s of backoff.
AWS_CONNECT_TIMEOUT_SECONDS = 3.0
"""Connecting to an AWS endpoint takes milliseconds; past this it is down."""
AWS_READ_TIMEOUT_SECONDS = 5.0
"""The functions' calls (GetItem, PutItem, PutLogEvents, SendMessageBatch, GetParameter,
PutMetricAlarm, ...) answer in milliseconds; backfill's FilterLogEvents gets longer."""
AWS_MAX_ATTEMPTS = 3
"""Tries of one call, the first included (botocore's "standard" retry mode)."""
AWS_MAX_POOL_CONNECTIONS = 32
"""Connections a client keeps: the scrape's workers (16 by default) share one DynamoDB client."""


@contextmanager
def init_phase() -> Iterator[None]:
    """Run a handler module's INIT without cyclic GC passes, then freeze what it built.

    Use it around the module-scope work of ``functions/<name>/app.py``::

        with init_phase():
            from promwatch.scrape import ScrapeRuntime, ScrapeSettings
            runtime = ScrapeRuntime(ScrapeSettings.from_env())

    If the block raises, nothing is frozen. Collection is switched back on only if it was on
    when the block started.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()


def aws_client(
    service: str,
    *,
    region_name: str | None = None,
    max_attempts: int = AWS_MAX_ATTEMPTS,
    read_timeout: float = AWS_READ_TIMEOUT_SECONDS,
    connect_timeout: float = AWS_CONNECT_TIMEOUT_SECONDS,
) -> Any:
    """A client for ``service``, made from botocore without loading boto3, with promwatch's
    timeouts and retries.

    It is the client ``boto3.client(service)`` returns (boto3 wraps botocore's), configured
    the same way (environment, ``AWS_ENDPOINT_URL``, shared config files), minus boto3's own
    modules (resources, s3transfer): ~25 ms less of a cold start for a handler that needs
    neither. Every AWS client of the functions is made here, so all of them retry and time
    out alike (see :data:`AWS_MAX_ATTEMPTS` and the timeouts).

    Parameters
    ----------
    service
        The service name (``dynamodb``, ``cloudwatch``, ...).
    region_name
        None: the region of the environment (``AWS_DEFAULT_REGION``, set by Lambda).
    max_attempts
        Tries per call, the first included ("standard" retry mode); 1 for a caller that
        retries by itself.
    read_timeout, connect_timeout
        Seconds.

    Returns
    -------
    botocore.client.BaseClient
        The service's client, in a botocore session of its own.
    """
    from botocore.config import Config
    from botocore.session import get_session

    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        # botocore's "max_attempts" counts the retries only; "total_max_attempts" the tries.
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        max_pool_connections=AWS_MAX_POOL_CONNECTIONS,
    )
    return get_session().create_client(service, region_name=region_name, config=config)
