"""Event inbox on Table storage: the first insert of an event id wins; duplicates are skipped."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from core.adapters.azure_errors import unavailable_as
from core.models import utcnow

if TYPE_CHECKING:
    from azure.data.tables.aio import TableClient, TableServiceClient

    from core.settings import StorageSettings


def _row_key(event_id: str) -> str:
    # Table keys may not contain / \ # ? or control characters; event ids are opaque strings.
    return "".join(c if c.isalnum() or c in "-_.:" else f"%{ord(c):02x}" for c in event_id)[:1000]


class TableEventInbox:
    """core.ports.EventInbox on Azure Table storage (Azurite locally)."""

    def __init__(self, settings: StorageSettings) -> None:
        self._settings = settings
        self._service: TableServiceClient | None = None
        self._table: TableClient | None = None
        self._lock = asyncio.Lock()

    async def _get_table(self) -> TableClient:
        if self._table is not None:
            return self._table
        async with self._lock:
            if self._table is None:
                from azure.core.exceptions import ResourceExistsError
                from azure.data.tables.aio import TableServiceClient

                service = TableServiceClient.from_connection_string(self._settings.connection_string)
                self._service = service
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
        from azure.core.exceptions import ResourceExistsError

        async with unavailable_as("the event inbox"):
            table = await self._get_table()
            try:
                await table.create_entity(
                    {"PartitionKey": call_id, "RowKey": _row_key(event_id), "ClaimedAt": utcnow().isoformat()}
                )
            except ResourceExistsError:
                return False
            return True

    async def release(self, call_id: str, event_id: str) -> None:
        async with unavailable_as("the event inbox"):
            table = await self._get_table()
            # Deleting a missing entity is a no-op for the SDK, so a double release is harmless.
            await table.delete_entity(partition_key=call_id, row_key=_row_key(event_id))
