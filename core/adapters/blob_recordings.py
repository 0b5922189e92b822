"""Recording files in Azure Blob Storage (Azurite locally): read back for the report.

ACS writes them (bring-your-own-storage, with its managed identity); the app reads them with the
storage account of STORAGE__CONNECTION_STRING, in the container named by RECORDINGS__CONTAINER_URL.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from core.adapters.azure_errors import unavailable_as
from core.adapters.identity import CredentialSource, require
from core.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from azure.storage.blob.aio import ContainerClient

    from core.settings import RecordingSettings, StorageSettings


class BlobRecordingStore:
    """core.ports.RecordingStore on a blob container."""

    def __init__(
        self,
        storage: StorageSettings,
        recordings: RecordingSettings,
        credential: CredentialSource | None = None,
    ) -> None:
        self._storage = storage
        self._credential_source = credential
        self._recordings = recordings
        self._container: ContainerClient | None = None
        self._lock = asyncio.Lock()

    async def _get_container(self) -> ContainerClient:
        if self._container is None:
            async with self._lock:
                if self._container is None:
                    from azure.storage.blob.aio import ContainerClient

                    if self._storage.uses_identity:
                        # The container's own URL: ACS records into it, the identity reads it back.
                        self._container = ContainerClient.from_container_url(
                            self._recordings.container_url,
                            credential=require(
                                self._credential_source, "Blob storage", "STORAGE__CONNECTION_STRING"
                            ),
                        )
                    else:
                        self._container = ContainerClient.from_connection_string(
                            self._storage.connection_string, self._recordings.container_name
                        )
        return self._container

    async def read(self, blob_name: str, *, max_bytes: int) -> bytes:
        from azure.core.exceptions import ResourceNotFoundError

        container = await self._get_container()
        async with unavailable_as("the recordings container"):
            blob = container.get_blob_client(blob_name)
            try:
                properties = await blob.get_blob_properties()
                if properties.size > max_bytes:
                    raise InvalidInputError(
                        f"the recording is {properties.size} bytes, more than the {max_bytes} served"
                    )
                downloader = await blob.download_blob()
                return await downloader.readall()
            except ResourceNotFoundError:
                raise NotFoundError("the recording file is not in the recordings container") from None

    async def close(self) -> None:
        if self._container is not None:
            await self._container.close()
        self._container = None
