"""Call store on Cosmos DB: one document per call, partitioned by call id, ETag-conditional writes."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from core.adapters import azure_http
from core.adapters.azure_errors import unavailable_as
from core.adapters.identity import CredentialSource, require
from core.errors import ConcurrencyError, InvalidInputError, NotFoundError
from core.models import Call, utcnow
from core.observability import logger
from core.ports import CallPage, Mutation

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy, CosmosClient

    from core.settings import CosmosSettings

T = TypeVar("T")
MAX_WRITE_ATTEMPTS = 60
# Ours are ~100 characters (a timestamp and a call id); anything much longer was not made here.
MAX_CURSOR_LENGTH = 512
# The report list orders by (created_at, call_id): Cosmos needs a composite index for that.
INDEXING_POLICY: dict[str, Any] = {
    "indexingMode": "consistent",
    "includedPaths": [{"path": "/*"}],
    "excludedPaths": [{"path": "/messages/*"}, {"path": '/"_etag"/?'}],
    "compositeIndexes": [
        [{"path": "/created_at", "order": "descending"}, {"path": "/call_id", "order": "descending"}],
        [{"path": "/created_at", "order": "ascending"}, {"path": "/call_id", "order": "ascending"}],
    ],
}


def _to_document(call: Call) -> dict[str, Any]:
    document = call.model_dump(mode="json")
    document["id"] = call.call_id
    # Fixed-width timestamps so string comparison in queries is chronological.
    document["created_at"] = _iso(call.created_at)
    # What the call-back timer queries (core.models.reminder): fixed-width UTC text, or null.
    document["callback_due"] = call.callback_due
    return document


def _from_document(document: dict[str, Any]) -> Call:
    call = Call.model_validate({k: v for k, v in document.items() if not k.startswith("_") and k != "id"})
    return call.with_etag(document.get("_etag"))


def _encode_cursor(call: Call) -> str:
    raw = json.dumps([_iso(call.created_at), call.call_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(token: str) -> tuple[str, str]:
    try:
        if len(token) > MAX_CURSOR_LENGTH:
            raise ValueError
        padded = token + "=" * (-len(token) % 4)
        created_at, call_id = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(created_at, str) or not isinstance(call_id, str):
            raise ValueError
        created_at.encode(), call_id.encode()  # lone surrogates cannot go into a query
        return created_at, call_id
    except (ValueError, TypeError, RecursionError):
        raise InvalidInputError(
            "continuation token is malformed; use the one a previous page returned"
        ) from None


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _exists(container: ContainerProxy) -> bool:
    from azure.cosmos.exceptions import CosmosResourceNotFoundError

    try:
        await container.read()
    except CosmosResourceNotFoundError:
        return False
    return True


class CosmosCallStore:
    """core.ports.CallStore on Cosmos DB (azure-cosmos aio SDK)."""

    def __init__(self, settings: CosmosSettings, credential: CredentialSource | None = None) -> None:
        self._settings = settings
        self._credential_source = credential
        self._client: CosmosClient | None = None
        self._container: ContainerProxy | None = None
        self._lock = asyncio.Lock()

    def _make_client(self) -> CosmosClient:
        from azure.cosmos.aio import CosmosClient

        # A key, or Entra ID (data-plane RBAC: Cosmos DB Built-in Data Contributor).
        return CosmosClient(
            self._settings.endpoint,
            credential=self._settings.key or require(self._credential_source, "Cosmos DB", "COSMOS__KEY"),
            enable_endpoint_discovery=self._settings.endpoint_discovery,
            transport=azure_http.transport(),
        )

    async def _get_container(self) -> ContainerProxy:
        if self._container is not None:
            return self._container
        async with self._lock:
            if self._container is None:
                from azure.cosmos import PartitionKey

                if self._client is None:
                    self._client = self._make_client()
                database = await self._client.create_database_if_not_exists(self._settings.database)
                self._container = await database.create_container_if_not_exists(
                    id=self._settings.container,
                    partition_key=PartitionKey(path="/call_id"),
                    indexing_policy=INDEXING_POLICY,
                )
        return self._container

    async def _on_container(self, operation: Callable[[ContainerProxy], Awaitable[T]]) -> T:
        """Run an operation on the container; if it fails with 404 because the container (or its
        database) is gone, as after a restart of the emulator or a deletion, create them again, once,
        and run it again. A 404 of the item itself propagates."""
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        container = await self._get_container()
        try:
            return await operation(container)
        except CosmosResourceNotFoundError:
            if await _exists(container):
                raise  # the item is what is missing
        logger().warning("the Cosmos DB container %s is gone: creating it again", self._settings.container)
        async with self._lock:
            if self._container is container:
                self._container = None
        return await operation(await self._get_container())

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        self._client = None
        self._container = None

    async def ready(self) -> None:
        await self._on_container(lambda c: c.read())

    async def create(self, call: Call) -> Call:
        from azure.cosmos.exceptions import CosmosResourceExistsError

        document = _to_document(call)
        async with unavailable_as("the call store"):
            try:
                written = await self._on_container(lambda c: c.create_item(document))
            except CosmosResourceExistsError:
                raise ConcurrencyError(f"call {call.call_id} exists already") from None
        return call.with_etag(written.get("_etag") if isinstance(written, dict) else None)

    async def _read(self, call_id: str) -> tuple[Call, str] | None:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        async with unavailable_as("the call store"):
            try:
                document = await self._on_container(
                    lambda c: c.read_item(item=call_id, partition_key=call_id)
                )
            except CosmosResourceNotFoundError:
                return None
        return _from_document(document), str(document["_etag"])

    async def get(self, call_id: str) -> Call | None:
        found = await self._read(call_id)
        return found[0] if found else None

    async def update(self, call_id: str, mutation: Mutation, *, current: Call | None = None) -> Call:
        from azure.core import MatchConditions
        from azure.cosmos.exceptions import CosmosAccessConditionFailedError

        for attempt in range(MAX_WRITE_ATTEMPTS):
            if attempt == 0 and current is not None and current.etag and current.call_id == call_id:
                # The unit of work read this call already: apply to (a copy of) it, no second read.
                call, etag = current.model_copy(deep=True), current.etag
            else:
                found = await self._read(call_id)
                if found is None:
                    raise NotFoundError(f"call {call_id} does not exist")
                call, etag = found
            if mutation(call) is False:
                return call
            call.updated_at = utcnow()
            try:
                document = _to_document(call)
                async with unavailable_as("the call store"):
                    written = await self._on_container(
                        lambda c: c.replace_item(
                            item=call_id,
                            body=document,  # noqa: B023 - awaited within this iteration
                            etag=etag,  # noqa: B023
                            match_condition=MatchConditions.IfNotModified,
                        )
                    )
                return call.with_etag(written.get("_etag") if isinstance(written, dict) else None)
            except CosmosAccessConditionFailedError:
                # Someone else wrote first: back off a little (jittered) and re-apply on fresh state.
                await asyncio.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
        raise ConcurrencyError(f"call {call_id} kept changing; gave up after {MAX_WRITE_ATTEMPTS} attempts")

    async def _query(self, query: str, parameters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        async def run(container: ContainerProxy) -> list[dict[str, Any]]:
            return [item async for item in container.query_items(query=query, parameters=parameters)]

        async with unavailable_as("the call store"):
            return await self._on_container(run)

    async def latest_for_phone_number(self, phone_number: str, since: datetime) -> Call | None:
        documents = await self._query(
            # A ring that was never answered (ringing, missed) is not a case to resume.
            "SELECT * FROM c WHERE c.initiate.phone_number = @phone AND c.created_at >= @since "
            "AND c.status != 'ringing' AND c.status != 'missed' ORDER BY c.created_at DESC",
            [{"name": "@phone", "value": phone_number}, {"name": "@since", "value": _iso(since)}],
        )
        return _from_document(documents[0]) if documents else None

    async def find_by_server_call_id(self, server_call_id: str) -> Call | None:
        documents = await self._query(
            "SELECT * FROM c WHERE ARRAY_CONTAINS(c.server_call_ids, @id) ORDER BY c.created_at DESC",
            [{"name": "@id", "value": server_call_id}],
        )
        return _from_document(documents[0]) if documents else None

    async def due_callbacks(self, now: datetime, limit: int) -> list[Call]:
        documents = await self._query(
            # callback_due is fixed-width UTC text (core.models.reminder.utc_key): string order is time.
            "SELECT TOP @limit * FROM c WHERE IS_STRING(c.callback_due) AND c.callback_due <= @now "
            "ORDER BY c.callback_due ASC",
            [{"name": "@limit", "value": limit}, {"name": "@now", "value": _iso(now)}],
        )
        return [_from_document(d) for d in documents]

    async def list(
        self, *, phone_number: str | None = None, limit: int = 20, continuation: str | None = None
    ) -> CallPage:
        # Keyset paging on (created_at, call_id): stable under inserts, no server cursor to keep.
        clauses: list[str] = []
        parameters: list[dict[str, Any]] = [{"name": "@limit", "value": limit + 1}]
        if phone_number:
            clauses.append("c.initiate.phone_number = @phone")
            parameters.append({"name": "@phone", "value": phone_number})
        if continuation:
            created_at, call_id = _decode_cursor(continuation)
            clauses.append("(c.created_at < @ts OR (c.created_at = @ts AND c.call_id < @id))")
            parameters += [{"name": "@ts", "value": created_at}, {"name": "@id", "value": call_id}]
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        documents = await self._query(
            # Only fixed clauses are joined here; every value is a query parameter.
            f"SELECT TOP @limit * FROM c {where}ORDER BY c.created_at DESC, c.call_id DESC",  # noqa: S608
            parameters,
        )
        calls = [_from_document(d) for d in documents[:limit]]
        next_token = _encode_cursor(calls[-1]) if len(documents) > limit and calls else None
        return CallPage(calls=calls, continuation=next_token)
