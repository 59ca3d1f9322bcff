"""Baselines in DynamoDB: one compact item per target, optimistic concurrency, TTL.

Table (template.yaml's ``StateTable``): partition key ``pk`` (string), TTL attribute
``expires_at``. The item of a target::

    pk          "<job>#<instance>"
    version     N   grows by one per save; saves are conditional on it
    expires_at  N   epoch seconds; DynamoDB deletes targets not scraped for ``ttl_seconds``
    scraped_at  N   epoch milliseconds of the scrape the baselines describe
    series      N   number of series (for people reading the table)
    parts       N   how many items hold ``data``
    data        B   zlib-compressed :meth:`TargetBaselines.to_json`

A claim (:meth:`DynamoDBStateStore.claim`) is a small item of its own, so taking and giving
it back costs one write unit each whatever the size of the baselines::

    pk          "#claim#<job>#<instance>"
    owner       S   the invocation holding the target
    until_ms    N   epoch milliseconds when the claim lapses (the holder's deadline)
    expires_at  N   TTL, a day after that

Baselines compress well (series keys repeat their label names): a 10,000-series target is
a few tens of KB. When the compressed data exceeds :data:`PART_BYTES` it is split over extra
items ``<pk>#part<i>`` written in one transaction with the conditional main item, so readers
never see a mix of versions; beyond :data:`MAX_PARTS` parts (a DynamoDB transaction carries
at most 4 MB) saving raises :class:`StateTooLargeError`, naming the target and its size. The
IAM actions needed are GetItem, PutItem and DeleteItem (a transaction needs those of its
operations).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from promwatch.state.errors import StateConflictError, StateCorruptError, StateError, StateTooLargeError
from promwatch.state.model import TargetBaselines
from promwatch.state.record import (
    CLAIM_PREFIX,
    DEFAULT_TTL_SECONDS,
    compress_baselines,
    decompress_baselines,
    target_key,
)
from promwatch.state.store import Loaded

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PART_BYTES = 350_000
"""Compressed bytes per item, leaving room under DynamoDB's 400 KB item limit."""
MAX_PARTS = 11
"""Items per target: their sum stays under the 4 MB a transaction may write."""
CLAIM_TTL_SECONDS = 24 * 3600
"""DynamoDB deletes a claim item this long after it lapsed (a holder that died never released it)."""
REMEMBERED_TARGETS = 1_024
"""Targets whose last baselines a store keeps decoded (see :class:`DynamoDBStateStore`): more
than one invocation scrapes (a fan-out batch: 10 messages of 50 targets), which would otherwise
start the store over before it meets a target again."""
_READ_ATTEMPTS = 3


