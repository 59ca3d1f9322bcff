"""Insights function: Container Insights performance events -> roll-up EMF; also backfill.

Triggered by a CloudWatch Logs subscription on /aws/containerinsights/<cluster>/performance
or by the Kinesis stream that subscription feeds; invoked with {"backfill": {...}} to replay
history. Everything an invocation needs is built once per execution environment (settings,
sink; the rules on the first invocation, so a bad rules source fails it with its message);
the work itself is :meth:`promwatch.insights.InsightsRuntime.handle`.
"""
from __future__ import annotations

import warnings
from typing import Any

from promwatch.coldstart import init_phase

with init_phase():
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from promwatch.insights import InsightsRuntime, InsightsSettings

    logger = Logger(service="promwatch-insights")
    # X-Ray subsegments for the AWS calls (rules from SSM/S3, backfill reads, Logs output).
    tracer = Tracer(service="promwatch-insights", patch_modules=("botocore",))
    metrics = Metrics(namespace="Promwatch", service="promwatch-insights")
    runtime = InsightsRuntime(InsightsSettings.from_env())

# A failed invocation adds no metric (Lambda's Errors metric counts it): Powertools'
# documented filter for the warning it would print.
warnings.filterwarnings("ignore", "No application metrics to publish*")


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Roll up a subscription/Kinesis event, or run a backfill request."""
    response = runtime.handle(event, remaining_ms=context.get_remaining_time_in_millis)
    metrics.add_metric(name="BackfillInvocations" if "backfill" in response else "RollupInvocations", unit="Count", value=1)
    return response
