"""Insights function: Container Insights performance events -> roll-up EMF; also backfill.

Triggered by a CloudWatch Logs subscription on /aws/containerinsights/<cluster>/performance
or by the Kinesis stream that subscription feeds; invoked with {"backfill": {...}} to replay
history. Settings come from the environment (PROMWATCH_INSIGHTS_RULES, PROMWATCH_STAGE,
PROMWATCH_OUTPUT) and are read once per execution environment.
"""
from __future__ import annotations

import os
import warnings
from typing import Any

from promwatch.coldstart import init_phase

with init_phase():
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from promwatch.insights.function import InsightsFunction
    from promwatch.insights.settings import InsightsSettings

    logger = Logger(service="promwatch-insights")
    # X-Ray subsegments for the AWS calls (rules from SSM/S3, backfill reads, Logs output).
    tracer = Tracer(service="promwatch-insights", patch_modules=("botocore",))
    metrics = Metrics(namespace="Promwatch", service="promwatch-insights")

# A failed invocation adds no metric (Lambda's Errors metric counts it): Powertools'
# documented filter for the warning it would print.
warnings.filterwarnings("ignore", "No application metrics to publish*")

_function: InsightsFunction | None = None


def _insights() -> InsightsFunction:
    # Built on the first invocation (not at import) so a bad rules source fails the invocation
    # with its message, and warm invocations reuse rules, sink and clients.
    global _function
    if _function is None:
        _function = InsightsFunction(InsightsSettings.from_environment(os.environ))
    return _function


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Roll up a subscription/Kinesis event, or run a backfill request."""
    response = _insights()(event, context)
    metrics.add_metric(name="BackfillInvocations" if "backfill" in response else "RollupInvocations", unit="Count", value=1)
    return response
