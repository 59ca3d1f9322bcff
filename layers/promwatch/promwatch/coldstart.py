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

__all__ = ["aws_client", "init_phase"]


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


def aws_client(service: str, *, region_name: str | None = None) -> Any:
    """A client for ``service``, made from botocore without loading boto3.

    It is the client ``boto3.client(service)`` returns (boto3 wraps botocore's), configured
    the same way (environment, ``AWS_ENDPOINT_URL``, shared config files), minus boto3's own
    modules (resources, s3transfer): ~25 ms less of a cold start for a handler that needs
    neither. Paths that need other clients on some invocations still use ``boto3.client``.

    Parameters
    ----------
    service
        The service name (``dynamodb``, ``cloudwatch``, ...).
    region_name
        None: the region of the environment (``AWS_DEFAULT_REGION``, set by Lambda).

    Returns
    -------
    botocore.client.BaseClient
        The service's client, in a botocore session of its own.
    """
    from botocore.session import get_session

    return get_session().create_client(service, region_name=region_name)
