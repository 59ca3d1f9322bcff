"""The insights function's work, behind its thin handler: one object per execution environment.

``functions/insights/app.py`` builds an :class:`InsightsRuntime` at INIT (settings, sink) and
hands it each invocation's event (:meth:`InsightsRuntime.handle`). A ``backfill`` event
replays history (:mod:`promwatch.insights.backfill`); anything else is a subscription or
Kinesis event.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from promwatch.coldstart import aws_client
from promwatch.insights.backfill import parse_request, run_backfill
from promwatch.insights.errors import RulesError
from promwatch.insights.pipeline import handle_stream_event
from promwatch.insights.rules import CompiledRule, RulesConfig, compile_rules, load_rules
from promwatch.insights.settings import InsightsSettings
from promwatch.sinks import Sink, sink_from_settings

__all__ = ["InsightsRuntime"]

logger = logging.getLogger("promwatch.insights")

BACKFILL_READ_TIMEOUT_SECONDS = 30.0
"""Read timeout of backfill's CloudWatch Logs client (its reads stop at the invocation's margin)."""


class InsightsRuntime:
    """What one execution environment keeps between invocations: settings, sink, rules, clients.

    The rules are read by the first invocation, not at INIT, so a bad rules source fails that
    invocation with its message (as a bad scrape config does). Rules from SSM or S3 are read
    again once ``settings.config_ttl_seconds`` have passed, so a changed parameter takes effect
    without a cold start; when that read fails, the rules in hand are kept (and the failure
    logged). Files (the config layer) never change in place.

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
        self.sink = sink if sink is not None else sink_from_settings(settings.output)
        self._logs = logs
        self._loaded_rules: tuple[RulesConfig, tuple[CompiledRule, ...]] | None = None
        self._rules_read_at = 0.0

    def _current_rules(self) -> tuple[RulesConfig, tuple[CompiledRule, ...]]:
        """The rules in hand, read first when there are none yet.

        Raises
        ------
        promwatch.insights.errors.RulesError
            When the rules source cannot be read or is not valid.
        """
        if self._loaded_rules is None:
            config = load_rules(self.settings.rules, ssm=self._ssm, s3=self._s3)
            self._loaded_rules = (config, compile_rules(config))
            self._rules_read_at = self.clock()
        return self._loaded_rules

    @property
    def config(self) -> RulesConfig:
        """The rules document (read on first use; raises :class:`RulesError` when it cannot be)."""
        return self._current_rules()[0]

    @property
    def rules(self) -> tuple[CompiledRule, ...]:
        """The compiled rules (read on first use; raises :class:`RulesError` when they cannot be)."""
        return self._current_rules()[1]

    def refresh_rules(self) -> None:
        """Read the rules on first use, and remote (SSM/S3) ones again when older than the TTL.

        Raises
        ------
        promwatch.insights.errors.RulesError
            When the first read fails (a failed re-read keeps the rules in hand).
        """
        if self._loaded_rules is None:
            self._current_rules()
            return
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
        if config != self._loaded_rules[0]:
            logger.info("rules from %s changed; using the new ones", self.settings.rules)
            self._loaded_rules = (config, compile_rules(config))

    @property
    def logs(self) -> Any:
        """The CloudWatch Logs client backfill reads with (created on first use)."""
        if self._logs is None:
            # FilterLogEvents over a large log group may take seconds to answer.
            self._logs = aws_client("logs", read_timeout=BACKFILL_READ_TIMEOUT_SECONDS)
        return self._logs

    def handle(self, event: dict[str, Any], *, remaining_ms: Callable[[], int] | None = None) -> dict[str, Any]:
        """Handle one invocation's event; returns the Lambda response.

        Parameters
        ----------
        event
            A Logs subscription or Kinesis event, or ``{"backfill": {...}}``.
        remaining_ms
            Milliseconds left of the invocation (the Lambda context's
            ``get_remaining_time_in_millis``): a backfill stops starting chunks in time.

        Returns
        -------
        dict
            The partial batch response (Kinesis), a summary, or ``{"backfill": {...}}``.

        Raises
        ------
        promwatch.insights.errors.RulesError
            When the rules cannot be read (on the first invocation).
        promwatch.insights.errors.BackfillError
            For a backfill request that cannot be served.
        promwatch.insights.errors.EventDecodeError
            For an event of no known shape.
        """
        self.refresh_rules()
        if isinstance(event, dict) and "backfill" in event:
            request = parse_request(event)
            result = run_backfill(
                request,
                config=self.config,
                sink=self.sink,
                logs=self.logs,
                log_group=self.settings.log_group(request.cluster),
                now_ms=int(self.clock() * 1000),
                remaining_ms=remaining_ms,
                chunk_seconds=self.settings.backfill_chunk_seconds,
                margin_ms=self.settings.backfill_margin_ms,
                stage=self.settings.stage,
            )
            return {"backfill": result.as_dict()}
        return handle_stream_event(
            event, rules=self.rules, sink=self.sink, stage=self.settings.stage, clock=self.clock
        )
