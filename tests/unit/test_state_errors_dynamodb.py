"""DynamoDBStateStore turns every botocore failure into a StateError naming table and target.

API errors are stubbed with botocore's Stubber; failures that happen before any response
(missing credentials, an unreachable endpoint) come from a fake client raising them.
"""
from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, NoCredentialsError
from botocore.session import get_session
from botocore.stub import Stubber
from promwatch.state import (
    CounterBaseline,
    DynamoDBStateStore,
    StateConflictError,
    StateCorruptError,
    StateError,
    TargetBaselines,
)
from promwatch.state.dynamodb import MAX_PARTS, PART_BYTES

TABLE = "promwatch-test-StateTable"
JOB, INSTANCE = "prod/task-service", "10.0.0.1:3000"
PK = f"{JOB}#{INSTANCE}"
BASELINES = TargetBaselines(1_700_000_000_000, {"jobs_total": CounterBaseline(5.0, None)}, {})


@pytest.fixture
def stubbed() -> Iterator[tuple[DynamoDBStateStore, Stubber]]:
    client: Any = get_session().create_client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        yield DynamoDBStateStore(TABLE, client, clock=lambda: 1_700_000_000.0), stubber
        stubber.assert_no_pending_responses()


class RaisingClient:
    """A DynamoDB client that fails before any response, as botocore does without credentials
    or without a reachable endpoint."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        raise self.error

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        raise self.error


def assert_names_table_and_target(error: StateError) -> None:
    assert TABLE in str(error) and PK in str(error), str(error)


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "ProvisionedThroughputExceededException", "AccessDeniedException"])
def test_load_api_error_is_a_state_error(stubbed: tuple[DynamoDBStateStore, Stubber], code: str) -> None:
    # given GetItem answers with an API error
    store, stubber = stubbed
    stubber.add_client_error("get_item", service_error_code=code, service_message="no way")
    # when the target's baselines are loaded
    with pytest.raises(StateError) as raised:
        store.load(JOB, INSTANCE)
    # then a StateError names the table, the target and the AWS error code
    assert_names_table_and_target(raised.value)
    assert code in str(raised.value)


@pytest.mark.parametrize("error", [
    NoCredentialsError(),
    EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/"),
], ids=lambda e: type(e).__name__)
def test_load_without_credentials_or_endpoint_is_a_state_error(error: Exception) -> None:
    # given a client that cannot even send the request
    store = DynamoDBStateStore(TABLE, RaisingClient(error))  # type: ignore[arg-type]
    # when loading, then a StateError names table, target and the botocore error
    with pytest.raises(StateError) as raised:
        store.load(JOB, INSTANCE)
    assert_names_table_and_target(raised.value)
    assert type(error).__name__ in str(raised.value)
    assert raised.value.__cause__ is error


def test_save_api_error_is_a_state_error(stubbed: tuple[DynamoDBStateStore, Stubber]) -> None:
    # given PutItem is throttled
    store, stubber = stubbed
    stubber.add_client_error("put_item", service_error_code="ThrottlingException", service_message="slow down")
    # when saving, then a StateError (not a conflict) names table, target and code
    with pytest.raises(StateError) as raised:
        store.save(JOB, INSTANCE, BASELINES, expected_version=0)
    assert not isinstance(raised.value, StateConflictError)
    assert_names_table_and_target(raised.value)
    assert "ThrottlingException" in str(raised.value)


def test_save_unreachable_endpoint_is_a_state_error() -> None:
    # given a client whose endpoint cannot be reached
    error = EndpointConnectionError(endpoint_url="http://127.0.0.1:1/")
    store = DynamoDBStateStore(TABLE, RaisingClient(error))  # type: ignore[arg-type]
    # when saving, then a StateError names table and target
    with pytest.raises(StateError) as raised:
        store.save(JOB, INSTANCE, BASELINES, expected_version=3)
    assert_names_table_and_target(raised.value)
    assert raised.value.__cause__ is error


def test_lost_race_is_still_a_conflict(stubbed: tuple[DynamoDBStateStore, Stubber]) -> None:
    # given the conditional put fails because someone saved first (the item holds their data)
    store, stubber = stubbed
    stubber.add_client_error("put_item", service_error_code="ConditionalCheckFailedException")
    theirs = {"pk": {"S": PK}, "version": {"N": "2"}, "expires_at": {"N": "1800000000"},
              "scraped_at": {"N": "1700000001000"}, "parts": {"N": "1"}, "data": {"B": b"theirs"}}
    stubber.add_response("get_item", {"Item": theirs})
    # when saving, then it is the conflict update_with_retry retries on
    with pytest.raises(StateConflictError):
        store.save(JOB, INSTANCE, BASELINES, expected_version=1)


def test_a_retried_save_that_finds_its_own_write_succeeded(stubbed: tuple[DynamoDBStateStore, Stubber]) -> None:
    # given a save whose first try was applied but its answer lost, so botocore's retry fails
    # the condition against that very write (the item holds this save's version and data)
    store, stubber = stubbed
    stubber.add_client_error("put_item", service_error_code="ConditionalCheckFailedException")
    ours = {"pk": {"S": PK}, "version": {"N": "2"}, "expires_at": {"N": "1800000000"},
            "scraped_at": {"N": str(BASELINES.scraped_at_ms)}, "parts": {"N": "1"},
            "data": {"B": zlib.compress(BASELINES.to_json().encode("utf-8"), 6)}}
    stubber.add_response("get_item", {"Item": ours})
    # when saving, then the save succeeded: the new version, no conflict
    assert store.save(JOB, INSTANCE, BASELINES, expected_version=1) == 2


def test_split_save_error_is_a_state_error(stubbed: tuple[DynamoDBStateStore, Stubber]) -> None:
    # given baselines that need a transaction of several items, and a transaction that fails
    store, stubber = stubbed
    big = TargetBaselines(
        1_700_000_000_000,
        {os.urandom(16).hex(): CounterBaseline(float(i), None) for i in range(20_000)},
        {},
    )
    assert PART_BYTES < len(zlib.compress(big.to_json().encode())) < PART_BYTES * MAX_PARTS
    stubber.add_client_error("transact_write_items", service_error_code="InternalServerError")
    # when saving, then a StateError names table and target
    with pytest.raises(StateError) as raised:
        store.save(JOB, INSTANCE, big, expected_version=0)
    assert_names_table_and_target(raised.value)
    assert "InternalServerError" in str(raised.value)


def test_item_not_written_by_promwatch_is_corrupt_state(stubbed: tuple[DynamoDBStateStore, Stubber]) -> None:
    # given the target's item exists but has no version (written by something else)
    store, stubber = stubbed
    stubber.add_response("get_item", {"Item": {"pk": {"S": PK}, "data": {"B": b"x"}}})
    # when loading, then it is corrupt state naming table, target and the missing attribute
    with pytest.raises(StateCorruptError) as raised:
        store.load(JOB, INSTANCE)
    assert_names_table_and_target(raised.value)
    assert "KeyError: 'version'" in str(raised.value)
