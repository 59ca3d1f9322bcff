"""Reading a scrape config from a file, SSM Parameter Store or S3, with a TTL cache.

:func:`parse_config` is pure (text and the config's directory -> :class:`ScrapeConfig`);
:func:`load_config` and :class:`ConfigLoader` are the edge that fetches the text and resolves
the directory (:func:`config_directory`, which reads the working directory). Validation errors become one :class:`ConfigError` whose message lists
every problem as ``key.path: what is wrong (got value)``.
"""
from __future__ import annotations

import logging
import re
import time
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from promwatch.safeload import MAX_DOCUMENT_CHARS, DocumentError, decode_text, load_yaml, read_text
from promwatch.scrape.config import ScrapeConfig
from promwatch.scrape.errors import ConfigError, ConfigReadError
from promwatch.text import shown
from promwatch.ttlcache import TtlCache

logger = logging.getLogger("promwatch.scrape")

DEFAULT_CONFIG_TTL_SECONDS = 300.0
_SECRET_KEYS = {"basic_auth", "authorization", "bearer_token"}
"""Values under these keys are never echoed (a token written as ``authorization: Bearer x`` included)."""
_SHOWN_CHARS = 80
"""Longest bad value echoed in a message (a longer one is cut, with its length)."""


def parse_config(text: str, *, origin: str = "<config>", config_dir: str | None = None) -> ScrapeConfig:
    """Validate a YAML scrape configuration (pure: no file system, no working directory).

    Parameters
    ----------
    text
        The YAML document.
    origin
        Where it came from, for messages (a path or URI).
    config_dir
        The absolute directory relative paths in it (``file_sd_configs``) are joined to:
        :func:`config_directory` of a config file; None keeps them as written.

    Raises
    ------
    ConfigError
        When the YAML is malformed, breaks a limit of :mod:`promwatch.safeload` (size, nesting,
        aliases, duplicate keys) or breaks the schema; the message names each key path, the bad
        value (never a credential) and what is allowed.
    """
    try:
        data = load_yaml(text)
    except DocumentError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping with 'global' and 'scrape_configs', got {type(data).__name__}")
    try:
        return ScrapeConfig.model_validate(data, context={"config_dir": config_dir})
    except ValidationError as exc:
        raise ConfigError(f"{origin}: " + "; ".join(describe_errors(exc, data))) from None


def config_directory(origin: str) -> str | None:
    """The directory relative paths in a config (``file_sd_configs``) are resolved against: the
    config file's, absolute (resolved against the working directory), as in Prometheus; None
    for a config from SSM, S3 or text."""
    if origin.startswith(("ssm:", "s3://", "<")) or "://" in origin:
        return None
    return str(Path(origin).resolve().parent)


def describe_errors(exc: ValidationError, data: Any = None) -> list[str]:
    """Pydantic errors as ``path: message (got value)`` lines; secrets are never echoed.

    ``data`` is what was validated: a part of an error's path that is a key of it is the user's,
    even when it reads like one of the member names pydantic puts in the paths of unions.
    """
    lines = []
    for error in exc.errors(include_url=False):
        loc = _user_path(error["loc"], data)
        path = format_path(loc)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            allowed = allowed_keys(loc[:-1])
            message = f"unknown key {loc[-1]!r}" + (f"; expected one of {', '.join(allowed)}" if allowed else "")
        elif error["type"] == "missing":
            message = "required key is missing"
        elif (
            not _SECRET_KEYS.intersection(map(str, loc))
            and isinstance(error.get("input"), str | int | float | bool)
            and _shown(error["input"]) not in message  # already named by the message itself
        ):
            message += f" (got {_shown(error['input'])})"
        lines.append(f"{path or '<root>'}: {message}")
    return lines


def _shown(value: str | int | float | bool) -> str:
    # A URL's userinfo may hold a password (http_sd_configs' url): never echoed.
    return shown(value, _SHOWN_CHARS)


_UNION_TAG = re.compile(r"^(?:str|int|float|bool|[a-z][a-z-]*\[.*\])$")
"""The member names pydantic inserts into the paths of unions: ``str``, ``list[str]``,
``function-after[check(), str]``."""


