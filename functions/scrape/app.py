"""Scrape function: EventBridge schedule or SQS fan-out batch -> one scrape cycle -> EMF.

Everything an invocation needs is built once per execution environment (settings, config
cache, HTTP session pool, state store, sink); the work itself is
:meth:`promwatch.scrape.ScrapeRuntime.handle`.
"""
from __future__ import annotations

import time
import warnings
from typing import Any

from promwatch.coldstart import init_phase

with init_phase():
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from promwatch.scrape import ScrapeRuntime, ScrapeSettings

    logger = Logger()
    # X-Ray subsegments for the AWS APIs the function calls (targets are fetched by the
    # scraper's own HTTP client, which connects only to addresses its guard checked).
    tracer = Tracer(patch_modules=("botocore",))
    metrics = Metrics()
    runtime = ScrapeRuntime(ScrapeSettings.from_env())

# Only the ColdStart metric goes through Powertools (the cycle's self-metrics go through the
# sink), so a warm invocation has none: Powertools' documented filter for that warning.
warnings.filterwarnings("ignore", "No application metrics to publish*")


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run one scrape cycle (schedule) or the batches of an SQS event (partial batch response)."""
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000
    return runtime.handle(event, deadline=deadline)
