"""The scrape function's work, behind its thin handler: events in, one scrape cycle, result out.

Three kinds of event reach the function: the EventBridge schedule (``detail.jobs`` may restrict
the jobs; a manual invoke may send ``{"jobs": [...]}``), SQS fan-out batches, for which the
result is a partial batch response (``batchItemFailures``) so SQS re-delivers only the
messages whose targets hit an infrastructure failure (a target that is down is data, not a
failure), and a manual ``{"backfill": {"prometheus": {...}}}`` invoke, which replays a
Prometheus server's history (:mod:`promwatch.scrape.backfill`) with the named job's ``emf``
settings and returns ``{"backfill": {...}}`` with the continuation token of the next chunk.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from promwatch.discovery import DiscoveryCache, DiscoveryEnv, default_env
from promwatch.emf import EmfOutput
from promwatch.errors import PromwatchError
from promwatch.httpclient.connection import ConnectionPool
from promwatch.httpclient.fetch import FetchPolicy
from promwatch.httpclient.secrets import SecretResolver
from promwatch.otlp.config import OtlpOutput
from promwatch.scrape.config import ScrapeConfig
from promwatch.scrape.cycle import run_cycle
from promwatch.scrape.errors import ConfigError
from promwatch.scrape.fanout import FanoutError, FanoutSender, read_batch
from promwatch.scrape.loader import ConfigLoader
from promwatch.scrape.memory import WarmMemory
from promwatch.scrape.selection import discoverer
from promwatch.scrape.settings import ScrapeSettings
from promwatch.scrape.targets import Target
from promwatch.sinks import LogsSession, Sink, sink_from_settings
from promwatch.state import DynamoDBStateStore, MemoryStateStore, StateStore

if TYPE_CHECKING:
    from promwatch.otlp.sink import OtlpSink

logger = logging.getLogger("promwatch.scrape")


class CycleDeliveryError(PromwatchError):
    """A scheduled cycle could not deliver some documents (everything else was done and reported)."""


class ScheduleDetail(BaseModel):
    """``detail`` of the scheduled event (or a manual invoke's body)."""

    model_config = ConfigDict(extra="ignore")

    jobs: list[str] | None = None


class ScrapeRuntime:
    """What one execution environment keeps between invocations: settings, config cache,
    state store, sinks and their :class:`LogsSession` (one log stream, one ``logs`` client),
    fan-out sender, discovered target lists (and the discoveries' HTTP pool, in their
    environment), resolved secrets, the connection pool (and its name-resolving threads),
    the fetch policy and the :class:`WarmMemory` of parsed series and translated targets --
    all of it here, passed down to each cycle (no module of the scrape path keeps any; the
    module-level memos are listed in :mod:`promwatch.scrape.memory`).

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
        Where HTTP connections to targets come from (default: a pool of its own).
    memory
        What parsing and translation reuse between scrapes (default: a new, empty one).
    clock
        Epoch seconds: where a backfill's "now" comes from (its 14-day limit, its last period).
    monotonic
        Monotonic seconds: what a deadline of :meth:`handle` is measured in (the cycle's and
        the fetches' time left).
    backfill_source
        URL -> where a backfill reads (default: :class:`promwatch.scrape.backfill.PrometheusAPI`).
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
        memory: WarmMemory | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        backfill_source: Callable[[str], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.loader = loader or ConfigLoader(ttl_seconds=settings.config_ttl_seconds)
        self.state_store = state_store if state_store is not None else _default_store(settings)
        self.logs = LogsSession()
        self.sink = sink or sink_from_settings(settings.output, logs=self.logs)
        if fanout is None and settings.fanout_queue_url:
            fanout = FanoutSender(settings.fanout_queue_url)
        self.fanout = fanout
        self.discovery = DiscoveryCache()
        self.discover = discoverer(self.discovery, discovery_env or default_env)
        self.clock = clock
        self.monotonic = monotonic
        self.backfill_source = backfill_source
        self.pool = pool if pool is not None else ConnectionPool()
        self.memory = memory if memory is not None else WarmMemory()
        self.secrets = SecretResolver()
        self.policy = FetchPolicy.from_env()
        self.output_sinks: dict[EmfOutput, Sink] = {}
        self.otlp_sinks: dict[OtlpOutput, OtlpSink] = {}

    def output_sink(self, output: EmfOutput) -> Sink:
        """The sink of a job's own ``emf.output``, kept for the execution environment."""
        sink = self.output_sinks.get(output)
        if sink is None:
            sink = self.output_sinks[output] = sink_from_settings(output, logs=self.logs)
        return sink

    def otlp_sink(self, output: OtlpOutput) -> OtlpSink:
        """The sink of a job's ``otlp`` output, kept for the execution environment (the protobuf
        runtime and botocore's signer load here, when a job first sends OTLP)."""
        sink = self.otlp_sinks.get(output)
        if sink is None:
            from promwatch.otlp.sink import otlp_sink

            sink = self.otlp_sinks[output] = otlp_sink(output)
        return sink

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
            ``monotonic()`` seconds by which the invocation must end (from the Lambda
            context's remaining time); the cycle stops starting targets in time to deliver.

        Returns
        -------
        dict
            The cycle report (schedule), ``{"batchItemFailures": [...]}`` (SQS) or
            ``{"backfill": {...}}`` (a backfill's progress and continuation).

        Raises
        ------
        ConfigError
            When the config is invalid or the event names an unknown job.
        PrometheusBackfillError
            When a backfill request cannot be served (bad range, older than 14 days, foreign token).
        """
        if isinstance(event, Mapping) and "Records" in event:
            return self._handle_batches(event, deadline)
        if isinstance(event, Mapping) and "backfill" in event:
            return self._handle_backfill(event, deadline)
        return self._handle_schedule(event, deadline)

    def _handle_backfill(self, event: Mapping[str, Any], deadline: float | None) -> dict[str, Any]:
        from promwatch.emf import EmfSettings
        from promwatch.scrape.backfill import DEFAULT_STEP_SECONDS, PrometheusAPI, parse_request, run_backfill

        request = parse_request(dict(event))
        settings, step = EmfSettings(), DEFAULT_STEP_SECONDS
        if request.job is not None:
            try:
                job = self.config().job(request.job)
            except KeyError:
                raise ConfigError(f"backfill.prometheus.job {request.job!r} is not a job of the config; expected one of "
                                  f"{[j.job_name for j in self.config().scrape_configs]}") from None
            settings, step = job.emf, max(1, round(job.interval))
        remaining = None
        if deadline is not None:
            left, monotonic = deadline, self.monotonic
            remaining = lambda: max(0, int((left - monotonic()) * 1000))  # noqa: E731
        source = self.backfill_source(request.url) if self.backfill_source else PrometheusAPI(request.url, pool=self.pool)
        result = run_backfill(request, source=source, sink=self.sink, settings=settings,
                              now_ms=int(self.clock() * 1000), step_seconds=step, remaining_ms=remaining,
                              stage=self.settings.stage)
        logger.info("backfill %s: %d/%d chunks, %d documents", request.url, result.chunks_done,
                    result.chunks_total, result.documents)
        return {"backfill": result.as_dict()}

    def _run(self, deadline: float | None, **kwargs: Any) -> Any:
        return run_cycle(
            self.config(),
            state_store=self.state_store,
            sink=self.sink,
            max_workers=self.settings.max_workers,
            stage=self.settings.stage,
            deadline=deadline,
            monotonic=self.monotonic,
            discover=self.discover,
            pool=self.pool,
            policy=self.policy,
            secrets=self.secrets,
            sink_for_output=self.output_sink,
            sink_for_otlp=self.otlp_sink,
            memory=self.memory,
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
