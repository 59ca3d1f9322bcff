"""promwatch's record of its dashboards as SSM parameters, against botocore's Stubber."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from promwatch.reconcile import OwnershipRecordError, ReconcileSettings, SsmDashboardRecord, record_path

SETTINGS = ReconcileSettings(spec_dir=Path("."), stage="prod", region="eu-west-1")
PATH = "/promwatch/prod/dashboards"


@pytest.fixture
def ssm() -> Any:
    return boto3.client("ssm", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def _parameter(name: str) -> dict[str, Any]:
    return {"Name": f"{PATH}/{name}", "Type": "String", "Value": "{}"}


def test_the_path_is_the_stages() -> None:
    # given a stage, when the record path and a dashboard's parameter are asked for
    assert record_path("prod") == PATH
    # then the parameter is the dashboard's name under the stage's path
    assert SsmDashboardRecord(SETTINGS).parameter("promwatch-prod-eu-west-1-a") == (
        f"{PATH}/promwatch-prod-eu-west-1-a")


def test_names_reads_every_page_and_keeps_this_regions_dashboards(ssm: Any) -> None:
    # given two pages of parameters, one naming another region's dashboard
    with Stubber(ssm) as stubber:
        stubber.add_response("get_parameters_by_path", {
            "Parameters": [_parameter("promwatch-prod-eu-west-1-a"), _parameter("promwatch-prod-us-east-1-x")],
            "NextToken": "t1"}, {"Path": PATH, "Recursive": False, "MaxResults": 10})
        stubber.add_response("get_parameters_by_path", {"Parameters": [_parameter("promwatch-prod-eu-west-1-b")]},
                             {"Path": PATH, "Recursive": False, "MaxResults": 10, "NextToken": "t1"})
        # when read
        names = SsmDashboardRecord(SETTINGS, ssm).names()
        stubber.assert_no_pending_responses()
    # then every page counts, and only dashboards under this stage's and region's prefix
    assert names == {"promwatch-prod-eu-west-1-a", "promwatch-prod-eu-west-1-b"}


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 400), ("InternalServerError", 500),
                                              ("AccessDeniedException", 400)])
def test_a_record_that_cannot_be_read_is_an_error_naming_the_path(ssm: Any, code: str, status: int) -> None:
    # given SSM failing to list the parameters (throttled, down or denied)
    with Stubber(ssm) as stubber:
        stubber.add_client_error("get_parameters_by_path", code, "no", http_status_code=status)
        # when the record is read, then the error names the path, the code and that nothing was planned
        with pytest.raises(OwnershipRecordError, match=f"SSM parameters under {PATH}/.*{code}.*nothing was planned"):
            SsmDashboardRecord(SETTINGS, ssm).names()


def test_add_writes_the_dashboards_parameter(ssm: Any) -> None:
    # given SSM expecting a put of the dashboard's parameter
    with Stubber(ssm) as stubber:
        stubber.add_response("put_parameter", {"Version": 1}, {
            "Name": f"{PATH}/promwatch-prod-eu-west-1-a", "Type": "String", "Overwrite": True,
            "Value": '{"managed-by":"promwatch","dashboard":"promwatch-prod-eu-west-1-a"}', "Description": ANY})
        # when the dashboard is added
        SsmDashboardRecord(SETTINGS, ssm).add("promwatch-prod-eu-west-1-a")
        # then the parameter was written
        stubber.assert_no_pending_responses()


def test_a_failed_write_is_an_error_naming_the_dashboard(ssm: Any) -> None:
    # given SSM denying the put
    with Stubber(ssm) as stubber:
        stubber.add_client_error("put_parameter", "AccessDeniedException", "no")
        # when the dashboard is added, then the error names the dashboard
        with pytest.raises(OwnershipRecordError, match="dashboard promwatch-prod-eu-west-1-a could not be recorded"):
            SsmDashboardRecord(SETTINGS, ssm).add("promwatch-prod-eu-west-1-a")


def test_remove_forgets_and_a_parameter_already_gone_is_fine(ssm: Any) -> None:
    # given SSM deleting the parameter, then answering that it is gone, then failing
    name = f"{PATH}/promwatch-prod-eu-west-1-a"
    with Stubber(ssm) as stubber:
        stubber.add_response("delete_parameter", {}, {"Name": name})
        stubber.add_client_error("delete_parameter", "ParameterNotFound", "gone", expected_params={"Name": name})
        stubber.add_client_error("delete_parameter", "InternalServerError", "down", http_status_code=500)
        record = SsmDashboardRecord(SETTINGS, ssm)
        # when the dashboard is removed, then it is forgotten
        record.remove("promwatch-prod-eu-west-1-a")
        # and removing it again when the parameter is gone is fine
        record.remove("promwatch-prod-eu-west-1-a")
        # but any other failure is reported
        with pytest.raises(OwnershipRecordError, match="could not be removed"):
            record.remove("promwatch-prod-eu-west-1-a")
