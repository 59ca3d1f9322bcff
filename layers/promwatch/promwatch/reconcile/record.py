"""promwatch's record of the dashboards it created: ownership a hand edit cannot erase.

A dashboard is promwatch's when it is tagged ``managed-by=promwatch`` or named in this record.
The marker widget cannot decide it: replacing a dashboard's body by hand drops the marker, and a
copy of a promwatch dashboard carries it. Tags cannot decide it alone either: an emulator may
ignore them (moto 5.2.6 drops PutDashboard's ``Tags`` and refuses TagResource on a dashboard),
and a dashboard deleted and re-made by hand has none.

The record is one SSM parameter per dashboard, ``/promwatch/<stage>/dashboards/<dashboard name>``,
in the stack's region: outside every dashboard, so no dashboard edit reaches it; named from the
stage alone, so the function and ``promwatch dashboards`` (run locally, or against the emulator
through ``AWS_ENDPOINT_URL``) find the same record without configuration. A parameter is written
only after the PutDashboard it describes succeeded, and removed only after the dashboard is gone.
"""
from __future__ import annotations

import json
from typing import Any, Protocol

from promwatch.reconcile.errors import OwnershipRecordError
from promwatch.reconcile.settings import ReconcileSettings
from promwatch.reconcile.throttle import error_code

__all__ = ["DashboardRecord", "SsmDashboardRecord", "record_path"]

PARAMETERS_PER_PAGE = 10
"""GetParametersByPath returns at most 10 parameters a call."""
_GONE = "ParameterNotFound"


class DashboardRecord(Protocol):
    """Names of the dashboards promwatch created (and has not deleted since)."""

    def names(self) -> frozenset[str]:
        """Every recorded dashboard name; raises :class:`OwnershipRecordError` when unreadable."""
        ...

    def add(self, name: str) -> None:
        """Record ``name`` as promwatch's (idempotent)."""
        ...

    def remove(self, name: str) -> None:
        """Forget ``name`` (idempotent: forgetting an unrecorded name is not an error)."""
        ...


def record_path(stage: str) -> str:
    """The SSM path under which the dashboards of ``stage`` are recorded (no trailing slash)."""
    return f"/promwatch/{stage}/dashboards"


def _client_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


class SsmDashboardRecord:
    """:class:`DashboardRecord` as SSM parameters under :func:`record_path`.

    Parameters
    ----------
    settings
        The stage (the path), the region (SSM's), and the dashboard prefix: names outside it are
        ignored, so a record never makes a dashboard of another stage or region promwatch's.
    client
        A boto3/botocore SSM client of that region (botocore retries its throttling and 5xx);
        made on first use when None, from botocore (honouring ``AWS_ENDPOINT_URL``): the
        reconcile function's INIT stays within its cold-start budget.
    """

    def __init__(self, settings: ReconcileSettings, client: Any = None) -> None:
        self.path = record_path(settings.stage)
        self.prefix = settings.dashboard_prefix
        self.region = settings.region
        self._client = client

    @property
    def client(self) -> Any:
        """The SSM client, made on first use."""
        if self._client is None:
            from promwatch.coldstart import aws_client

            self._client = aws_client("ssm", region_name=self.region)
        return self._client

    def parameter(self, name: str) -> str:
        """The SSM parameter that records dashboard ``name``."""
        return f"{self.path}/{name}"

    def names(self) -> frozenset[str]:
        """Every recorded dashboard under the prefix.

        Raises
        ------
        OwnershipRecordError
            When SSM refuses or fails (after botocore's retries): a plan must not go on
            believing that nothing is promwatch's.
        """
        found: set[str] = set()
        request: dict[str, Any] = {"Path": self.path, "Recursive": False, "MaxResults": PARAMETERS_PER_PAGE}
        try:
            while True:
                page = self.client.get_parameters_by_path(**request)
                for parameter in page.get("Parameters", []):
                    name = str(parameter.get("Name", "")).rpartition("/")[2]
                    if name.startswith(self.prefix):
                        found.add(name)
                if not page.get("NextToken"):
                    return frozenset(found)
                request["NextToken"] = page["NextToken"]
        except _client_errors() as exc:
            raise OwnershipRecordError(
                f"promwatch's record of its dashboards (SSM parameters under {self.path}/) could not be read: "
                f"{exc}; nothing was planned, as without it the dashboards promwatch created cannot be told "
                "from same-named ones made by hand") from exc

    def add(self, name: str) -> None:
        """Write the parameter of ``name`` (overwriting it is harmless)."""
        value = json.dumps({"managed-by": "promwatch", "dashboard": name}, separators=(",", ":"))
        try:
            self.client.put_parameter(
                Name=self.parameter(name), Value=value, Type="String", Overwrite=True,
                Description=f"CloudWatch dashboard {name} was created by promwatch, which owns it while this exists")
        except _client_errors() as exc:
            raise OwnershipRecordError(f"dashboard {name} could not be recorded as promwatch's "
                                       f"(SSM parameter {self.parameter(name)}): {exc}") from exc

    def remove(self, name: str) -> None:
        """Delete the parameter of ``name``; one already gone is fine."""
        try:
            self.client.delete_parameter(Name=self.parameter(name))
        except _client_errors() as exc:
            if error_code(exc) == _GONE:
                return
            raise OwnershipRecordError(f"the record of dashboard {name} (SSM parameter {self.parameter(name)}) "
                                       f"could not be removed: {exc}") from exc
