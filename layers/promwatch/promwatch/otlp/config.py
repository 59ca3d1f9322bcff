"""A job's ``outputs:`` (EMF, OTLP or both), an OTLP destination, and the endpoint a region implies.

Kept free of protobuf: the scrape config imports it whether or not a job sends OTLP.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from promwatch.errors import PromwatchValueError

OTLP_PATH = "/v1/metrics"
"""The OTLP/HTTP path of metrics."""
OTLP_SERVICE = "monitoring"
"""The SigV4 service name of the CloudWatch OTLP metrics endpoint."""
DEFAULT_TIMEOUT_SECONDS = 10.0
"""One request's timeout when the entry names none."""


def default_endpoint(region: str) -> str:
    """The CloudWatch OTLP metrics endpoint of ``region``."""
    return f"https://monitoring.{region}.amazonaws.com{OTLP_PATH}"


_ENDPOINT_REGION = re.compile(r"^monitoring\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")


def named_region(output: OtlpOutput) -> str | None:
    """The region ``output`` names: its own, else its endpoint's (``monitoring.<region>...``);
    None when it names none (then the function's ``AWS_REGION`` applies)."""
    if output.region:
        return output.region
    if output.endpoint:
        found = _ENDPOINT_REGION.match(urlsplit(output.endpoint).hostname or "")
        if found:
            return found.group(1)
    return None


class OtlpOutput(BaseModel):
    """``{type: otlp, endpoint: URL, region: REGION, timeout: SECONDS}``.

    ``endpoint`` defaults to :func:`default_endpoint` of ``region``; ``region`` defaults to
    the function's own (``AWS_REGION``) when the sink is made. The region is also the one
    the requests are signed for. An endpoint without a path (a collector's base URL) gets
    :data:`OTLP_PATH`; one whose path does not end with it is refused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["otlp"] = "otlp"
    endpoint: str | None = None
    region: str | None = Field(default=None, min_length=1, pattern=r"^[a-z0-9-]+$")
    timeout: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0, le=60, allow_inf_nan=False)

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PromwatchValueError(f"endpoint {value!r} is not an http(s) URL with a host; "
                             f"expected e.g. {default_endpoint('us-east-1')}")
        if parts.path in ("", "/"):
            return urlunsplit(parts._replace(path=OTLP_PATH))
        if not parts.path.endswith(OTLP_PATH):
            raise PromwatchValueError(f"endpoint {value!r} has the path {parts.path!r}, not the OTLP metrics path; "
                             f"expected one ending with {OTLP_PATH} (or none, and {OTLP_PATH} is added)")
        return value


class EmfOutputChoice(BaseModel):
    """``{type: emf}``: the job's ``emf:`` section (and its ``emf.output``) apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["emf"] = "emf"


OutputChoice = Annotated[EmfOutputChoice | OtlpOutput, Field(discriminator="type")]
"""One entry of ``outputs``."""


def _output_entries(value: Any) -> Any:
    # The one-word forms: ``emf`` and ``otlp`` (region and endpoint from the environment).
    if isinstance(value, list):
        return [{"type": entry} if isinstance(entry, str) else entry for entry in value]
    return value


def _distinct_outputs(value: list[EmfOutputChoice | OtlpOutput]) -> list[EmfOutputChoice | OtlpOutput]:
    kinds = [entry.type for entry in value]
    if not kinds:
        raise PromwatchValueError("outputs is empty; expected emf, otlp or both")
    if len(set(kinds)) != len(kinds):
        raise PromwatchValueError(f"outputs {kinds!r} names an output twice; expected at most one emf and one otlp")
    return value


def emf_only() -> list[EmfOutputChoice | OtlpOutput]:
    """A job's outputs when it names none: EMF alone, as before outputs existed."""
    return [EmfOutputChoice()]


Outputs = Annotated[list[OutputChoice], BeforeValidator(_output_entries), AfterValidator(_distinct_outputs)]
