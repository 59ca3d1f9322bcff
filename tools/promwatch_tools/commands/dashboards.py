"""``promwatch dashboards plan|apply [--spec DIR]``: reconcile dashboards and alarms.

Exit status: 0 nothing to change (plan) or everything applied (apply); 2 the plan has
changes; 1 an invalid spec, a conflict (a same-named resource that is not ours) or a failure.
"""
from __future__ import annotations

import argparse
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``promwatch dashboards``."""
    parser.add_argument("action", choices=("plan", "apply"), help="show the changes, or make them")
    parser.add_argument("--spec", default=None, help="spec directory (default $PROMWATCH_SPEC_DIR or config/dashboards)")
    parser.add_argument("--stage", default=None, help="stage in the resource names (default $PROMWATCH_STAGE or dev)")
    parser.add_argument("--region", default=None, help="AWS region (default $AWS_REGION)")
    parser.add_argument("--adopt", action="store_true", help="take over same-named resources that are not ours")
    parser.add_argument("--verbose", "-v", action="store_true", help="list unchanged resources too")


def run(args: argparse.Namespace) -> int:
    """Plan or apply; print the plan (and outcomes) on stdout, errors on stderr."""
    from botocore.exceptions import BotoCoreError, ClientError
    from promwatch.errors import PromwatchError
    from promwatch.reconcile import ReconcileSettings, SpecError, cloudwatch_client, format_plan, reconcile

    env = dict(os.environ)
    for key, value in (("PROMWATCH_SPEC_DIR", args.spec), ("PROMWATCH_STAGE", args.stage), ("AWS_REGION", args.region)):
        if value:
            env[key] = value
    try:
        base = ReconcileSettings.from_env(env)
        client = cloudwatch_client(base.region)
        settings = base.model_copy(update={"account_id": _account_id(base.region) or base.account_id})
        result = reconcile(settings, mode=args.action, adopt=args.adopt, client=client)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 1
    except PromwatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"error: CloudWatch could not be read or changed: {exc}", file=sys.stderr)
        return 1
    print(format_plan(result.plan, verbose=args.verbose))
    if result.report is not None:
        for outcome in result.report.outcomes:
            if outcome.action != "no-op" or args.verbose:
                detail = f": {outcome.detail}" if outcome.detail else ""
                print(f"{outcome.status:<7} {outcome.action:<8} {outcome.kind} {outcome.name}{detail}")
    return result.exit_status


def _account_id(region: str) -> str | None:
    # The account appears in alarm ARNs (alarm-status widgets); STS knows it.
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return str(boto3.client("sts", region_name=region).get_caller_identity()["Account"])
    except (BotoCoreError, ClientError):
        return None
