"""Fixtures of the integration tier (a moto server, through the ``aws`` fixture)."""
from __future__ import annotations

import boto3
import pytest

STATE_TABLE = "promwatch-state"


@pytest.fixture
def table(aws: str) -> str:
    """The counter-baselines table as template.yaml declares it: ``pk`` string key, TTL on ``expires_at``."""
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=STATE_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    client.update_time_to_live(
        TableName=STATE_TABLE, TimeToLiveSpecification={"AttributeName": "expires_at", "Enabled": True}
    )
    return STATE_TABLE
