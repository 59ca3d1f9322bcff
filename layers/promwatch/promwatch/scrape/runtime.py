"""The scrape function's work, behind its thin handler: events in, one scrape cycle, result out.

Two kinds of event reach the function: the EventBridge schedule (``detail.jobs`` may restrict
the jobs; a manual invoke may send ``{"jobs": [...]}``) and SQS fan-out batches, for which the
result is a partial batch response (``batchItemFailures``) so SQS re-delivers only the
messages whose targets hit an infrastructure failure (a target that is down is data, not a
failure).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from promwatch.discovery import DiscoveryCache, DiscoveryEnv, default_env
from promwatch.errors import PromwatchError
from promwatch.httpclient.connection import ConnectionPool
from promwatch.scrape.config import ScrapeConfig
from promwatch.scrape.cycle import run_cycle
from promwatch.scrape.errors import ConfigError
from promwatch.scrape.fanout import FanoutError, FanoutSender, read_batch
from promwatch.scrape.loader import ConfigLoader
from promwatch.scrape.selection import discoverer
from promwatch.scrape.settings import ScrapeSettings
from promwatch.scrape.targets import Target
from promwatch.sinks import Sink, sink_from_settings
from promwatch.state import DynamoDBStateStore, MemoryStateStore, StateStore

logger = logging.getLogger("promwatch.scrape")


class CycleDeliveryError(PromwatchError):
    """A scheduled cycle could not deliver some documents (everything else was done and reported)."""


class ScheduleDetail(BaseModel):
    """``detail`` of the scheduled event (or a manual invoke's body)."""

    model_config = ConfigDict(extra="ignore")

    jobs: list[str] | None = None


class ScrapeRuntime:
    """What one execution environment keeps between invocations: settings, config cache,
    state store, sink, fan-out sender and discovered target lists.

    Parameters
    ----------
    settings
        The function's settings.
    state_store, sink, fanout, loader
        Injectable; by default made from the settings (DynamoDB table or memory store, the
        ``output`` sink, the fan-out queue, a TTL-caching config loader).
    discovery_env
        Where service discovery reaches (default: real AWS clients, made on first use).
    pool
        Where HTTP connections to targets come from (default: the environment's pool).
    """

    def __init__(
        self,
        settings: ScrapeSettings,
        *,
        state_store: StateStore | None = None,
        sink: Sink | None = None,
        fanout: FanoutSender | None = None,
        loader: ConfigLoader | None = None,
        discovery_env: DiscoveryEnv | None = None,
        pool: ConnectionPool | None = None,
    ) -> None:
        self.settings = settings
        self.loader = loader or ConfigLoader(ttl_seconds=settings.config_ttl_seconds)
        self.state_store = state_store if state_store is not None else _default_store(settings)
        self.sink = sink or sink_from_settings(settings.output)
        if fanout is None and settings.fanout_queue_url:
            fanout = FanoutSender(settings.fanout_queue_url)
        self.fanout = fanout
        self.discovery = DiscoveryCache()
        self.discover = discoverer(self.discovery, discovery_env or default_env)
        self.pool = pool

    def config(self) -> ScrapeConfig:
        """The current config (cached for ``config_ttl_seconds``)."""
        return self.loader.load(self.settings.config_source)

    def handle(self, event: Mapping[str, Any], *, deadline: float | None = None) -> dict[str, Any]:
        """Handle one invocation's event.

        Parameters
        ----------
        event
            The schedule's event (or a manual invoke's body), or an SQS batch.
        deadline
            ``time.monotonic()`` seconds by which the invocation must end (from the Lambda
            context's remaining time); the cycle stops starting targets in time to deliver.

        Returns
        -------
        dict
            The cycle report (schedule) or ``{"batchItemFailures": [...]}`` (SQS).

        Raises
        ------
        ConfigError
            When the config is invalid or the event names an unknown job.
        """
        if isinstance(event, Mapping) and "Records" in event:
            return self._handle_batches(event, deadline)
        return self._handle_schedule(event, deadline)

    def _run(self, deadline: float | None, **kwargs: Any) -> Any:
        return run_cycle(
            self.config(),
            state_store=self.state_store,
            sink=self.sink,
            max_workers=self.settings.max_workers,
            stage=self.settings.stage,
            deadline=deadline,
            discover=self.discover,
            pool=self.pool,
            **kwargs,
        )

    def _handle_schedule(self, event: Mapping[str, Any], deadline: float | None) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

        raw_detail: Any = event
        if isinstance(event, Mapping) and "detail-type" in event:
            try:
                raw_detail = EventBridgeModel.model_validate(event).detail
            except ValidationError as exc:
                raise ConfigError(f"not an EventBridge event: {exc.errors(include_url=False)[0]['msg']}") from None
        try:
            detail = ScheduleDetail.model_validate(raw_detail or {})
        except ValidationError as exc:
            raise ConfigError(f"event detail {raw_detail!r} is invalid; expected {{\"jobs\": [names]}}: "
                              f"{exc.errors(include_url=False)[0]['msg']}") from None
        report = self._run(
            deadline,
            jobs=detail.jobs,
            fanout=self.fanout,
            max_targets_per_invocation=self.settings.max_targets_per_invocation,
        )
        logger.info("scrape cycle: %d targets, %d up, %d down, %d fanned out, %d documents",
                    len(report.targets), report.up, report.down, report.fanned_out_targets, report.documents)
        if report.undelivered_documents or report.undelivered_otlp_requests:
            # The invocation fails (Lambda's Errors metric, the stack's alarm) once everything
            # is reported: undelivered targets kept their baselines, the next cycle covers them.
            raise CycleDeliveryError(
                f"{report.undelivered_documents} EMF documents and {report.undelivered_otlp_requests} OTLP "
                f"requests of {sum(1 for t in report.targets if t.undelivered)} targets could not be delivered; "
                "their baselines (and start times) were kept for the next cycle"
            )
        result: dict[str, Any] = report.to_dict()
        return result

    def _handle_batches(self, event: Mapping[str, Any], deadline: float | None) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.parser.models import SqsModel

        records = SqsModel.model_validate(event).Records
        failures: list[str] = []
        keys_by_message: dict[str, list[str]] = {}
        carried: list[str | Target] = []
        for record in records:
            try:
                batch = read_batch(str(record.body))
                keys_by_message[record.messageId] = batch.keys
                carried += batch.scrape_targets()
            except FanoutError as exc:
                # A malformed message will never succeed: report it once, let it reach the DLQ.
                logger.error("fan-out message %s: %s", record.messageId, exc)
                failures.append(record.messageId)
        if carried:
            try:
                report = self._run(deadline, targets=carried)
            except PromwatchError as exc:
                logger.error("fan-out batch of %d targets failed: %s", len(carried), exc)
                return {"batchItemFailures": [{"itemIdentifier": r.messageId} for r in records]}
            retry = {t.key for t in report.targets if t.retryable}
            failures.extend(mid for mid, keys in keys_by_message.items() if retry.intersection(keys))
        return {"batchItemFailures": [{"itemIdentifier": mid} for mid in failures]}


def _default_store(settings: ScrapeSettings) -> StateStore:
    if settings.state_table:
        return DynamoDBStateStore(settings.state_table)
    return MemoryStateStore()
