"""Where EMF goes: the output settings, and the sink they make."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, TextIO

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator

from promwatch.errors import PromwatchValueError
from promwatch.logsnames import check_log_group_name, check_log_stream_name
from promwatch.sinks.base import Sink, SinkError
from promwatch.sinks.cloudwatch_logs import CloudWatchLogsSink, LogsSession
from promwatch.sinks.stream import FileSink, StdoutSink

DEFAULT_LOG_GROUP = "/promwatch/metrics"
"""Log group of ``output: logs`` when the settings name none."""


class OutputSettings(BaseModel):
    """The ``output`` setting: stdout, CloudWatch Logs (PutLogEvents) or a file.

    Written in config as a mapping (``{type: logs, log_group_name: /x, log_stream_name: y}``,
    the same keys as the ``emf.output`` section, :class:`promwatch.emf.EmfOutput`) or as the
    one-string form :meth:`parse` reads (``stdout``, ``-``, ``logs:GROUP[:STREAM]``,
    ``file:PATH``), which is also the form of ``PROMWATCH_OUTPUT`` and ``--output``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["stdout", "logs", "file"] = "stdout"
    log_group_name: Annotated[str | None, AfterValidator(check_log_group_name)] = None
    log_stream_name: Annotated[str | None, AfterValidator(check_log_stream_name)] = None
    path: str | None = None

    @model_validator(mode="after")
    def _fields_match_kind(self) -> OutputSettings:
        if self.type == "file" and not self.path:
            raise PromwatchValueError("output type 'file' needs a 'path'")
        if self.type != "logs" and (self.log_group_name or self.log_stream_name):
            raise PromwatchValueError(
                f"output type {self.type!r} takes no log_group_name/log_stream_name; expected type 'logs'"
            )
        if self.type != "file" and self.path:
            raise PromwatchValueError(f"output type {self.type!r} takes no path; expected type 'file'")
        return self

    @classmethod
    def parse(cls, spec: str) -> OutputSettings:
        """Read the one-string form.

        Parameters
        ----------
        spec
            ``stdout`` or ``-``; ``logs`` (group :data:`DEFAULT_LOG_GROUP`),
            ``logs:GROUP`` or ``logs:GROUP:STREAM`` (log group and stream names cannot contain
            ``:``); ``file:PATH``.

        Raises
        ------
        SinkError
            For any other form.
        """
        kind, _, rest = spec.strip().partition(":")
        try:
            if kind in ("stdout", "-") and not rest:
                return cls(type="stdout")
            if kind == "logs":
                group, _, stream = rest.partition(":")
                return cls(type="logs", log_group_name=group or None, log_stream_name=stream or None)
            if kind == "file" and rest:
                return cls(type="file", path=rest)
        except ValidationError as exc:
            reason = "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors(include_url=False))
            raise SinkError(f"output {spec!r} is invalid: {reason}") from exc
        raise SinkError(
            f"output {spec!r} is not understood; expected 'stdout', '-', 'logs', "
            "'logs:GROUP', 'logs:GROUP:STREAM' or 'file:PATH'"
        )


def sink_from_settings(
    output_settings: OutputSettings | BaseModel | Mapping[str, Any] | str | None,
    *,
    client: Any = None,
    stream: TextIO | None = None,
    logs: LogsSession | None = None,
) -> Sink:
    """Make the sink the settings describe.

    Parameters
    ----------
    output_settings
        An :class:`OutputSettings`, a model with the same fields (``EmfOutput``), its mapping
        form, its one-string form, or None (stdout).
    client
        A boto3 ``logs`` client for the CloudWatch Logs sink (one is created if None).
    stream
        The text stream of the stdout sink (``sys.stdout`` if None).
    logs
        The execution environment's :class:`LogsSession` (its runtime's): the stream a
        CloudWatch Logs output without ``log_stream_name`` writes to, and the client when
        ``client`` is None. None: a session of this sink's own (its own stream).

    Raises
    ------
    SinkError
        When the settings are invalid.
    """
    if output_settings is None:
        settings = OutputSettings()
    elif isinstance(output_settings, OutputSettings):
        settings = output_settings
    elif isinstance(output_settings, str):
        settings = OutputSettings.parse(output_settings)
    else:
        fields = output_settings.model_dump() if isinstance(output_settings, BaseModel) else dict(output_settings)
        try:
            settings = OutputSettings.model_validate(fields)
        except ValidationError as exc:
            raise SinkError(f"output settings {fields!r} are invalid: {exc}") from exc

    if settings.type == "logs":
        session = logs if logs is not None else LogsSession()
        return CloudWatchLogsSink(
            settings.log_group_name or DEFAULT_LOG_GROUP,
            settings.log_stream_name or session.stream_name,
            client=client,
            session=session,
        )
    if settings.type == "file":
        assert settings.path is not None  # guaranteed by the validator
        return FileSink(settings.path)
    return StdoutSink(stream)
