"""Event inbox on Table storage: the first insert of an event id wins; duplicates are skipped."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from typing import TYPE_CHECKING

from core.adapters import azure_http
from core.adapters.azure_errors import unavailable_as
from core.adapters.identity import CredentialSource, require
from core.models import utcnow
from core.observability import logger

if TYPE_CHECKING:
    from azure.data.tables.aio import TableClient, TableServiceClient

    from core.settings import StorageSettings


def _row_key(event_id: str) -> str:
    """The event id as a Table row key: its SHA-256. Event ids are opaque strings of any length and
    alphabet, and Table keys may not hold / \\ # ? or control characters nor exceed 1 KiB: any
    escaping or truncation can map two ids to one key (one event then taken for the other's duplicate);
    a hash cannot, in practice, and always fits."""
    return hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()


class TableEventInbox:
    """core.ports.EventInbox on Azure Table storage (Azurite locally)."""

    def __init__(self, settings: StorageSettings, credential: CredentialSource | None = None) -> None:
        self._settings = settings
        self._credential_source = credential
        self._service: TableServiceClient | None = None
        self._table: TableClient | None = None
        self._lock = asyncio.Lock()

    def _make_service(self) -> TableServiceClient:
        from azure.data.tables.aio import TableServiceClient

        if self._settings.uses_identity:
            return TableServiceClient(
                self._settings.service_url("table"),
                credential=require(self._credential_source, "Table storage", "STORAGE__CONNECTION_STRING"),
                **azure_http.client_options(),
            )
        return TableServiceClient.from_connection_string(
            self._settings.connection_string, **azure_http.client_options()
        )

    async def _get_table(self) -> TableClient:
        if self._table is not None:
            return self._table
        async with self._lock:
            if self._table is None:
                from azure.core.exceptions import ResourceExistsError

                if self._service is None:
                    self._service = self._make_service()
                service = self._service
                with contextlib.suppress(ResourceExistsError):
                    await service.create_table(self._settings.inbox_table)
                self._table = service.get_table_client(self._settings.inbox_table)
        return self._table

    async def close(self) -> None:
        if self._table is not None:
            await self._table.close()
        if self._service is not None:
            await self._service.close()
        self._table = None
        self._service = None

    async def ready(self) -> None:
        table = await self._get_table()
        async for _ in table.query_entities("PartitionKey eq 'readiness'", results_per_page=1):
            break

    async def claim(self, call_id: str, event_id: str) -> bool:
        from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

        entity = {"PartitionKey": call_id, "RowKey": _row_key(event_id), "ClaimedAt": utcnow().isoformat()}
        async with unavailable_as("the event inbox"):
            table = await self._get_table()
            try:
                await table.create_entity(entity)
            except ResourceExistsError:
                return False
            except ResourceNotFoundError:
                # The table is gone (Azurite restarted without its data, or it was deleted): create it
                # again, once, and claim again.
                logger().warning("the inbox table %s is gone: creating it again", self._settings.inbox_table)
                await self._forget(table)
                try:
                    await (await self._get_table()).create_entity(entity)
                except ResourceExistsError:
                    return False
            return True

    async def _forget(self, table: TableClient) -> None:
        async with self._lock:
            if self._table is table:
                self._table = None

    async def release(self, call_id: str, event_id: str) -> None:
        async with unavailable_as("the event inbox"):
            table = await self._get_table()
            # Deleting a missing entity is a no-op for the SDK, so a double release is harmless.
            await table.delete_entity(partition_key=call_id, row_key=_row_key(event_id))
