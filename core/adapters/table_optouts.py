"""Opt-outs on Table storage: one entity per number that must never be called (core.ports.OptOutStore).

Partition ``optout``, row key the E.164 number's digits (``+`` is allowed in keys, but digits alone
cannot be written two ways). The table lives in the same account as the event inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from core.adapters.azure_errors import unavailable_as
from core.adapters.identity import CredentialSource, require
from core.models import utcnow

if TYPE_CHECKING:
    from azure.data.tables.aio import TableClient, TableServiceClient

    from core.settings import StorageSettings

PARTITION = "optout"


def _row_key(phone_number: str) -> str:
    return "".join(ch for ch in phone_number if ch.isdigit())


class TableOptOutStore:
    def __init__(
        self, settings: StorageSettings, table_name: str, credential: CredentialSource | None = None
    ) -> None:
        self._settings = settings
        self._table_name = table_name
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
            )
        return TableServiceClient.from_connection_string(self._settings.connection_string)

    async def _get_table(self) -> TableClient:
        if self._table is not None:
            return self._table
        async with self._lock:
            if self._table is None:
                from azure.core.exceptions import ResourceExistsError

                if self._service is None:
                    self._service = self._make_service()
                with contextlib.suppress(ResourceExistsError):
                    await self._service.create_table(self._table_name)
                self._table = self._service.get_table_client(self._table_name)
        return self._table

    async def add(self, phone_number: str, source: str) -> None:
        from azure.data.tables import UpdateMode

        entity = {
            "PartitionKey": PARTITION,
            "RowKey": _row_key(phone_number),
            "PhoneNumber": phone_number,
            "Source": source[:200],
            "OptedOutAt": utcnow().isoformat(),
        }
        async with unavailable_as("the opt-out table"):
            await (await self._get_table()).upsert_entity(entity, mode=UpdateMode.REPLACE)

    async def remove(self, phone_number: str) -> bool:
        if not await self.contains(phone_number):
            return False
        async with unavailable_as("the opt-out table"):
            await (await self._get_table()).delete_entity(
                partition_key=PARTITION, row_key=_row_key(phone_number)
            )
        return True

    async def contains(self, phone_number: str) -> bool:
        from azure.core.exceptions import ResourceNotFoundError

        async with unavailable_as("the opt-out table"):
            try:
                await (await self._get_table()).get_entity(
                    partition_key=PARTITION, row_key=_row_key(phone_number)
                )
            except ResourceNotFoundError:
                return False
        return True

    async def close(self) -> None:
        if self._table is not None:
            await self._table.close()
        if self._service is not None:
            await self._service.close()
        self._table = None
        self._service = None
