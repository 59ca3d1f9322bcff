"""The insights Lambda function's library side: one object per execution environment.

``functions/insights/app.py`` builds an :class:`InsightsFunction` once (settings, rules,
sink) and calls it per invocation. A ``backfill`` event replays history
(:mod:`promwatch.backfill`); anything else is a subscription or Kinesis event.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from promwatch.insights.errors import RulesError
from promwatch.insights.pipeline import handle_stream_event
from promwatch.insights.rules import compile_rules, load_rules
from promwatch.insights.settings import InsightsSettings
from promwatch.sinks import Sink, sink_from_settings

__all__ = ["InsightsFunction"]

logger = logging.getLogger("promwatch.insights")

BACKFILL_READ_TIMEOUT_SECONDS = 30.0
"""Read timeout of backfill's CloudWatch Logs client (its reads stop at the invocation's margin)."""


class InsightsFunction:
    """Settings, rules and sink, read once; call it with ``(event, context)``.

    Rules from SSM or S3 are read again once ``settings.config_ttl_seconds`` have passed, so a
    changed parameter takes effect without a cold start; when that read fails, the rules in
    hand are kept (and the failure logged). Files (the config layer) never change in place.

    Parameters
    ----------
    settings
        The function's settings.
    sink
        Where EMF goes (made from ``settings.output`` when None).
    logs, ssm, s3
        boto3 clients (created on first use when None).
    clock
        Seconds since the epoch.
    """

    def __init__(
        self,
        settings: InsightsSettings,
        *,
        sink: Sink | None = None,
        logs: Any = None,
        ssm: Any = None,
        s3: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._ssm, self._s3 = ssm, s3
        self.config = load_rules(settings.rules, ssm=ssm, s3=s3)
        self.rules = compile_rules(self.config)
        self._rules_read_at = clock()
        self.sink = sink if sink is not None else sink_from_settings(settings.output)
        self._logs = logs

    def refresh_rules(self) -> None:
        """Read remote (SSM/S3) rules again when they are older than the TTL."""
        remote = self.settings.rules.startswith(("ssm:", "s3://"))
        now = self.clock()
        if not remote or now - self._rules_read_at < self.settings.config_ttl_seconds:
            return
        self._rules_read_at = now
        try:
            config = load_rules(self.settings.rules, ssm=self._ssm, s3=self._s3)
        except RulesError as error:
            logger.warning("rules from %s not refreshed, keeping the previous ones: %s", self.settings.rules, error)
            return
        if config != self.config:
            logger.info("rules from %s changed; using the new ones", self.settings.rules)
            self.config, self.rules = config, compile_rules(config)

    @property
    def logs(self) -> Any:
        """The CloudWatch Logs client backfill reads with (created on first use)."""
        if self._logs is None:
            from promwatch.coldstart import aws_client

            # FilterLogEvents over a large log group may take seconds to answer.
            self._logs = aws_client("logs", read_timeout=BACKFILL_READ_TIMEOUT_SECONDS)
        return self._logs

    def __call__(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """Handle one invocation; returns the Lambda response.

        Raises
        ------
        promwatch.backfill.BackfillError
            For a backfill request that cannot be served.
        promwatch.insights.errors.EventDecodeError
            For an event of no known shape.
        """
        self.refresh_rules()
        if isinstance(event, dict) and "backfill" in event:
            from promwatch.backfill import parse_request, run_backfill

            request = parse_request(event)
            result = run_backfill(
                request,
                config=self.config,
                sink=self.sink,
                logs=self.logs,
                log_group=self.settings.log_group(request.cluster),
                now_ms=int(self.clock() * 1000),
                remaining_ms=getattr(context, "get_remaining_time_in_millis", None),
                chunk_seconds=self.settings.backfill_chunk_seconds,
                margin_ms=self.settings.backfill_margin_ms,
                stage=self.settings.stage,
            )
            return {"backfill": result.as_dict()}
        return handle_stream_event(
            event, rules=self.rules, sink=self.sink, stage=self.settings.stage, clock=self.clock
        )