class DynamoDBStateStore:
    """Target baselines in a DynamoDB table.

    Parameters
    ----------
    table_name
        The table (``PROMWATCH_STATE_TABLE``).
    client
        A boto3 DynamoDB client; None creates one on first use (honours AWS_ENDPOINT_URL).
    ttl_seconds
        ``expires_at`` is set this far after each save.
    clock
        Seconds since the epoch (injectable for tests).

    A warm execution environment scrapes the same targets again and again, so the store keeps
    the baselines it last saved or loaded for each target (up to :data:`REMEMBERED_TARGETS`),
    with their ``version`` and ``scraped_at``. A load still reads the item (another writer may
    have saved since), but when it is still at that version and scrape, the kept baselines are
    returned instead of decoding the data again (decompressing and parsing a 100k-series target
    takes ~50 ms). Loaded baselines are shared: treat them as read-only (translation does).
    """

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        *,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._client_lock = threading.Lock()
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        # pk -> (version, scraped_at as stored, the baselines): the last saved or loaded
        self._remembered: dict[str, tuple[int, str, TargetBaselines]] = {}

    @property
    def client(self) -> DynamoDBClient:
        """The DynamoDB client (created on first use, from botocore: boto3 is not needed)."""
        if self._client is None:
            # A scrape cycle's worker threads load baselines at the same time: one client for all.
            with self._client_lock:
                if self._client is None:
                    from promwatch.coldstart import aws_client

                    self._client = aws_client("dynamodb")
        return self._client

    def _get(self, pk: str) -> dict[str, Any] | None:
        try:
            response = self.client.get_item(TableName=self.table_name, Key={"pk": {"S": pk}}, ConsistentRead=True)
        except (ClientError, BotoCoreError) as exc:
            raise StateError(f"could not load baselines of {pk!r} from table {self.table_name!r}: {_describe(exc)}") from exc
        return response.get("Item")

    def load(self, job: str, instance: str) -> Loaded:
        """See :meth:`promwatch.state.StateStore.load`.

        Raises
        ------
        StateError
            When DynamoDB cannot be read (API error, credentials, endpoint).
        StateCorruptError
            When the stored data cannot be read back.
        StateConflictError
            When the parts of a split item kept changing while being read.
        """
        pk = target_key(job, instance)
        for _ in range(_READ_ATTEMPTS):
            item = self._get(pk)
            if item is None:
                return Loaded(None, 0)
            try:
                loaded = self._read(pk, item)
            except (KeyError, TypeError, ValueError) as exc:
                raise StateCorruptError(
                    f"item {pk!r} of table {self.table_name!r} is not a promwatch baselines item "
                    f"({type(exc).__name__}: {exc}); expected version (N), expires_at (N), parts (N), data (B)"
                ) from exc
            if loaded is not None:
                return loaded
        raise StateConflictError(f"baselines of {pk!r} changed while being read, {_READ_ATTEMPTS} times")

    def _read(self, pk: str, item: dict[str, Any]) -> Loaded | None:
        """The baselines of a main item and its parts; None when a part changed meanwhile."""
        version = int(item["version"]["N"])
        if int(item.get("expires_at", {"N": "0"})["N"]) < self._clock():
            return Loaded(None, version)
        scraped_at = item.get("scraped_at", {"N": ""})["N"]
        remembered = self._remembered.get(pk)
        if remembered is not None and remembered[0] == version and remembered[1] == scraped_at:
            return Loaded(remembered[2], version)  # what this store saved or read at that version
        chunks = [item["data"]["B"]]
        for index in range(1, int(item.get("parts", {"N": "1"})["N"])):
            part = self._get(f"{pk}#part{index}")
            if part is None or int(part["version"]["N"]) != version:
                return None
            chunks.append(part["data"]["B"])
        baselines = decompress_baselines(b"".join(chunks), repr(pk))
        self._remember(pk, version, scraped_at, baselines)
        return Loaded(baselines, version)

    def _remember(self, pk: str, version: int, scraped_at: str, baselines: TargetBaselines) -> None:
        if len(self._remembered) >= REMEMBERED_TARGETS and pk not in self._remembered:
            self._remembered.clear()
        self._remembered[pk] = (version, scraped_at, baselines)

    def save(self, job: str, instance: str, baselines: TargetBaselines, *, expected_version: int) -> int:
        """See :meth:`promwatch.state.StateStore.save`.

        Raises
        ------
        StateError
            When DynamoDB cannot be written (API error, credentials, endpoint).
        StateConflictError
            When the item is not at ``expected_version`` any more.
        StateTooLargeError
            When the compressed baselines need more than :data:`MAX_PARTS` items.
        """
        pk = target_key(job, instance)
        blob = compress_baselines(baselines)
        chunks = [blob[i : i + PART_BYTES] for i in range(0, len(blob), PART_BYTES)]
        if len(chunks) > MAX_PARTS:
            raise StateTooLargeError(
                f"baselines of {pk!r} are {len(blob)} bytes compressed ({len(baselines)} series); "
                f"expected at most {MAX_PARTS * PART_BYTES} (drop series with metric_relabel_configs or split the target)"
            )
        version = expected_version + 1
        expires_at = int(self._clock()) + self.ttl_seconds
        common = {"version": {"N": str(version)}, "expires_at": {"N": str(expires_at)}}
        main: dict[str, Any] = {
            "pk": {"S": pk},
            **common,
            "scraped_at": {"N": str(baselines.scraped_at_ms)},
            "series": {"N": str(len(baselines))},
            "parts": {"N": str(len(chunks))},
            "data": {"B": chunks[0]},
        }
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected_version == 0
            else {
                "ConditionExpression": "#version = :expected",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        )
        conflict = StateConflictError(
            f"baselines of {pk!r} in table {self.table_name!r} are no longer at version {expected_version}"
        )
        try:
            if len(chunks) == 1:
                self.client.put_item(TableName=self.table_name, Item=main, **condition)
            else:
                items: list[Any] = [{"Put": {"TableName": self.table_name, "Item": main, **condition}}]
                items += [
                    {"Put": {"TableName": self.table_name, "Item": {"pk": {"S": f"{pk}#part{i}"}, **common, "data": {"B": c}}}}
                    for i, c in enumerate(chunks[1:], start=1)
                ]
                self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if code != "ConditionalCheckFailedException" and "ConditionalCheckFailed" not in reasons:
                raise StateError(f"could not save baselines of {pk!r} to table {self.table_name!r}: {_describe(exc)}") from exc
            if not self._stored(pk, main):
                raise conflict from exc
        except BotoCoreError as exc:
            raise StateError(f"could not save baselines of {pk!r} to table {self.table_name!r}: {_describe(exc)}") from exc
        self._remember(pk, version, main["scraped_at"]["N"], baselines)
        return version

    def _stored(self, pk: str, main: dict[str, Any]) -> bool:
        """Whether the table holds ``main`` already: a save whose answer was lost (a reset, a
        timeout) is sent again by botocore, and the condition then fails against that same
        write. Same version, scrape and data: this save did it, not a concurrent writer."""
        item = self._get(pk)
        return item is not None and all(item.get(name) == main[name] for name in ("version", "scraped_at", "data"))


    def claim(self, job: str, instance: str, *, owner: str, until_ms: int, now_ms: int) -> bool:
        """See :meth:`promwatch.state.StateStore.claim`.

        Raises
        ------
        StateError
            When DynamoDB cannot be written.
        """
        pk = CLAIM_PREFIX + target_key(job, instance)
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={"pk": {"S": pk}, "owner": {"S": owner}, "until_ms": {"N": str(until_ms)},
                      "expires_at": {"N": str(until_ms // 1000 + CLAIM_TTL_SECONDS)}},
                ConditionExpression="attribute_not_exists(pk) OR #owner = :owner OR until_ms < :now",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}, ":now": {"N": str(now_ms)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StateError(f"could not claim {pk!r} in table {self.table_name!r}: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise StateError(f"could not claim {pk!r} in table {self.table_name!r}: {_describe(exc)}") from exc
        return True

    def release(self, job: str, instance: str, *, owner: str) -> None:
        """See :meth:`promwatch.state.StateStore.release`.

        Raises
        ------
        StateError
            When DynamoDB cannot be written (the claim then lapses at its ``until_ms``).
        """
        pk = CLAIM_PREFIX + target_key(job, instance)
        try:
            self.client.delete_item(
                TableName=self.table_name, Key={"pk": {"S": pk}},
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return  # it lapsed and someone else holds it now, or it is gone
            raise StateError(f"could not release {pk!r} in table {self.table_name!r}: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise StateError(f"could not release {pk!r} in table {self.table_name!r}: {_describe(exc)}") from exc


def _describe(exc: ClientError | BotoCoreError) -> str:
    # A ClientError's text names its error code and operation already; the other botocore
    # errors (NoCredentialsError, EndpointConnectionError, ...) are known by their class.
    return str(exc) if isinstance(exc, ClientError) else f"{type(exc).__name__}: {exc}"

