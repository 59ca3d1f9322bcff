"""What the AWS discoveries share: Prometheus' keys for reaching the API, the client they make,
AWS errors as :class:`DiscoveryError`, and label helpers.

Credentials: the function's execution role (or the CLI's default credential chain), and for
another account ``role_arn`` (with ``external_id``), assumed with ``sts:AssumeRole``. Prometheus'
``access_key``/``secret_key`` and ``profile`` are refused: long-lived keys do not belong in a
scrape config that lives in SSM, S3 or a layer, and Lambda has no profiles.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator, model_validator

from promwatch.discovery.awsclients import AwsClientSpec
from promwatch.discovery.base import DiscoveryEnv, SDConfig
from promwatch.discovery.model import DiscoveryConfigError, DiscoveryError, sanitize_label_name

DEFAULT_PORT = 80
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")
_NO_REGION = "no AWS region: set region in the config, or AWS_REGION in the environment"
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+")
_STATIC_KEYS = ("static AWS keys are not read from the scrape config; discovery uses the function's role "
                "(the CLI: its default credentials); for another account set role_arn (and external_id)")
_REFUSED_KEYS = {
    "access_key": _STATIC_KEYS,
    "secret_key": _STATIC_KEYS,
    "profile": "named profiles are not read from the scrape config (Lambda has none); set AWS_PROFILE "
               "for the CLI, or role_arn for another account",
}


def _region_name(value: str) -> str:
    if not _REGION.fullmatch(value):
        raise DiscoveryConfigError(f"{value!r} is not an AWS region; expected e.g. eu-west-1")
    return value


AwsRegion = Annotated[str, AfterValidator(_region_name)]
"""An AWS region's name (``eu-west-1``, ``us-gov-west-1``); an availability zone (``eu-west-1a``)
or a partial name is refused."""


class AwsApiSettings(SDConfig):
    """Prometheus' keys for reaching an AWS API, common to ``ec2_sd_configs`` and ``aws_sd_configs``."""

    region: AwsRegion | None = None
    """None: the environment's region (``AWS_REGION``; in Lambda, the function's)."""
    endpoint: str | None = None
    """A custom endpoint URL for the discovered service's API (a VPC endpoint, say)."""
    role_arn: str | None = None
    external_id: str | None = None
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    """The port of ``__address__`` (relabel ``__address__`` for another)."""

    @model_validator(mode="before")
    @classmethod
    def _credentials_from_the_environment(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            refused = [key for key in _REFUSED_KEYS if key in data]
            if refused:
                reasons = dict.fromkeys(_REFUSED_KEYS[key] for key in refused)  # each reason once
                raise DiscoveryConfigError(f"{' & '.join(refused)}: {'; '.join(reasons)}")
        return data

    @field_validator("endpoint")
    @classmethod
    def _endpoint_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/?#@]+(/[^\s?#]*)?", value):
            raise DiscoveryConfigError(f"{value!r} is not an endpoint URL; expected e.g. https://ec2.eu-west-1.amazonaws.com")
        return value

    @field_validator("role_arn")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.fullmatch(value):
            raise DiscoveryConfigError(f"{value!r} is not an IAM role ARN; expected arn:aws:iam::<account>:role/<name>")
        return value

    @model_validator(mode="after")
    def _external_id_with_role(self) -> AwsApiSettings:
        if self.external_id is not None and self.role_arn is None:
            raise DiscoveryConfigError("external_id goes with role_arn: set the role to assume")
        return self


def api_client(env: DiscoveryEnv, settings: AwsApiSettings, service: str, *, endpoint: str | None) -> Any:
    """The client a discovery calls ``service`` with: the environment's own, or one for the
    endpoint and role the settings name.

    Raises
    ------
    DiscoveryError
        When no region is known, or the client cannot be made (the role cannot be assumed).
    """
    from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

    try:
        if endpoint is None and settings.role_arn is None:
            return env.aws_client(service, settings.region)
        return env.aws_client_for(AwsClientSpec(service, settings.region, endpoint, settings.role_arn,
                                                settings.external_id))
    except NoRegionError:
        raise DiscoveryError(_NO_REGION) from None
    except (ClientError, BotoCoreError) as exc:
        raise DiscoveryError(f"cannot make the {service} client: {exc}") from None


def client_region(client: Any) -> str:
    """The region a client calls (the ``__meta_*_region`` label)."""
    region = getattr(getattr(client, "meta", None), "region_name", None)
    if not isinstance(region, str) or not region:
        raise DiscoveryError(_NO_REGION)
    return region


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Turn an AWS API or SDK error inside the block into a :class:`DiscoveryError` saying ``what`` failed."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise DiscoveryError(f"{what}: {exc}") from None


def batches(items: Sequence[str], size: int) -> Iterator[list[str]]:
    """``items`` in lists of at most ``size`` (the most one API call takes)."""
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def put(labels: MutableMapping[str, str], name: str, value: object) -> None:
    """Set ``name`` when ``value`` is a non-empty string (Prometheus reads an empty label as absent)."""
    if isinstance(value, str) and value:
        labels[name] = value


def put_fields(labels: MutableMapping[str, str], prefix: str, source: Mapping[str, Any],
               fields: Mapping[str, str]) -> None:
    """:func:`put` ``prefix + <label>`` for each ``label: field`` of ``fields`` that ``source`` has."""
    for label, name in fields.items():
        put(labels, prefix + label, source.get(name))


def put_tags(labels: MutableMapping[str, str], prefix: str, tags: Iterable[Mapping[str, str]],
             key: str = "Key", value: str = "Value") -> None:
    """A label ``prefix + <sanitized key>`` per tag of ``tags`` that has both a key and a value
    (EC2 spells a tag ``{Key, Value}``, ECS ``{key, value}``)."""
    for tag in tags:
        if key in tag and value in tag:
            labels[prefix + sanitize_label_name(tag[key])] = tag[value]
