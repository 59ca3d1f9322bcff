"""Reconcile function: dashboards and alarms as code.

Triggers: the Custom::PromwatchDashboards resource of template.yaml (``sam deploy``), an
EventBridge schedule (drift correction), and manual invokes ``{"mode": "plan" | "apply"}``.
Everything an invocation needs is built once per execution environment (settings, the
CloudWatch client, sink); the work itself is :meth:`promwatch.reconcile.ReconcileRuntime.handle`.
"""
from __future__ import annotations

from typing import Any

from promwatch.coldstart import init_phase

with init_phase():
    from aws_lambda_powertools import Logger, Tracer
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from promwatch.reconcile import ReconcileRuntime, ReconcileSettings

    logger = Logger()
    tracer = Tracer(patch_modules=("botocore",))  # X-Ray subsegments for the CloudWatch calls
    runtime = ReconcileRuntime(ReconcileSettings.from_env())


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Plan or apply the spec as the event asks; the account comes from the function's ARN."""
    account_id = context.invoked_function_arn.split(":")[4]
    return runtime.handle(event, account_id=account_id)
