"""Reconcile function: dashboards and alarms as code.

Triggers: the Custom::PromwatchDashboards resource of template.yaml (``sam deploy``), an
EventBridge schedule (drift correction), and manual invokes ``{"mode": "plan" | "apply"}``.
The work is :meth:`promwatch.reconcile.trigger.ReconcileRuntime.handle`.
"""
from __future__ import annotations

import os
from typing import Any

from promwatch.coldstart import aws_client, init_phase

with init_phase():
    from aws_lambda_powertools import Logger, Tracer
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from promwatch.reconcile.record import SsmDashboardRecord
    from promwatch.reconcile.settings import ReconcileSettings
    from promwatch.reconcile.trigger import ReconcileRuntime
    from promwatch.sinks import sink_from_settings

    logger = Logger()
    tracer = Tracer(patch_modules=("botocore",))  # X-Ray subsegments for the CloudWatch calls
    settings = ReconcileSettings.from_env()
    runtime = ReconcileRuntime(
        settings,
        # Every trigger reads (and most write) CloudWatch: the client is made during INIT.
        client=aws_client("cloudwatch", region_name=settings.region),
        # promwatch's record of the dashboards it created (SSM parameters). Its client is made by
        # the first invocation: at INIT it would take the cold start past its budget.
        record=SsmDashboardRecord(settings),
        sink=sink_from_settings(os.environ.get("PROMWATCH_OUTPUT", "stdout")),
    )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Plan or apply the spec as the event asks; the account comes from the function's ARN."""
    account_id = context.invoked_function_arn.split(":")[4]
    return runtime.handle(event, account_id=account_id)