def _user_path(loc: typing.Sequence[Any], data: Any) -> list[Any]:
    """``loc`` without pydantic's union member names; a part that is a key (or index) of ``data``
    at that point is always kept, whatever it reads like."""
    path: list[Any] = []
    node = data
    for part in loc:
        present = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))
        if not present and isinstance(part, str) and _UNION_TAG.match(part):
            continue
        node = node[part] if present else None
        path.append(part)
    return path


def format_path(loc: typing.Sequence[Any]) -> str:
    """``("scrape_configs", 0, "regex")`` -> ``scrape_configs[0].regex``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def allowed_keys(loc: typing.Sequence[Any]) -> list[str]:
    """The keys the model at ``loc`` (from the root of the config) accepts."""
    model: Any = ScrapeConfig
    for part in loc:
        if isinstance(part, int):
            continue
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        if part not in fields:
            return []
        model = _model_in(fields[part].annotation)
        if model is None:
            return []
    return sorted(f.alias or n for n, f in model.model_fields.items())


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


class ConfigLoader:
    """Loads configs from a path, ``ssm:/param`` or ``s3://bucket/key``, caching each for a TTL.

    One instance per execution environment keeps warm invocations from re-reading the config.
    When the read of an expired config fails (SSM or S3 throttled or down, after botocore's
    retries), the config in hand is kept for another TTL and the failure logged: an AWS outage
    does not stop the scrapes. A config read and found invalid is an error, as at first load.
    """

    def __init__(
        self,
        *,
        ssm_client: Any = None,
        s3_client: Any = None,
        ttl_seconds: float = DEFAULT_CONFIG_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ssm = ssm_client
        self._s3 = s3_client
        self._cache: TtlCache[ScrapeConfig] = TtlCache(ttl_seconds=ttl_seconds, clock=clock,
                                                       kept_on=ConfigReadError, logger=logger, what="config")

    def load(self, source: str) -> ScrapeConfig:
        """The config at ``source``, from the cache while it is fresh.

        Raises
        ------
        ConfigReadError
            When the source cannot be read and no config from it is in hand.
        ConfigError
            When the config is invalid.
        """
        return self._cache.get(source, lambda _: parse_config(self._read(source), origin=source,
                                                              config_dir=config_directory(source)))

    def _read(self, source: str) -> str:
        if source.startswith("ssm:"):
            return self._read_ssm(source[len("ssm:"):])
        if source.startswith("s3://"):
            bucket, _, key = source[len("s3://"):].partition("/")
            if not bucket or not key:
                raise ConfigError(f"{source!r} is not an S3 object URI; expected s3://bucket/key")
            return self._read_s3(bucket, key, source)
        try:
            return read_text(source)
        except OSError as exc:
            raise ConfigReadError(f"cannot read config file {source!r}: {exc.strerror}") from exc
        except DocumentError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    def _read_ssm(self, name: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        if self._ssm is None:
            from promwatch.coldstart import aws_client

            self._ssm = aws_client("ssm")
        try:
            return str(self._ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
        except (ClientError, BotoCoreError) as exc:
            raise ConfigReadError(f"cannot read config parameter 'ssm:{name}': {exc}") from exc

    def _read_s3(self, bucket: str, key: str, source: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        if self._s3 is None:
            from promwatch.coldstart import aws_client

            self._s3 = aws_client("s3")
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read(MAX_DOCUMENT_CHARS + 1)
            return decode_text(body)
        except (ClientError, BotoCoreError) as exc:
            raise ConfigReadError(f"cannot read config object {source!r}: {exc}") from exc
        except DocumentError as exc:
            raise ConfigError(f"{source}: {exc}") from None


def load_config(source: str, *, ssm_client: Any = None, s3_client: Any = None) -> ScrapeConfig:
    """Load the config at a path, ``ssm:/param`` or ``s3://bucket/key`` once (a CLI run).

    Nothing is kept: a process that loads the config again and again holds a
    :class:`ConfigLoader`, which caches it for its TTL (the scrape runtime does).

    Raises
    ------
    ConfigError
        When the source cannot be read or the config is invalid.
    """
    return ConfigLoader(ssm_client=ssm_client, s3_client=s3_client).load(source)
