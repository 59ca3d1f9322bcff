"""AWS clients for a custom endpoint or an assumed role (``endpoint``, ``role_arn`` of the AWS
discoveries), each made once and kept; a role's temporary credentials are assumed again shortly
before they expire.

Discovery with neither uses the environment's plain clients (:attr:`DiscoveryEnv.aws_client`):
the function's own role, or the CLI's default credentials.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from promwatch.discovery.model import DiscoveryError

ROLE_SESSION_NAME = "promwatch-discovery"
ROLE_REFRESH_MARGIN_SECONDS = 300.0
"""A role's credentials are assumed again this long before they expire, so that no API call of
a discovery starts with credentials about to lapse."""


@dataclass(frozen=True, slots=True)
class AwsClientSpec:
    """Which client: service, region, endpoint URL and the role it acts as."""

    service: str
    region: str | None
    endpoint: str | None = None
    """None: the service's endpoint (``AWS_ENDPOINT_URL`` when set)."""
    role_arn: str | None = None
    """None: the environment's own credentials."""
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class RoleCredentials:
    """Temporary credentials of an assumed role."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires: float
    """Epoch seconds."""

    def __repr__(self) -> str:  # never show the secret
        return f"RoleCredentials(access_key_id={self.access_key_id!r}, expires={self.expires!r})"


ClientMaker = Callable[[str, str | None, str | None, RoleCredentials | None], Any]
"""``(service, region, endpoint, credentials or None) -> client``."""


def botocore_client(
    service: str, region: str | None, endpoint: str | None, credentials: RoleCredentials | None
) -> Any:
    """A botocore client (what ``boto3.client`` returns), with these credentials when given."""
    from botocore.session import get_session

    return get_session().create_client(
        service, region_name=region, endpoint_url=endpoint,
        aws_access_key_id=credentials.access_key_id if credentials else None,
        aws_secret_access_key=credentials.secret_access_key if credentials else None,
        aws_session_token=credentials.session_token if credentials else None,
    )


class AwsClients:
    """Clients by :class:`AwsClientSpec`: ``sts:AssumeRole`` for a role, its credentials cached
    until :data:`ROLE_REFRESH_MARGIN_SECONDS` before they expire, one client per spec.

    Parameters
    ----------
    make_client
        Makes a client (botocore's by default); the STS client that assumes roles is made with
        no credentials of its own (the environment's).
    clock
        Epoch seconds, compared with the credentials' expiry.
    """

    def __init__(self, make_client: ClientMaker = botocore_client, clock: Callable[[], float] = time.time) -> None:
        self._make = make_client
        self._clock = clock
        self._lock = threading.Lock()
        self._roles: dict[tuple[str, str | None, str | None], RoleCredentials] = {}
        self._clients: dict[AwsClientSpec, tuple[str | None, Any]] = {}

    def __call__(self, spec: AwsClientSpec) -> Any:
        """The client for ``spec``.

        Raises
        ------
        DiscoveryError
            When the role cannot be assumed (naming the role and AWS's answer).
        """
        credentials = self._credentials(spec) if spec.role_arn else None
        key_id = credentials.access_key_id if credentials else None
        with self._lock:
            kept = self._clients.get(spec)
        if kept is not None and kept[0] == key_id:
            return kept[1]
        client = self._make(spec.service, spec.region, spec.endpoint, credentials)
        with self._lock:
            self._clients[spec] = (key_id, client)
        return client

    def _credentials(self, spec: AwsClientSpec) -> RoleCredentials:
        assert spec.role_arn is not None
        key = (spec.role_arn, spec.external_id, spec.region)
        with self._lock:
            kept = self._roles.get(key)
        if kept is not None and self._clock() < kept.expires - ROLE_REFRESH_MARGIN_SECONDS:
            return kept
        credentials = self._assume(spec)
        with self._lock:
            self._roles[key] = credentials
        return credentials

    def _assume(self, spec: AwsClientSpec) -> RoleCredentials:
        from botocore.exceptions import BotoCoreError, ClientError

        arguments = {"RoleArn": spec.role_arn, "RoleSessionName": ROLE_SESSION_NAME}
        if spec.external_id:
            arguments["ExternalId"] = spec.external_id
        try:
            answer = self(AwsClientSpec("sts", spec.region)).assume_role(**arguments)["Credentials"]
        except (ClientError, BotoCoreError) as exc:
            raise DiscoveryError(f"sts:AssumeRole of {spec.role_arn!r} failed: {exc}") from None
        return RoleCredentials(
            access_key_id=answer["AccessKeyId"],
            secret_access_key=answer["SecretAccessKey"],
            session_token=answer["SessionToken"],
            expires=answer["Expiration"].timestamp(),
        )
