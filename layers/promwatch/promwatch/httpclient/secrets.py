"""Credentials at the edge: files, SSM parameters and Secrets Manager secrets, cached.

A secret value in the config that reads ``ssm:/name`` or ``secretsmanager:name`` is a reference;
anything else is the secret itself. Values are cached for ``ttl_seconds`` (files too, so a
rotated token file is picked up). Messages and logs name the reference, never the value.

As in Prometheus, a file's content is used with surrounding whitespace trimmed (``strings.TrimSpace``:
the trailing newline editors add is normal) while a value, written or referenced, is used as it is;
:func:`promwatch.httpclient.request.client_authorization` then checks either can travel in a header.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from promwatch.httpclient.errors import SecretError
from promwatch.safeload import DocumentError, read_text
from promwatch.ttlcache import TtlCache

logger = logging.getLogger("promwatch.httpclient")

SSM_PREFIX = "ssm:"
SECRETS_MANAGER_PREFIX = "secretsmanager:"
DEFAULT_SECRET_TTL_SECONDS = 300.0


def is_reference(value: str) -> bool:
    """True when ``value`` names an SSM parameter or a Secrets Manager secret."""
    return value.startswith((SSM_PREFIX, SECRETS_MANAGER_PREFIX))


class SecretResolver:
    """Resolves secret values and references; one per execution environment.

    A value whose TTL ran out is read again; when that read fails, the value in hand is kept
    for another TTL (and the failure logged). Only a first read that fails is the target's error.

    Parameters
    ----------
    ssm_client, secrets_client
        boto3 clients (created on first use when None).
    ttl_seconds
        How long a resolved value is reused.
    clock
        Monotonic seconds, injectable for tests.
    """

    def __init__(
        self,
        *,
        ssm_client: Any = None,
        secrets_client: Any = None,
        ttl_seconds: float = DEFAULT_SECRET_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ssm = ssm_client
        self._secrets = secrets_client
        # SSM or Secrets Manager throttled or down: the value in hand serves another TTL (a
        # rotated one that no longer works shows as the target's 401).
        self._cache: TtlCache[str] = TtlCache(ttl_seconds=ttl_seconds, clock=clock, kept_on=SecretError,
                                              logger=logger)

    def value(self, secret: SecretStr) -> str:
        """The secret behind a config value (itself, or what its reference points to)."""
        raw = secret.get_secret_value()
        return self._cache.get(raw, self._fetch_reference) if is_reference(raw) else raw

    def file(self, path: str) -> str:
        """The content of a credentials file, surrounding whitespace trimmed (as Prometheus)."""
        return self._cache.get(f"file:{path}", lambda _: self._read_file(path))

    @staticmethod
    def _read_file(path: str) -> str:
        try:
            return read_text(path).strip()
        except OSError as exc:
            raise SecretError(f"cannot read credentials file {path!r}: {exc.strerror}") from exc
        except DocumentError as exc:
            raise SecretError(f"credentials file {path!r}: {exc}") from None

    def _fetch_reference(self, reference: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        from promwatch.coldstart import aws_client

        try:
            if reference.startswith(SSM_PREFIX):
                name = reference[len(SSM_PREFIX):]
                if self._ssm is None:
                    self._ssm = aws_client("ssm")
                parameter = self._ssm.get_parameter(Name=name, WithDecryption=True)
                return str(parameter["Parameter"]["Value"])
            name = reference[len(SECRETS_MANAGER_PREFIX):]
            if self._secrets is None:
                self._secrets = aws_client("secretsmanager")
            secret = self._secrets.get_secret_value(SecretId=name)
            if "SecretString" not in secret:
                raise SecretError(f"secret {reference!r} has no SecretString; expected a text secret")
            return str(secret["SecretString"])
        except (ClientError, BotoCoreError) as exc:
            raise SecretError(f"cannot resolve {reference!r}: {exc}") from exc
